// The legacy route table (fast tier), driven through fastify.inject against a fake gateway:
// parameters from every place the app sends them, the operation each route chooses, the
// mapping of results to the legacy JSON, and failures as envelopes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { MemoryKeyValueStore } from "../platform/kv";
import { createLogger } from "../platform/logger";
import { SessionStore } from "../platform/sessions";
import { Metrics } from "../platform/metrics";
import { fastConfig } from "../test/in-process";
import { GatewayUnavailableError, type CallOptions, type GatewayExecutor, type GatewayResult } from "./gateway-client";
import { SpooledFile } from "./files";
import type { Operation } from "./routes";
import { createRestApp } from "./server";

interface Call {
  operation: string;
  variables: Record<string, unknown>;
  token: string | undefined;
}

/** Answers each operation by name from `answers`, and records what it was asked. */
class FakeGateway implements GatewayExecutor {
  readonly calls: Call[] = [];
  answers: Record<string, (variables: Record<string, unknown>) => GatewayResult<unknown> | Promise<GatewayResult<unknown>>> = {};

  async execute<Data>(operation: Operation<Data>, options: CallOptions): Promise<GatewayResult<Data>> {
    const name = /^\s*(?:query|mutation)\s+(\w+)/.exec(operation.document.toString())?.[1] ?? "anonymous";
    this.calls.push({ operation: name, variables: operation.variables, token: options.token });
    const answer = this.answers[name];
    if (!answer) throw new Error(`the fake gateway has no answer for ${name}`);
    return (await answer(operation.variables)) as GatewayResult<Data>;
  }

  async close(): Promise<void> {}
}

const USER = {
  id: "375000000000001",
  name: "alice",
  avatar: null,
  backgroundImage: null,
  signature: "hi",
  followCount: 2,
  followerCount: 3,
  isFollow: true,
  workCount: 4,
  favoriteCount: 5,
  totalFavorited: 6,
};
const VIDEO = {
  id: "375000000000009",
  title: "clip",
  playUrl: "http://m/v.mp4",
  coverUrl: "http://m/c.jpg",
  favoriteCount: 1,
  commentCount: 2,
  isFavorite: false,
  author: USER,
};

const gateway = new FakeGateway();
let app: FastifyInstance;
const config = fastConfig({ COMMENT_TIME_ZONE: "Asia/Shanghai", LEGACY_LIST_MAX: "250" });

before(async () => {
  app = await createRestApp({ config, log: createLogger(config, "routes-test"), metrics: new Metrics("routes-test"), gateway });
});
after(() => app.close());

async function call(method: "GET" | "POST", url: string, payload?: string | Record<string, string>) {
  const response = await app.inject({
    method,
    url,
    ...(typeof payload === "string"
      ? { payload, headers: { "content-type": "application/x-www-form-urlencoded" } }
      : payload
        ? { payload }
        : {}),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, any>, raw: response.body };
}

const lastCall = () => gateway.calls.at(-1)!;

describe("legacy route table", () => {
  it("maps user info by id to the legacy user, with ids as plain JSON numbers", async () => {
    gateway.answers.LegacyUserById = () => ({ data: { user: USER }, errors: [] });
    const answer = await call("GET", "/douyin/user/?user_id=375000000000001&token=t0k");
    assert.deepEqual(answer.body, {
      status_code: 0,
      status_msg: "success",
      user: {
        id: 375000000000001,
        name: "alice",
        follow_count: 2,
        follower_count: 3,
        is_follow: true,
        avatar: "",
        background_image: "",
        signature: "hi",
        total_favorited: 6,
        work_count: 4,
        favorite_count: 5,
      },
    });
    assert.match(answer.raw, /"id":375000000000001[,}]/);
    assert.deepEqual(lastCall(), { operation: "LegacyUserById", variables: { id: "375000000000001" }, token: "t0k" });
  });

  it("asks for the caller when no user_id is given, and fails clearly when there is none", async () => {
    gateway.answers.LegacyMe = () => ({ data: { me: null }, errors: [] });
    const answer = await call("GET", "/douyin/user/");
    assert.equal(lastCall().operation, "LegacyMe");
    assert.equal(answer.body.status_code, 401);
  });

  it("refuses bad parameters before calling the gateway", async () => {
    const calls = gateway.calls.length;
    for (const url of [
      "/douyin/user/?user_id=abc",
      "/douyin/user/?user_id=-1",
      "/douyin/user/?user_id=99999999999999999",
      "/douyin/feed/?latest_time=soon",
    ]) {
      const answer = await call("GET", url);
      assert.equal(answer.status, 200, url);
      assert.equal(answer.body.status_code, 400, url);
    }
    const noToken = await call("POST", "/douyin/favorite/action/", "video_id=1&action_type=1");
    assert.equal(noToken.body.status_code, 401);
    const badAction = await call("POST", "/douyin/favorite/action/", "token=t&video_id=1&action_type=7");
    assert.deepEqual(badAction.body, { status_code: 400, status_msg: "action_type must be 1 (like) or 2 (unlike)" });
    assert.equal(gateway.calls.length, calls, "nothing reached the gateway");
  });

  it("chooses the operation by action_type, from the query string, a form body or multipart fields", async () => {
    gateway.answers.LegacyLike = () => ({ data: { likeVideo: { id: "9" } }, errors: [] });
    gateway.answers.LegacyUnlike = () => ({ data: { unlikeVideo: { id: "9" } }, errors: [] });
    await call("POST", "/douyin/favorite/action/?token=a&video_id=9&action_type=1");
    assert.deepEqual(lastCall(), { operation: "LegacyLike", variables: { id: "9" }, token: "a" });
    await call("POST", "/douyin/favorite/action/", "token=b&video_id=9&action_type=2");
    assert.deepEqual(lastCall(), { operation: "LegacyUnlike", variables: { id: "9" }, token: "b" });
    const form = new FormData();
    for (const [key, value] of Object.entries({ token: "c", video_id: "9", action_type: "1" })) form.set(key, value);
    const body = new Response(form);
    const response = await app.inject({
      method: "POST",
      url: "/douyin/favorite/action",
      payload: Buffer.from(await body.arrayBuffer()),
      headers: { "content-type": body.headers.get("content-type")! },
    });
    assert.equal(JSON.parse(response.body).status_code, 0);
    assert.deepEqual(lastCall(), { operation: "LegacyLike", variables: { id: "9" }, token: "c" });
  });

  it("pages the feed in the unit the client sent", async () => {
    gateway.answers.LegacyFeed = () => ({ data: { feed: { nextTime: "2026-11-25T10:00:00.500Z", videos: [VIDEO] } }, errors: [] });
    const inSeconds = await call("GET", "/douyin/feed/?latest_time=1795600000");
    assert.equal(lastCall().variables.latestTime, new Date(1795600000 * 1000).toISOString());
    assert.equal(inSeconds.body.next_time, Math.floor(Date.parse("2026-11-25T10:00:00.500Z") / 1000));
    assert.equal(inSeconds.body.video_list[0].author.id, 375000000000001);
    const inMilliseconds = await call("GET", "/douyin/feed/?latest_time=1795600000123");
    assert.equal(inMilliseconds.body.next_time, Date.parse("2026-11-25T10:00:00.500Z"));
  });

  it("posts or deletes a comment with one operation each, and formats the legacy date", async () => {
    gateway.answers.LegacyAddComment = (variables) => ({
      data: { addComment: { id: "77", content: String(variables.text), createdAt: "2026-11-25T17:30:00.000Z", user: USER } },
      errors: [],
    });
    gateway.answers.LegacyDeleteComment = () => ({ data: { deleteComment: true }, errors: [] });
    const posted = await call("POST", "/douyin/comment/action/", "token=t&video_id=5&action_type=1&comment_text=nice");
    assert.deepEqual(lastCall().variables, { videoId: "5", text: "nice" });
    // 17:30 UTC is the next day in Asia/Shanghai.
    assert.deepEqual(posted.body.comment, { id: 77, user: posted.body.comment.user, content: "nice", create_date: "11-26" });
    const deleted = await call("POST", "/douyin/comment/action/", "token=t&action_type=2&comment_id=77");
    assert.deepEqual(lastCall().variables, { commentId: "77" });
    assert.deepEqual(deleted.body, { status_code: 0, status_msg: "success" });
  });

  it("turns GraphQL errors and an unreachable gateway into envelopes", async () => {
    gateway.answers.LegacyFollowing = () => ({ data: null, errors: [{ message: "user 5 not found", extensions: { code: "NOT_FOUND" } }] });
    assert.deepEqual((await call("GET", "/douyin/relation/follow/list/?user_id=5")).body, {
      status_code: 404,
      status_msg: "user 5 not found",
    });
    gateway.answers.LegacyFollowers = () => {
      throw new GatewayUnavailableError("connection refused");
    };
    const down = await call("GET", "/douyin/relation/follower/list/?user_id=5");
    assert.equal(down.status, 200);
    assert.equal(down.body.status_code, 503);
    gateway.answers.LegacyFollowers = () => ({ data: null, errors: [{ message: "boom", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
    assert.deepEqual((await call("GET", "/douyin/relation/follower/list/?user_id=5")).body, {
      status_code: 500,
      status_msg: "internal server error",
    });
    assert.deepEqual((await call("GET", "/douyin/nowhere/")).body.status_code, 404);
  });

  it("spools a published file to disk for the operation, and removes it after the answer", async () => {
    let received: SpooledFile | undefined;
    let bytesSeen = 0;
    gateway.answers.LegacyPublish = async (variables) => {
      received = variables.file as SpooledFile;
      const fs = await import("node:fs");
      bytesSeen = fs.readFileSync(received.file).length;
      return { data: { publishVideo: { id: "1" } }, errors: [] };
    };
    // The session behind the token, checked before the file is read.
    gateway.answers.LegacySession = () => ({ data: { me: { id: "1" } }, errors: [] });
    const form = new FormData();
    form.set("token", (await new SessionStore(config, new MemoryKeyValueStore()).open(1)).token);
    form.set("title", "my clip");
    form.set("data", new Blob([Buffer.alloc(1234, 1)], { type: "video/mp4" }), "clip.mp4");
    const request = new Response(form);
    const response = await app.inject({
      method: "POST",
      url: "/douyin/publish/action/",
      payload: Buffer.from(await request.arrayBuffer()),
      headers: { "content-type": request.headers.get("content-type")! },
    });
    assert.deepEqual(JSON.parse(response.body), { status_code: 0, status_msg: "success" });
    assert.ok(received instanceof SpooledFile);
    assert.equal(bytesSeen, 1234);
    assert.equal(lastCall().variables.title, "my clip");
    const fs = await import("node:fs");
    // Removed by the response hook, which runs as the answer goes out.
    for (let i = 0; i < 50 && fs.existsSync(received.file); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fs.existsSync(received.file), false, "the spooled file is gone once answered");
  });

  it("reads a whole list page by page, joining the pages, up to LEGACY_LIST_MAX items", async () => {
    const users = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ ...USER, id: String(375000000000100 + from + i) }));
    const pages: Record<string, { nodes: (typeof USER)[]; nextCursor: string | null }> = {
      start: { nodes: users(0, 100), nextCursor: "p2" },
      p2: { nodes: users(100, 100), nextCursor: "p3" },
      p3: { nodes: users(200, 30), nextCursor: null },
    };
    gateway.answers.LegacyFollowers = (variables) => ({
      data: { user: { followers: pages[(variables.after as string) ?? "start"]! } },
      errors: [],
    });
    const whole = await call("GET", "/douyin/relation/follower/list/?user_id=5");
    assert.equal(whole.body.status_code, 0);
    assert.deepEqual(
      whole.body.user_list.map((user: { id: number }) => user.id),
      users(0, 230).map((user) => Number(user.id)),
    );
    assert.deepEqual(
      gateway.calls.slice(-3).map((c) => c.variables.after),
      [undefined, "p2", "p3"],
    );
    // Past the cap (250 here), the list stops at the page that reached it.
    pages.p3 = { nodes: users(200, 100), nextCursor: "p4" };
    pages.p4 = { nodes: users(300, 100), nextCursor: null };
    const capped = await call("GET", "/douyin/relation/follower/list/?user_id=5");
    assert.equal(capped.body.user_list.length, 300);
    assert.notEqual(lastCall().variables.after, "p4");
  });

  it("refuses GET on write routes with 405 and the envelope, without calling the gateway", async () => {
    const before = gateway.calls.length;
    for (const path of ["/douyin/user/register/", "/douyin/user/login/", "/douyin/favorite/action/", "/douyin/publish/action/"]) {
      const answer = await call("GET", `${path}?username=a&password=b&token=t&video_id=1&action_type=1`);
      assert.equal(answer.status, 405, path);
      assert.equal(answer.body.status_code, 405, path);
    }
    assert.equal(gateway.calls.length, before);
  });

  it("tells the app about an unavailable part first, and when to come back after a rate limit", async () => {
    gateway.answers.LegacyFollowers = () => ({
      data: null,
      errors: [
        { message: "user 5 not found", extensions: { code: "NOT_FOUND" } },
        { message: "service temporarily unavailable, please retry", extensions: { code: "UNAVAILABLE" } },
      ],
    });
    assert.equal((await call("GET", "/douyin/relation/follower/list/?user_id=5")).body.status_code, 503);
    gateway.answers.LegacyLogin = () => ({
      data: null,
      errors: [{ message: "too many login attempts; try again in 42 s", extensions: { code: "RATE_LIMITED", retryAfter: 42 } as never }],
    });
    const response = await app.inject({
      method: "POST",
      url: "/douyin/user/login/",
      payload: "username=a&password=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.deepEqual(JSON.parse(response.body), {
      status_code: 429,
      status_msg: "too many login attempts; try again in 42 s",
      retry_after: 42,
    });
    assert.equal(response.headers["retry-after"], "42");
  });

  it("refuses a forged token sent before the file without writing the file anywhere", async () => {
    const fs = await import("node:fs");
    const spooledNow = () => fs.readdirSync(config.media.tmpDir).filter((name) => name.startsWith("upload-")).length;
    const before = spooledNow();
    const calls = gateway.calls.length;
    const form = new FormData();
    form.set("token", "forged.token.value");
    form.set("title", "my clip");
    form.set("data", new Blob([Buffer.alloc(64 * 1024, 1)], { type: "video/mp4" }), "clip.mp4");
    const request = new Response(form);
    const response = await app.inject({
      method: "POST",
      url: "/douyin/publish/action/",
      payload: Buffer.from(await request.arrayBuffer()),
      headers: { "content-type": request.headers.get("content-type")! },
    });
    assert.equal(JSON.parse(response.body).status_code, 401);
    assert.equal(gateway.calls.length, calls, "the gateway never heard of it");
    assert.equal(spooledNow(), before, "no spooled file appeared");
  });
});
