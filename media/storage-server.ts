// The embedded S3-compatible object storage for `npm start` and tests (never used when
// S3_ENDPOINT is set): s3rver keeps objects on disk under DATA_DIR/s3, behind a small front of
// ours on the configured port, because phones fetch play_url/cover_url from it directly and
// s3rver itself has no access control (it lists, writes and deletes for anyone, verifies no
// Signature V4, stores the content type an uploader claims and joins `..` in keys onto its
// data directory).
//
// The front is plain node:http in front of s3rver, which listens on an ephemeral port of
// 127.0.0.1 only. A front rather than Koa middleware inside s3rver: the rules then hold before
// any s3rver code runs (its router decodes keys, its middleware parses signatures its own way),
// and the front is one small file, kept when s3rver is replaced. For every request it:
// - refuses any bucket or key that could leave the data directory (a decoded segment that is
//   empty, `.` or `..`, a backslash or NUL) with 400, before anything else;
// - lets anonymous clients GET and HEAD objects under videos/ and covers/ only (with their query
//   string dropped: no subresources, no response-header overrides), and refuses the rest with 403;
// - verifies a signed request (s3-signature.ts: header-signed or presigned, against
//   S3_ACCESS_KEY/S3_SECRET_KEY) and its payload hash, then passes it on without its signature;
// - answers objects under videos/ and covers/ as video/mp4 and image/jpeg (what the media
//   pipeline stores there), whatever type was stored, and every answer with nosniff, no
//   referrer, and a CSP that runs nothing should a browser open a file as a page (it still
//   shows the video or picture itself).
// Range requests pass through untouched (206), as phone players need.
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import helmet from "helmet";
import S3rver from "s3rver";
import type { Config } from "../platform/config";
import { longestExchangeMs } from "../platform/http";
import type { Logger } from "../platform/logger";
import type { RunningService } from "../platform/http";
import { PRESIGN_PARAMETERS, S3AuthError, UNSIGNED_PAYLOAD, verifyRequest } from "./s3-signature";
import { MediaStorage } from "./storage";

/** What the media pipeline stores under each public prefix, and so the only type served from it. */
const PUBLIC_KINDS: Record<string, string> = { videos: "video/mp4", covers: "image/jpeg" };
/** S3's bucket naming rules (lower case, 3 to 63 characters, no leading or trailing dot or dash). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Longest a client may take to send its request headers (as on the other ports). */
const HEADERS_TIMEOUT_MS = 15_000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Request headers that belong to one connection, or to the signature the front has checked. */
const NOT_FORWARDED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "authorization",
]);
const NOT_RETURNED = new Set(["connection", "keep-alive", "transfer-encoding"]);

/**
 * Every answer, a refusal included: never sniffed, no referrer, and, opened as a page, a
 * sandbox that runs nothing. Media is fetched from other origins (the web client, apps), so it
 * is cross-origin readable; HSTS belongs to whatever terminates TLS in front of this.
 */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    // A video or picture opened on its own is a document made by the browser, which must still
    // show the file itself (media-src/img-src 'self') and style its player ('unsafe-inline').
    directives: {
      defaultSrc: ["'none'"],
      mediaSrc: ["'self'"],
      imgSrc: ["'self'"],
      styleSrc: ["'unsafe-inline'"],
      sandbox: ["allow-same-origin"],
    },
  },
  crossOriginResourcePolicy: { policy: "cross-origin" },
  // Asked of some answers and not others, Chromium warns on every page.
  originAgentCluster: false,
  referrerPolicy: { policy: "no-referrer" },
  strictTransportSecurity: false,
  xFrameOptions: { action: "deny" },
});

interface Target {
  bucket?: string;
  /** Decoded; undefined for a bucket or the service. */
  key?: string;
}

class StorageRefusal extends S3AuthError {}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new StorageRefusal(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** Throws unless every segment of a decoded key is a plain name. */
function checkKey(key: string): void {
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === ".." || segment.includes("\\") || segment.includes("\0")) {
      throw new StorageRefusal(400, "InvalidArgument", "Object keys may not hold empty, '.' or '..' segments, backslashes or NUL.");
    }
  }
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes(".."))
    throw new StorageRefusal(400, "InvalidBucketName", "The specified bucket is not valid.");
}

/** Bucket and key of a path-style request (`/bucket/key...`), refused when they could escape. */
function parseTarget(rawPath: string): Target {
  if (!rawPath.startsWith("/")) throw new StorageRefusal(400, "InvalidURI", "Couldn't parse the specified URI.");
  const [rawBucket = "", ...rawKey] = rawPath.slice(1).split("/");
  if (rawBucket === "" && rawKey.length === 0) return {};
  const bucket = decodeComponent(rawBucket);
  checkBucket(bucket);
  // `/bucket` and `/bucket/` both name the bucket.
  if (rawKey.length === 0 || (rawKey.length === 1 && rawKey[0] === "")) return { bucket };
  const key = decodeComponent(rawKey.join("/"));
  checkKey(key);
  return { bucket, key };
}

/** `x-amz-copy-source` names another object: it may not escape either. */
function checkCopySource(value: string | string[] | undefined): void {
  if (value === undefined) return;
  const source = decodeComponent(String(value).split("?")[0]!).replace(/^\//, "");
  const slash = source.indexOf("/");
  if (slash === -1) throw new StorageRefusal(400, "InvalidArgument", "x-amz-copy-source must name a bucket and a key.");
  checkBucket(source.slice(0, slash));
  checkKey(source.slice(slash + 1));
}

const publicKind = (key: string | undefined) => (key === undefined ? undefined : PUBLIC_KINDS[key.split("/")[0]!]);

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sendError(response: http.ServerResponse, method: string | undefined, error: S3AuthError, resource: string): void {
  if (response.headersSent) return void response.destroy();
  const body =
    method === "HEAD"
      ? ""
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>` +
        `<Resource>${xmlEscape(resource)}</Resource></Error>`;
  response.writeHead(error.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

/** Reads a body whose hash was signed, up to `limit` bytes, and checks it. */
async function readSignedBody(request: http.IncomingMessage, sha256: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new StorageRefusal(
        413,
        "EntityTooLarge",
        `A request with a signed payload may carry at most ${limit} bytes; upload larger objects through a presigned URL.`,
      );
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (createHash("sha256").update(body).digest("hex") !== sha256.toLowerCase()) {
    throw new StorageRefusal(
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return body;
}

export async function startStorageServer(config: Config, log: Logger, port = config.storage.port): Promise<RunningService> {
  fs.mkdirSync(config.storage.dataDir, { recursive: true });
  const backend = new S3rver({ address: "127.0.0.1", port: 0, directory: config.storage.dataDir, silent: true, configureBuckets: [] });
  const backendPort = ((await backend.run()) as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  const credentials = { accessKey: config.storage.accessKey, secretKey: config.storage.secretKey };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const url = request.url ?? "/";
    const queryStart = url.indexOf("?");
    const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? "" : url.slice(queryStart + 1);
    const method = request.method ?? "GET";
    const target = parseTarget(rawPath);
    const verdict = verifyRequest({ method, rawPath, rawQuery, headers: request.headers }, credentials);

    let body: Buffer | undefined;
    let forwardQuery = "";
    if (!verdict.signed) {
      const readable =
        (method === "GET" || method === "HEAD") && target.bucket === config.storage.bucket && publicKind(target.key) !== undefined;
      if (!readable) throw new StorageRefusal(403, "AccessDenied", "Access Denied");
      body = Buffer.alloc(0);
    } else {
      if (method === "POST") {
        // Browser form uploads and multi-object deletes carry their keys in the body: not offered.
        throw new StorageRefusal(501, "NotImplemented", "POST requests are not supported by the embedded storage.");
      }
      checkCopySource(request.headers["x-amz-copy-source"]);
      forwardQuery = rawQuery
        .split("&")
        .filter((part) => part !== "" && !PRESIGN_PARAMETERS.has(decodeComponent(part.split("=")[0]!)))
        .join("&");
      if (/^[0-9a-f]{64}$/i.test(verdict.payloadHash)) {
        body = await readSignedBody(request, verdict.payloadHash, config.limits.requestBodyBytes);
      } else if (verdict.payloadHash !== UNSIGNED_PAYLOAD) {
        throw new StorageRefusal(
          501,
          "NotImplemented",
          `x-amz-content-sha256 ${verdict.payloadHash} is not supported; sign the payload or use UNSIGNED-PAYLOAD.`,
        );
      }
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (NOT_FORWARDED.has(name) || (!verdict.signed && name.startsWith("x-amz-"))) continue;
      headers[name] = value;
    }
    if (body) headers["content-length"] = body.length;
    headers.host = `127.0.0.1:${backendPort}`;
    const forcedType = method === "GET" || method === "HEAD" ? publicKind(target.key) : undefined;

    await new Promise<void>((resolve, reject) => {
      const onward = http.request(
        { host: "127.0.0.1", port: backendPort, method, path: forwardQuery ? `${rawPath}?${forwardQuery}` : rawPath, headers, agent },
        (answer) => {
          const answerHeaders: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) if (!NOT_RETURNED.has(name)) answerHeaders[name] = value;
          const status = answer.statusCode ?? 502;
          if (forcedType && (status === 200 || status === 206 || status === 304)) {
            answerHeaders["content-type"] = forcedType;
            delete answerHeaders["content-disposition"];
            delete answerHeaders["content-encoding"];
          }
          response.writeHead(status, answerHeaders);
          answer.pipe(response);
          answer.once("end", resolve);
          answer.once("error", reject);
        },
      );
      onward.once("error", reject);
      // The client hung up: stop reading from s3rver (or writing to it).
      response.once("close", () => {
        if (!response.writableFinished) onward.destroy();
        resolve();
      });
      if (body) {
        request.resume();
        onward.end(body);
      } else {
        request.pipe(onward);
      }
    });
  };

  const front = http.createServer((request, response) => {
    securityHeaders(request, response, () => {
      handle(request, response).catch((error: unknown) => {
        const resource = (request.url ?? "/").split("?")[0]!;
        if (error instanceof S3AuthError) {
          log.debug({ method: request.method, resource, code: error.code }, "storage request refused");
          request.resume();
          return sendError(response, request.method, error, resource);
        }
        log.warn({ err: error, method: request.method, resource }, "embedded object storage failed a request");
        sendError(response, request.method, new S3AuthError(503, "ServiceUnavailable", "Please reduce your request rate."), resource);
      });
    });
  });
  front.headersTimeout = HEADERS_TIMEOUT_MS;
  front.requestTimeout = longestExchangeMs(config);
  front.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  try {
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, config.host, () => resolve());
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  const frontPort = (front.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${frontPort}`;
  const close = async () => {
    await new Promise<void>((resolve) => {
      front.close(() => resolve());
      front.closeIdleConnections();
    });
    agent.destroy();
    await backend.close();
  };
  try {
    await new MediaStorage({ storage: { ...config.storage, endpoint: url } }).ensureBucket();
  } catch (error) {
    await close();
    throw error;
  }
  log.info({ port: frontPort, directory: config.storage.dataDir }, "embedded object storage listening");
  return { name: "storage", url, port: frontPort, close };
}
