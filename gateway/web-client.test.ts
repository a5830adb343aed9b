// Serving the web client from the gateway: which requests get index.html, which get files, and
// with which cache headers, through fastify.inject on a built client made up for the test.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createLogger } from "../platform/logger";
import { serveWebClient } from "./web-client";

const log = createLogger({ logLevel: "silent" }, "test");
const INDEX = "<!doctype html><title>app</title>";
const SCRIPT = "console.log('app');".repeat(50);

describe("the web client on the gateway", () => {
  let root: string;
  let app: FastifyInstance;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "web-dist-"));
    fs.mkdirSync(path.join(root, "assets"));
    fs.writeFileSync(path.join(root, "index.html"), INDEX);
    fs.writeFileSync(path.join(root, "assets", "index-1a2b3c.js"), SCRIPT);
    fs.writeFileSync(path.join(root, "assets", "index-1a2b3c.js.gz"), gzipSync(SCRIPT));
    app = Fastify();
    app.post("/graphql", async () => ({ data: null }));
    app.get("/healthz", async () => ({ status: "ok" }));
    serveWebClient(app, log, root);
    await app.ready();
  });

  after(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("answers / and client routes with index.html, revalidated on every load", async () => {
    for (const url of ["/", "/users/123/followers", "/chat/5?x=1"]) {
      const response = await app.inject({ method: "GET", url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX, url);
      assert.match(String(response.headers["content-type"]), /^text\/html/, url);
      assert.equal(response.headers["cache-control"], "no-cache", url);
    }
  });

  it("serves hashed assets for good, gzipped to browsers that accept it", async () => {
    const plain = await app.inject({ method: "GET", url: "/assets/index-1a2b3c.js" });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, SCRIPT);
    assert.equal(plain.headers["cache-control"], "public, max-age=31536000, immutable");
    const gzipped = await app.inject({ method: "GET", url: "/assets/index-1a2b3c.js", headers: { "accept-encoding": "gzip" } });
    assert.equal(gzipped.headers["content-encoding"], "gzip");
    assert.equal(gzipped.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.match(String(gzipped.headers.vary), /accept-encoding/i);
  });

  it("never shadows the API or turns a missing file into HTML", async () => {
    assert.equal((await app.inject({ method: "POST", url: "/graphql" })).statusCode, 200);
    assert.deepEqual((await app.inject({ method: "GET", url: "/healthz" })).json(), { status: "ok" });
    for (const url of ["/graphql/anything", "/metrics", "/readyz", "/assets/index-old.js", "/favicon.ico"]) {
      const response = await app.inject({ method: "GET", url });
      assert.equal(response.statusCode, 404, url);
      assert.match(String(response.headers["content-type"]), /^application\/json/, url);
    }
    assert.equal((await app.inject({ method: "POST", url: "/users/1" })).statusCode, 404);
  });

  it("lets the gateway start without a build", async () => {
    const bare = Fastify();
    serveWebClient(bare, log, path.join(root, "missing"));
    await bare.ready();
    assert.equal((await bare.inject({ method: "GET", url: "/" })).statusCode, 404);
    await bare.close();
  });
});
