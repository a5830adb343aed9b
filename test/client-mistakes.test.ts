// A client's mistake is answered as one (a 4xx, a clear message) and logged at info level; only
// our own failures are errors. What a media tool printed about a stranger's file goes to the
// log, never to the uploader.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { legacy, uniqueName } from "./client";
import { captureLogs, LOG_LEVELS } from "./logs";
import { makeVideo, mediaDir, removeMedia } from "./media";
import { startStack, type Stack } from "./stack";

let stack: Stack;
const logs = captureLogs();

before(async () => {
  stack = await startStack({}, "colocated", undefined, logs.logger);
});
after(async () => {
  await stack?.close();
  removeMedia();
});

/** Waits for what the stack logs about the requests just made (pino writes asynchronously). */
const settleLogs = () => new Promise((resolve) => setTimeout(resolve, 200));

describe("automatic persisted queries", () => {
  it("answers a hash that does not match its query with BAD_REQUEST and HTTP 400, logged at info level", async () => {
    const before = logs.lines().length;
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    assert.equal(response.status, 400);
    assert.equal(body.errors[0]!.extensions.code, "BAD_REQUEST", JSON.stringify(body));
    assert.match(body.errors[0]!.message, /does not match/);
    assert.deepEqual(Object.keys(body.errors[0]!.extensions), ["code"], "no stack or internals in the answer");
    await settleLogs();
    const written = logs.lines().slice(before);
    assert.deepEqual(
      written.filter((line) => line.level >= LOG_LEVELS.warn),
      [],
      "nothing at warn or error level",
    );
    assert.ok(
      written.some((line) => line.level === LOG_LEVELS.info && /persisted|refused/.test(String(line.msg))),
      `an info line says why: ${JSON.stringify(written)}`,
    );
    // The same query with its right hash still registers and runs.
    const { createHash } = await import("node:crypto");
    const good = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ __typename }",
        extensions: { persistedQuery: { version: 1, sha256Hash: createHash("sha256").update("{ __typename }").digest("hex") } },
      }),
    });
    assert.equal(good.status, 200);
  });
});

describe("refused uploads", () => {
  /** An MP4 whose container is sound (ffprobe reads it) and whose frames are noise (ffmpeg decodes none). */
  function undecodableVideo(): string {
    const data = fs.readFileSync(makeVideo("sound-container.mp4"));
    const payload = data.indexOf("mdat") + 4;
    let seed = 1;
    for (let i = payload; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      data[i] = seed & 0xff;
    }
    const file = path.join(mediaDir, "noise.mp4");
    fs.writeFileSync(file, data);
    return file;
  }

  it("tell the uploader the file is not a playable video, and log what ffmpeg said", async () => {
    const registered = await legacy(stack, "/douyin/user/register/", { username: uniqueName("noise"), password: "pw" }, { method: "POST" });
    const token = registered.body.token as string;
    const file = undecodableVideo();
    const form = new FormData();
    form.set("token", token);
    form.set("title", "noise");
    form.set("data", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), "noise.mp4");
    const before = logs.lines().length;
    const answer = (await (await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form })).json()) as {
      status_code: number;
      status_msg: string;
    };
    assert.equal(answer.status_code, 400, JSON.stringify(answer));
    assert.equal(answer.status_msg, "the file is not a playable video (no frame could be decoded)");

    const graphqlForm = new FormData();
    const query = 'mutation ($file: Upload!) { publishVideo(file: $file, title: "noise") { id } }';
    graphqlForm.set("operations", JSON.stringify({ query, variables: { file: null } }));
    graphqlForm.set("map", JSON.stringify({ 0: ["variables.file"] }));
    // Another copy (the same bytes from the same author would be the same publish).
    const again = Buffer.concat([fs.readFileSync(file), Buffer.from([0])]);
    graphqlForm.set("0", new Blob([again], { type: "video/mp4" }), "noise.mp4");
    const viaGraphQL = (await (
      await fetch(stack.graphqlUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" },
        body: graphqlForm,
      })
    ).json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(viaGraphQL));
    assert.equal(viaGraphQL.errors![0]!.message, "the file is not a playable video (no frame could be decoded)");

    await settleLogs();
    const rejected = logs
      .lines()
      .slice(before)
      .filter((line) => line.msg === "upload rejected");
    assert.equal(rejected.length, 2, JSON.stringify(rejected));
    for (const line of rejected) {
      assert.equal(line.level, LOG_LEVELS.info);
      assert.match(String(line.toolOutput), /\S/, `what ffmpeg said is logged: ${JSON.stringify(line)}`);
    }
  });
});
