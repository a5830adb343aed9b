// File uploads over GraphQL (the GraphQL multipart request spec): receiving them in a Fastify
// route with graphql-upload-minimal, and sending them on as a streamed multipart body, so a
// file crosses every hop without being held whole in memory.
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationHookHandler } from "fastify";
import { processRequest, Upload, type FileUpload } from "graphql-upload-minimal";
import type { AppError } from "../lib/errors";
import { answerUnreadBody } from "../platform/http";
import type { Metrics } from "../platform/metrics";

/** Who may send a file, asked before a byte of the body is read. */
export interface UploadAdmission {
  /** The caller's token, their uploads in flight…; an AppError refuses the upload. */
  check(request: FastifyRequest, reply: FastifyReply): Promise<AppError | undefined>;
  /** How much of a refused body is read and dropped after the answer (see answerUnreadBody). */
  drainBytes: number;
  metrics: Pick<Metrics, "httpRequests">;
}

const REFUSAL_STATUS: Partial<Record<AppError["code"], number>> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429 };

/**
 * Lets `app` accept multipart bodies on routes that use the returned preValidation hook: the
 * body stays unread until the hook hands it to graphql-upload-minimal, which turns each file
 * into an Upload in the operation's variables.
 */
export function acceptGraphQLUploads(app: FastifyInstance, maxFileBytes: number, admission?: UploadAdmission): preValidationHookHandler {
  app.addContentTypeParser("multipart/form-data", (_request, _payload, done) => done(null));
  // busboy silently truncates a file at its limit; one byte past ours lets the receiving end
  // (media/upload.ts) see that the file was too large instead of accepting a truncated one.
  const limits = { maxFileSize: maxFileBytes + 1, maxFiles: 1 };
  return async (request, reply) => {
    if (!request.headers["content-type"]?.startsWith("multipart/form-data")) return;
    const refusal = await admission?.check(request, reply);
    if (refusal) {
      request.log.info({ code: refusal.code }, `upload refused before its body was read: ${refusal.message}`);
      const retryAfter = refusal.details.retryAfter;
      if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      answerUnreadBody(
        request,
        reply,
        { status: REFUSAL_STATUS[refusal.code] ?? 400, body: { errors: [{ message: refusal.message, extensions: refusal.extensions }] } },
        admission!,
      );
      return;
    }
    request.body = await processRequest(request.raw, reply.raw, limits);
  };
}

export interface OutgoingFile {
  /** Where the file sits in the operation, e.g. `variables.file`. */
  path: string;
  filename: string;
  mimetype: string;
  stream(): Readable;
}

/** Finds Upload values (or their promises) in variables; the gateway builds them without prototypes. */
export function findUploads(value: unknown, path = "variables", found: { path: string; upload: Upload | Promise<FileUpload> }[] = []) {
  if (value instanceof Upload || value instanceof Promise) found.push({ path, upload: value as Upload });
  else if (Array.isArray(value)) value.forEach((item, index) => findUploads(item, `${path}.${index}`, found));
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) findUploads(item, `${path}.${key}`, found);
  }
  return found;
}

/**
 * The stream of a received file, to read instead of `createReadStream()`: when the parser hits
 * its size limit, graphql-upload-minimal unpipes the file stream from every consumer and it
 * never ends for them; this stream fails there instead, with the error `tooLarge` makes.
 */
export function receivedFileStream(file: FileUpload, tooLarge: () => Error): Readable {
  const source = file.createReadStream();
  const forward = new PassThrough();
  source.once("limit", () => {
    source.unpipe(forward);
    forward.destroy(tooLarge());
  });
  source.once("error", (error) => forward.destroy(error));
  return source.pipe(forward);
}

/** Resolves an Upload found by findUploads into the file it carries. */
export async function fileOf(upload: Upload | Promise<FileUpload>): Promise<FileUpload> {
  return upload instanceof Upload ? (upload.file ?? (await upload.promise)) : upload;
}

/** Replaces the values at the given dotted paths with null (the spec's placeholder for a file). */
function withNullsAt(operation: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(operation, (_key, value) => (value instanceof Upload || value instanceof Promise ? null : value)));
  for (const path of paths) {
    const keys = path.split(".");
    let target = copy;
    for (const key of keys.slice(0, -1)) target = target?.[key];
    if (target) target[keys.at(-1)!] = null;
  }
  return copy;
}

/** A multipart request body streaming the files after the operation and its map. */
export function multipartBody(operation: Record<string, unknown>, files: OutgoingFile[]): { contentType: string; body: Readable } {
  const boundary = `----douyin${randomBytes(12).toString("hex")}`;
  const map = Object.fromEntries(files.map((file, index) => [String(index), [file.path]]));
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: application/json\r\n\r\n${value}\r\n`;
  async function* parts() {
    yield Buffer.from(
      field(
        "operations",
        JSON.stringify(
          withNullsAt(
            operation,
            files.map((f) => f.path),
          ),
        ),
      ),
    );
    yield Buffer.from(field("map", JSON.stringify(map)));
    for (const [index, file] of files.entries()) {
      const name = file.filename.replace(/["\r\n\\]/g, "_");
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${index}"; filename="${name}"\r\nContent-Type: ${file.mimetype}\r\n\r\n`,
      );
      for await (const chunk of file.stream()) yield chunk as Buffer;
      yield Buffer.from("\r\n");
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Readable.from(parts()) };
}
