// `npm run trace:demo`: what one legacy request looks like as a trace. Starts the co-located
// stack in this process with tracing into memory (a fresh temporary data folder, any free
// ports; Redis must run, and *_DATABASE_URL may name PostgreSQL databases, otherwise the
// embedded one is used), registers a user, then prints the traces of a user-info request, a
// publish (with its media job), a feed request and a like, and the counter drain that follows
// the like with its link back to it.
// docs/observability.md shows one run.
import { formatTrace, recordedSpans, traceSpans } from "../platform/tracing-memory";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/logger";
import { startStorageServer } from "../media/storage-server";
import { startColocated } from "../server/stack";
import { resolveMediaTool } from "../media/tools";

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-trace-demo-"));
  const base = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", REDIS_PREFIX: `trace-demo-${process.pid}` };
  const storageConfig = loadConfig(base);
  const log = createLogger(storageConfig, "trace-demo");
  const storage = await startStorageServer(storageConfig, log, 0);
  const config = loadConfig({ ...base, S3_PORT: String(storage.port) });
  const stack = await startColocated(config, log, { rest: 0, gateway: 0, metrics: 0, storage: false });
  try {
    const call = async (method: "GET" | "POST", route: string, params: Record<string, string>) => {
      const url = `${stack.restUrl}${route}?${new URLSearchParams(params)}`;
      const response = await fetch(url, { method });
      const body = (await response.json()) as Record<string, unknown>;
      return { traceId: response.headers.get("x-request-id") ?? "", body };
    };
    const show = (title: string, traceId: string) => {
      const spans = traceSpans(traceId);
      process.stdout.write(`\n${title}: trace ${traceId}, ${spans.length} spans\n${formatTrace(spans)}\n`);
    };

    const name = `demo${Date.now() % 1e6}`;
    const registered = await call("POST", "/douyin/user/register/", { username: name, password: "demo-password" });
    const { user_id: userId, token } = registered.body as { user_id: number; token: string };

    const userInfo = await call("GET", "/douyin/user/", { user_id: String(userId), token });
    show("GET /douyin/user/ (legacy user info)", userInfo.traceId);

    // A publish: the upload, the media job on the queue and the worker cutting the cover.
    const form = new FormData();
    form.set("token", token);
    form.set("title", "trace demo");
    form.set("data", new Blob([fs.readFileSync(makeClip(config.media.ffmpegPath, dataDir))], { type: "video/mp4" }), "clip.mp4");
    const published = await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form });
    show("POST /douyin/publish/action/ (publish)", published.headers.get("x-request-id") ?? "");

    const feed = await call("GET", "/douyin/feed/", { token });
    show("GET /douyin/feed/", feed.traceId);

    const [video] = (feed.body.video_list as { id: number }[] | undefined) ?? [];
    if (!video) throw new Error(`the feed is empty after a publish: ${JSON.stringify(feed.body)}`);
    const like = await call("POST", "/douyin/favorite/action/", { token, video_id: String(video.id), action_type: "1" });
    show("POST /douyin/favorite/action/ (like)", like.traceId);
    const drain = await waitForLinkTo(like.traceId);
    if (drain) show("the counter drain the like woke (a trace of its own, linked to the like's)", drain);
    else process.stdout.write("\n(no drain linked to the like within 5 s)\n");
  } finally {
    await stack.close();
    await storage.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A one-second test-pattern clip made with ffmpeg. */
function makeClip(ffmpegPath: string | undefined, dir: string): string {
  const ffmpeg = resolveMediaTool("ffmpeg", { ffmpegPath }).path;
  const file = path.join(dir, "clip.mp4");
  const lavfi = ["-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=10", "-pix_fmt", "yuv420p", "-c:v", "libx264"];
  execFileSync(ffmpeg, ["-loglevel", "error", "-y", ...lavfi, "-movflags", "+faststart", file]);
  return file;
}

/** The trace id of the first drain span that links to `traceId` (within a few seconds). */
async function waitForLinkTo(traceId: string): Promise<string | undefined> {
  for (let tries = 0; tries < 50; tries++) {
    const drain = recordedSpans.getFinishedSpans().find((span) => span.links.some((link) => link.context.traceId === traceId));
    if (drain) return drain.spanContext().traceId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`trace demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
