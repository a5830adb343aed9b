// A client that streams multipart bodies part by part, as a phone sends a large upload (never
// whole in memory). postMultipartApart sends from a worker thread: a client with an event loop
// of its own, as a real one has, so the server's way of closing a connection decides whether
// the client reads the answer or fails writing (EPIPE), not the order of one shared loop.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import fs from "node:fs";

const BOUNDARY = "----douyin-test-multipart";

export type Part = { name: string; value: string } | { name: string; file: FileSource };
/** A file's bytes as they are sent: a size of zeros, or a file's bytes, optionally held halfway until `hold` settles. */
export type FileSource = { zeros: number } | { path: string; hold?: Promise<void> };

const fieldHead = (name: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`;
const fileHead = (name: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`;

async function* fileBytes(source: FileSource): AsyncGenerator<Uint8Array> {
  if ("zeros" in source) {
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < source.zeros; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, source.zeros - sent));
    return;
  }
  const bytes = fs.readFileSync(source.path);
  const half = Math.floor(bytes.length / 2);
  yield bytes.subarray(0, half);
  await source.hold;
  yield bytes.subarray(half);
}

/** A multipart body written part by part as it is sent (never whole in memory), in the order given. */
function multipartStream(parts: Part[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const part of parts) {
      if ("value" in part) yield encoder.encode(`${fieldHead(part.name)}${part.value}\r\n`);
      else {
        yield encoder.encode(fileHead(part.name));
        yield* fileBytes(part.file);
        yield encoder.encode("\r\n");
      }
    }
    yield encoder.encode(`--${BOUNDARY}--\r\n`);
  }
  const iterator = body();
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

/** POSTs a streamed multipart body; the HTTP status and parsed JSON, or the error the client saw (a reset, EPIPE). */
export async function postMultipart(url: string, parts: Part[], headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, ...headers },
    body: multipartStream(parts),
    duplex: "half",
  } as RequestInit);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

export interface Outcome {
  status?: number;
  body?: Record<string, any>;
  /** What the client saw instead of an answer (e.g. EPIPE, ECONNRESET). */
  failure?: string;
}

/** Sends the same request `rounds` times, one after another, from a worker thread. */
export function postMultipartApart(url: string, parts: Part[], headers: Record<string, string>, rounds: number): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { url, parts, headers, rounds } });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

async function sendRounds(request: { url: string; parts: Part[]; headers: Record<string, string>; rounds: number }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let round = 0; round < request.rounds; round++) {
    try {
      const { status, body } = await postMultipart(request.url, request.parts, request.headers);
      outcomes.push({ status, body });
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause;
      outcomes.push({ failure: String(cause?.code ?? cause ?? error) });
    }
  }
  return outcomes;
}

if (!isMainThread && workerData?.url) void sendRounds(workerData).then((outcomes) => parentPort!.postMessage(outcomes));
