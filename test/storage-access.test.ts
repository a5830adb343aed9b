// The embedded object storage faces the network (phones fetch play_url and cover_url from it),
// so strangers may only read videos and covers; listing, writing and deleting need the storage
// credentials (Signature Version 4, in a header or a presigned URL), no key reaches outside the
// data directory, and objects are served with the type their kind says, never an uploader's.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "minio";
import { startStorageServer } from "../media/storage-server";
import { MediaStorage } from "../media/storage";
import { loadConfig, type Config } from "../platform/config";
import { createLogger } from "../platform/logger";
import type { RunningService } from "../platform/http";

const ACCESS_KEY = "storage-test-access";
const SECRET_KEY = "storage-test-secret-key";
const BUCKET = "douyin-media";
const VIDEO_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
const XSS = "<script>document.title = 'owned'</script>";

let outer: string;
let storage: RunningService;
let config: Config;
let client: Client;

function clientWith(secretKey: string): Client {
  const endpoint = new URL(storage.url);
  return new Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port),
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey,
    region: config.storage.region,
    pathStyle: true,
  });
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with its path exactly as written (fetch would normalise dot segments). */
function raw(method: string, requestPath: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(storage.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path: requestPath, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

const exists = (key: string) => new MediaStorage({ storage: { ...config.storage, endpoint: storage.url } }).exists(key);

before(async () => {
  outer = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-storage-"));
  const dataDir = path.join(outer, "data");
  const env = { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY };
  const started = loadConfig(env);
  storage = await startStorageServer(started, createLogger(started, "storage"), 0);
  config = loadConfig({ ...env, S3_PORT: String(storage.port) });
  client = clientWith(SECRET_KEY);
  await client.putObject(BUCKET, "videos/1.mp4", VIDEO_BYTES, VIDEO_BYTES.length, { "Content-Type": "video/mp4" });
  // What an uploader might claim: served as the JPEG a cover is, all the same.
  await client.putObject(BUCKET, "covers/1.jpg", Buffer.from(XSS), XSS.length, { "Content-Type": "text/html" });
});
after(async () => {
  await storage?.close();
  fs.rmSync(outer, { recursive: true, force: true });
});

describe("anonymous clients", () => {
  it("read videos and covers, whole and by range, typed by their kind and never sniffed", async () => {
    const video = await raw("GET", `/${BUCKET}/videos/1.mp4`);
    assert.equal(video.status, 200);
    assert.equal(video.headers["content-type"], "video/mp4");
    assert.equal(video.headers["x-content-type-options"], "nosniff");
    assert.deepEqual(video.body, VIDEO_BYTES);
    const ranged = await raw("GET", `/${BUCKET}/videos/1.mp4`, { range: "bytes=100-199" });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers["content-range"], `bytes 100-199/${VIDEO_BYTES.length}`);
    assert.deepEqual(ranged.body, VIDEO_BYTES.subarray(100, 200));
    const head = await raw("HEAD", `/${BUCKET}/videos/1.mp4`);
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(VIDEO_BYTES.length));
    assert.equal(head.headers["accept-ranges"], "bytes");

    for (const request of [`/${BUCKET}/covers/1.jpg`, `/${BUCKET}/covers/1.jpg?response-content-type=text%2Fhtml`]) {
      const cover = await raw("GET", request);
      assert.equal(cover.status, 200, request);
      assert.equal(cover.headers["content-type"], "image/jpeg", `${request}: stored as text/html, served as a cover`);
      assert.equal(cover.headers["x-content-type-options"], "nosniff");
    }
    // A subresource or any other query is not for strangers: they get the object, nothing else.
    const acl = await raw("GET", `/${BUCKET}/videos/1.mp4?acl`);
    assert.deepEqual(acl.body, VIDEO_BYTES, "the object, not its ACL");
    const missing = await raw("GET", `/${BUCKET}/videos/404.mp4`);
    assert.equal(missing.status, 404);
  });

  it("cannot list a bucket or the buckets", async () => {
    for (const request of [`/${BUCKET}?list-type=2`, `/${BUCKET}`, `/${BUCKET}/`, "/", `/${BUCKET}?location`]) {
      const answer = await raw("GET", request);
      assert.equal(answer.status, 403, `${request}: ${answer.body.toString()}`);
      assert.match(answer.body.toString(), /<Code>AccessDenied<\/Code>/);
      assert.doesNotMatch(answer.body.toString(), /1\.mp4|ListBucketResult/);
    }
  });

  it("cannot write a cover that would run script on the media origin", async () => {
    const answer = await raw("PUT", `/${BUCKET}/covers/2.jpg`, { "content-type": "text/html" }, XSS);
    assert.equal(answer.status, 403, answer.body.toString());
    assert.equal(await exists("covers/2.jpg"), false);
    const overwrite = await raw("PUT", `/${BUCKET}/videos/1.mp4`, { "content-type": "text/html" }, XSS);
    assert.equal(overwrite.status, 403);
    const post = await raw("POST", `/${BUCKET}`, { "content-type": "text/plain" }, "key=covers/3.jpg");
    assert.equal(post.status, 403);
  });

  it("cannot delete a video", async () => {
    const answer = await raw("DELETE", `/${BUCKET}/videos/1.mp4`);
    assert.equal(answer.status, 403, answer.body.toString());
    assert.equal(await exists("videos/1.mp4"), true);
    assert.equal((await raw("DELETE", `/${BUCKET}`)).status, 403);
  });
});

describe("keys", () => {
  it("never reach outside the data directory, whoever asks", async () => {
    const before = filesUnder(outer);
    const escapes = [
      `/${BUCKET}/covers/..%2F..%2F..%2Fescaped-1.txt`,
      `/${BUCKET}/covers/%2E%2E%2F%2E%2E%2F%2E%2E%2Fescaped-2.txt`,
      `/${BUCKET}/covers/..%5C..%5Cescaped-3.txt`,
      `/${BUCKET}/covers/.%2Fescaped-4.txt`,
      `/${BUCKET}/covers//escaped-5.txt`,
      `/..%2Fescaped-6/x`,
    ];
    for (const request of escapes) {
      const answer = await raw("PUT", request, { "content-type": "text/plain" }, "escaped");
      assert.equal(answer.status, 400, `${request}: ${answer.status} ${answer.body.toString()}`);
      const read = await raw("GET", request.replace("escaped", "../../../../etc/hostname"));
      assert.equal(read.status, 400, `GET ${request}`);
    }
    // With the credentials too: a presigned URL turned into an escape is refused for its key first.
    const url = new URL(await client.presignedPutObject(BUCKET, "covers/fine.jpg", 60));
    const escaped = await raw("PUT", `${url.pathname.replace("fine.jpg", "..%2F..%2F..%2Fescaped-7.txt")}${url.search}`, {}, "escaped");
    assert.equal(escaped.status, 400);
    assert.deepEqual(filesUnder(outer), before, "no file was written");
  });
});

describe("signed requests", () => {
  it("serve the project's own storage client: bucket, presigned upload, stat, download, list, removal", async () => {
    const media = new MediaStorage({ storage: { ...config.storage, endpoint: storage.url } });
    await media.check();
    await media.ensureBucket();
    const file = path.join(outer, "upload.bin");
    fs.writeFileSync(file, VIDEO_BYTES);
    await media.putFile("videos/2.mp4", file, "video/mp4");
    assert.equal(await media.exists("videos/2.mp4"), true);
    const copy = path.join(outer, "download.bin");
    await media.downloadTo("videos/2.mp4", copy);
    assert.deepEqual(fs.readFileSync(copy), VIDEO_BYTES);
    const keys: string[] = [];
    for await (const item of client.listObjectsV2(BUCKET, "videos/", true)) keys.push((item as { name: string }).name);
    assert.deepEqual(keys.sort(), ["videos/1.mp4", "videos/2.mp4"]);
    await media.remove("videos/2.mp4");
    assert.equal(await media.exists("videos/2.mp4"), false);
    // A presigned GET of a key strangers may not read.
    await client.putObject(BUCKET, "private/note.txt", Buffer.from("note"), 4, { "Content-Type": "text/plain" });
    assert.equal((await raw("GET", `/${BUCKET}/private/note.txt`)).status, 403);
    const presigned = await fetch(await client.presignedGetObject(BUCKET, "private/note.txt", 60));
    assert.equal(presigned.status, 200);
    assert.equal(await presigned.text(), "note");
  });

  it("are refused with a wrong secret, a tampered or expired presigned URL, or a body that is not the one signed", async () => {
    const intruder = clientWith("not-the-secret");
    await assert.rejects(intruder.putObject(BUCKET, "covers/9.jpg", Buffer.from(XSS), XSS.length), { code: "SignatureDoesNotMatch" });
    await assert.rejects(intruder.removeObject(BUCKET, "videos/1.mp4"), { code: "SignatureDoesNotMatch" });
    await assert.rejects(
      (async () => {
        for await (const item of intruder.listObjectsV2(BUCKET, "", true)) void item;
      })(),
      { code: "SignatureDoesNotMatch" },
    );
    assert.equal(await exists("covers/9.jpg"), false);
    assert.equal(await exists("videos/1.mp4"), true);

    // A presigned upload URL for one key, used for another.
    const url = new URL(await client.presignedPutObject(BUCKET, "covers/10.jpg", 60));
    const retargeted = await raw("PUT", `${url.pathname.replace("10.jpg", "11.jpg")}${url.search}`, { "content-type": "text/html" }, XSS);
    assert.equal(retargeted.status, 403);
    assert.equal(await exists("covers/11.jpg"), false);
    // One that expired an hour ago.
    const stale = new URL(await client.presignedUrl("PUT", BUCKET, "covers/12.jpg", 60, {}, new Date(Date.now() - 3600_000)));
    const late = await raw("PUT", `${stale.pathname}${stale.search}`, {}, XSS);
    assert.equal(late.status, 403, late.body.toString());
    assert.equal(await exists("covers/12.jpg"), false);

    // A signed request whose body was swapped on the way (same length, other bytes).
    const relay = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.from(Buffer.concat(chunks).toString("latin1").replace("honest", "forged"), "latin1");
        const { hostname, port } = new URL(storage.url);
        const onward = http.request(
          { host: hostname, port, method: request.method, path: request.url, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        onward.end(body);
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const relayed = new Client({
        endPoint: "127.0.0.1",
        port: (relay.address() as { port: number }).port,
        useSSL: false,
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        region: config.storage.region,
        pathStyle: true,
      });
      await assert.rejects(relayed.putObject(BUCKET, "private/swapped.txt", Buffer.from("honest text"), 11), {
        code: "XAmzContentSHA256Mismatch",
      });
    } finally {
      relay.close();
    }
    assert.equal(await exists("private/swapped.txt"), false);
  });
});
