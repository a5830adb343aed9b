// Faults against the real servers: a subgraph process frozen or not started yet, PostgreSQL and
// Redis cut off behind a TCP proxy (the servers stay up for everyone else), and uploads
// abandoned half-way. The stack answers 503 or UNAVAILABLE in time, never 500, recovers by
// itself, loses no counter and no event, and leaves no file behind.
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/logger";
import type { RunningService } from "../platform/http";
import { startGatewayService, startRestService } from "../server/stack";
import { eventually, graphql, legacy, uniqueName } from "./client";
import { FaultProxy } from "./fault-proxy";
import {
  freePort,
  pendingCounterChanges,
  SERVER_ENTRY,
  startStack,
  TEST_POSTGRES_URL,
  TEST_REDIS_URL,
  withDatabase,
  type Stack,
} from "./stack";

async function register(stack: Pick<Stack, "restUrl">, prefix: string) {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName(prefix), password: "pass" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

/** Videos written straight into the database (the faults here are not about ffmpeg). */
async function insertVideos(stack: Stack, authorId: number, count: number): Promise<number[]> {
  const base = 8_000_000_000_000 + Math.floor(Math.random() * 1e9);
  const ids = Array.from({ length: count }, (_, i) => base + i);
  await withDatabase(stack, "video", (client) =>
    client.query(
      `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height)
       SELECT id, $2, 'v' || id, 'videos/' || id || '.mp4', 'covers/' || id || '.jpg', 1000, 64, 64 FROM unnest($1::bigint[]) AS id`,
      [ids, authorId],
    ),
  );
  return ids;
}

describe("a subgraph that is not up, or stops answering", () => {
  const TIMEOUT_MS = 1500;
  let stack: Stack;
  let videoPort: number;
  let child: ChildProcess | undefined;
  let gateway: RunningService;
  let rest: RunningService;

  before(async () => {
    stack = await startStack({ REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) }, "split");
    videoPort = await freePort();
    // A gateway and an adapter of their own whose video subgraph is a separate process (a real
    // process can be frozen), not started yet.
    const config = loadConfig({
      ...stack.environment,
      USER_SUBGRAPH_URL: stack.subgraphUrls.user!,
      RELATION_SUBGRAPH_URL: stack.subgraphUrls.relation!,
      VIDEO_SUBGRAPH_URL: `http://127.0.0.1:${videoPort}/graphql`,
    });
    const log = createLogger(config, "faults");
    gateway = await startGatewayService(config, log, 0);
    rest = await startRestService(config, log, 0, gateway.url);
  });
  after(async () => {
    child?.kill("SIGCONT");
    child?.kill("SIGKILL");
    await rest?.close();
    await gateway?.close();
    await stack?.close();
  });

  const edges = () => ({ restUrl: rest.url, graphqlUrl: gateway.url });

  it("answers 503 and UNAVAILABLE, not 500, while the subgraph has not started, and fields of healthy ones still answer", async () => {
    const user = await register(stack, "early");
    const feed = await legacy(edges(), "/douyin/feed/");
    assert.equal(feed.body.status_code, 503, feed.text);
    const mixed = await graphql(
      gateway.url,
      `
        query ($id: ID!) {
          user(id: $id) {
            name
          }
          video(id: "1") {
            id
          }
        }
      `,
      { id: String(user.userId) },
    );
    assert.equal(mixed.data?.user?.name, (await legacy(stack, "/douyin/user/", { user_id: user.userId })).body.user.name);
    assert.equal(mixed.errors?.[0]?.extensions?.code, "UNAVAILABLE", JSON.stringify(mixed.errors));
    // The gateway stays in rotation (the user's fields answer) and reports the subgraph it misses.
    const readiness = await fetch(new URL("/readyz", gateway.url));
    assert.equal(readiness.status, 200);
    const report = (await readiness.json()) as { status: string; dependencies: Record<string, string> };
    assert.equal(report.status, "ready, degraded");
    assert.match(report.dependencies.video!, /fetch failed|ECONNREFUSED|refused/i);
    assert.equal(report.dependencies.user, "ok");
    assert.equal((await fetch(new URL("/healthz", gateway.url))).status, 200, "alive all the same");
  });

  it("answers within the deadline while the subgraph process is frozen, and recovers when it resumes", async () => {
    child = fork(SERVER_ENTRY, ["video"], {
      env: { ...process.env, ...stack.environment, VIDEO_PORT: String(videoPort), WORKERS_IN_PROCESS: "false" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      child!.once("message", () => resolve());
      child!.once("exit", (code) => reject(new Error(`the video subgraph exited with ${code}`)));
    });
    assert.equal((await legacy(edges(), "/douyin/feed/")).body.status_code, 0);
    assert.equal((await fetch(new URL("/readyz", gateway.url))).status, 200);

    child.kill("SIGSTOP");
    try {
      const started = Date.now();
      const feed = await legacy(edges(), "/douyin/feed/");
      const elapsed = Date.now() - started;
      assert.equal(feed.body.status_code, 503, feed.text);
      assert.ok(elapsed < TIMEOUT_MS + 3000, `answered after ${elapsed} ms`);
      const viaGraphQL = await graphql(
        gateway.url,
        `
          {
            feed {
              videos {
                id
              }
            }
          }
        `,
      );
      assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "UNAVAILABLE", JSON.stringify(viaGraphQL.errors));
    } finally {
      child.kill("SIGCONT");
    }
    await eventually(async () => (await legacy(edges(), "/douyin/feed/")).body.status_code === 0, "the feed to answer again", 10_000);
  });
});

describe("PostgreSQL out of reach", () => {
  let stack: Stack;
  let proxy: FaultProxy;

  before(async () => {
    proxy = await FaultProxy.to(TEST_POSTGRES_URL);
    stack = await startStack({ REQUEST_TIMEOUT_MS: "2000", DATABASE_CONNECT_TIMEOUT_MS: "1000" }, "colocated", (env) => ({
      ...env,
      USER_DATABASE_URL: proxy.urlFor(env.USER_DATABASE_URL!),
    }));
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it("answers 503 while the user database cannot be reached, and serves again once it can", async () => {
    await register(stack, "pg-before");
    proxy.cut();
    try {
      const during = await legacy(
        stack,
        "/douyin/user/register/",
        { username: uniqueName("pg-during"), password: "pass" },
        { method: "POST" },
      );
      assert.equal(during.body.status_code, 503, during.text);
      const viaGraphQL = await graphql(
        stack.graphqlUrl,
        `mutation { register(username: "${uniqueName("pg")}", password: "pass") { token } }`,
      );
      assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "UNAVAILABLE", JSON.stringify(viaGraphQL.errors));
      assert.equal((await fetch(new URL("/readyz", stack.graphqlUrl))).status, 503);
    } finally {
      proxy.restore();
    }
    await eventually(
      async () =>
        (await legacy(stack, "/douyin/user/register/", { username: uniqueName("pg-after"), password: "pass" }, { method: "POST" })).body
          .status_code === 0,
      "registration to work again",
    );
  });
});

describe("Redis cut off", () => {
  let stack: Stack;
  let proxy: FaultProxy;

  before(async () => {
    proxy = await FaultProxy.to(TEST_REDIS_URL);
    stack = await startStack({ COUNTER_DRAIN_INTERVAL_MS: "300" }, "colocated", (env) => ({
      ...env,
      REDIS_URL: proxy.urlFor(env.REDIS_URL!),
    }));
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it("loses no like and no follow when its connections are cut again and again: every counter ends exact", async () => {
    const author = await register(stack, "author");
    const fans = await Promise.all(Array.from({ length: 8 }, () => register(stack, "fan")));
    const videos = await insertVideos(stack, author.userId, 6);
    const act = (path: string, params: Record<string, string | number>) =>
      legacy(stack, path, params, { method: "POST" }).then((answer) => answer.body.status_code);
    const storm = Promise.all(
      fans.map(async (fan, f) => {
        const codes: number[] = [];
        for (let round = 0; round < 4; round++) {
          for (const videoId of videos)
            codes.push(await act("/douyin/favorite/action/", { token: fan.token, video_id: videoId, action_type: ((round + f) % 2) + 1 }));
          for (const other of fans.slice(0, 4)) {
            if (other === fan) continue;
            codes.push(
              await act("/douyin/relation/action/", { token: fan.token, to_user_id: other.userId, action_type: ((round + f) % 2) + 1 }),
            );
          }
        }
        return codes;
      }),
    );
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      proxy.reset();
    }
    const codes = (await storm).flat();
    assert.ok(
      codes.every((code) => code === 0 || code === 503),
      `only successes and 503s: ${[...new Set(codes)].join(",")}`,
    );

    await eventually(
      async () => (await pendingCounterChanges(stack, "video")) === 0 && (await pendingCounterChanges(stack, "relation")) === 0,
      "the counter outboxes to drain",
    );
    const likes = await withDatabase(stack, "video", async (client) => {
      const rows = (
        await client.query(`SELECT video_id, count(*)::int AS n FROM likes WHERE video_id = ANY($1::bigint[]) GROUP BY video_id`, [videos])
      ).rows;
      return new Map(rows.map((row: { video_id: string; n: number }) => [Number(row.video_id), row.n]));
    });
    const followers = await withDatabase(stack, "relation", async (client) => {
      const ids = fans.map((fan) => fan.userId);
      const rows = (
        await client.query(
          `SELECT followee_id, count(*)::int AS n FROM follows WHERE followee_id = ANY($1::bigint[]) GROUP BY followee_id`,
          [ids],
        )
      ).rows;
      return new Map(rows.map((row: { followee_id: string; n: number }) => [Number(row.followee_id), row.n]));
    });
    await eventually(async () => {
      const shown = await graphql(
        stack.graphqlUrl,
        `
          query ($ids: [ID!]!) {
            videos: users(ids: $ids) {
              id
              followerCount
            }
          }
        `,
        {
          ids: fans.map((fan) => String(fan.userId)),
        },
      );
      const counts = await Promise.all(
        videos.map(
          async (id) =>
            (
              await graphql(
                stack.graphqlUrl,
                `
                  query ($id: ID!) {
                    video(id: $id) {
                      favoriteCount
                    }
                  }
                `,
                { id: String(id) },
              )
            ).data?.video?.favoriteCount,
        ),
      );
      return (
        videos.every((id, i) => counts[i] === (likes.get(id) ?? 0)) &&
        shown.data?.videos.every(
          (user: { id: string; followerCount: number }) => user.followerCount === (followers.get(Number(user.id)) ?? 0),
        )
      );
    }, "every shown counter to equal its rows");
  });

  it("delivers a registration's event from the outbox when Redis failed right after the commit", async () => {
    const username = uniqueName("outbox");
    proxy.cut();
    let registered;
    try {
      registered = await legacy(stack, "/douyin/user/register/", { username, password: "pass" }, { method: "POST" });
      assert.equal(registered.body.status_code, 503, registered.text);
      assert.match(registered.body.status_msg, /created/);
      const waiting = await withDatabase(stack, "user", async (client) =>
        Number((await client.query(`SELECT count(*) AS n FROM event_outbox`)).rows[0].n),
      );
      assert.ok(waiting >= 1, "the event waits in the outbox");
    } finally {
      proxy.restore();
    }
    await eventually(
      async () =>
        withDatabase(
          stack,
          "user",
          async (client) => Number((await client.query(`SELECT count(*) AS n FROM event_outbox`)).rows[0].n) === 0,
        ),
      "the outbox to be relayed",
    );
    const login = await legacy(stack, "/douyin/user/login/", { username, password: "pass" }, { method: "POST" });
    assert.equal(login.body.status_code, 0, login.text);
    const fan = await register(stack, "follower");
    await eventually(
      async () =>
        (
          await legacy(
            stack,
            "/douyin/relation/action/",
            { token: fan.token, to_user_id: login.body.user_id, action_type: 1 },
            { method: "POST" },
          )
        ).body.status_code === 0,
      "the relation subgraph to know the user",
    );
  });
});

describe("abandoned uploads", () => {
  let stack: Stack;
  let tmpDir: string;

  before(async () => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-uploads-"));
    stack = await startStack({ MEDIA_TMP_DIR: tmpDir });
  });
  after(async () => {
    await stack?.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  /** Sends the head of a multipart request announcing a large file, 512 KiB of it, then hangs up. */
  async function abandon(url: string, headers: Record<string, string>, partsBeforeFile: string, fileField: string): Promise<void> {
    const boundary = "----fault-boundary";
    const head = `${partsBeforeFile.replaceAll("BOUNDARY", boundary)}--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`;
    const target = new URL(url);
    const socket = net.connect(Number(target.port), target.hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    const headerLines = Object.entries({
      ...headers,
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(20 * 1024 * 1024),
    })
      .map(([key, value]) => `${key}: ${value}`)
      .join("\r\n");
    socket.write(`POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n${headerLines}\r\n\r\n${head}`);
    socket.write(Buffer.alloc(512 * 1024, 7));
    // The receiving end has started writing the file to disk: wait until it shows.
    await eventually(async () => fs.readdirSync(tmpDir).length > 0, "the upload to be spooled", 5_000);
    socket.destroy();
    await eventually(async () => fs.readdirSync(tmpDir).length === 0, "the spooled file to be removed", 5_000);
  }

  it("removes what was spooled when the app hangs up mid-upload, on the legacy route and over GraphQL", async () => {
    const user = await register(stack, "uploader");
    const field = (name: string, value: string) => `--BOUNDARY\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    await abandon(`${stack.restUrl}/douyin/publish/action/`, {}, field("token", user.token) + field("title", "abandoned"), "data");

    const operations = JSON.stringify({
      query: 'mutation ($file: Upload!) { publishVideo(file: $file, title: "abandoned") { id } }',
      variables: { file: null },
    });
    await abandon(
      stack.graphqlUrl,
      { authorization: `Bearer ${user.token}`, "apollo-require-preflight": "true" },
      field("operations", operations) + field("map", JSON.stringify({ 0: ["variables.file"] })),
      "0",
    );
  });
});
