// `npm run bench:likes`: like/unlike toggling through the legacy route under autocannon, against
// a running stack (start it first with `npm start`, same configuration in this shell). Prints
// requests/s, latency p50/p99, how long the counter queue takes to drain after the load stops,
// and whether the counters then equal the rows.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { loadConfig } from "../platform/config";
import { queuePrefix } from "../platform/queues";
import { COUNTER_QUEUE } from "../subgraphs/video/jobs";

const config = loadConfig();
const rest = process.env.BENCH_REST_URL ?? `http://127.0.0.1:${config.ports.rest}`;
const users = Number(process.env.BENCH_USERS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

async function call(route: string, params: Record<string, string>, init: RequestInit = {}) {
  const response = await fetch(`${rest}${route}?${new URLSearchParams(params)}`, { method: "POST", ...init });
  return (await response.json()) as { status_code: number; status_msg: string; user_id: number; token: string };
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  process.stdout.write(`registering ${users} users on ${rest} ...\n`);
  const accounts: { userId: number; token: string }[] = [];
  for (let i = 0; i < users; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, users - i) }, (_, j) =>
        call("/douyin/user/register/", { username: `bench_${run}_${i + j}`, password: "bench" }),
      ),
    );
    for (const answer of batch) {
      if (answer.status_code !== 0) throw new Error(`register failed: ${answer.status_msg}`);
      accounts.push({ userId: answer.user_id, token: answer.token });
    }
  }

  const clip = path.join(os.tmpdir(), `bench-${run}.mp4`);
  const ffmpeg = config.media.ffmpegPath ?? (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
  execFileSync(ffmpeg, [
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc=duration=1:size=160x120:rate=10",
    "-pix_fmt",
    "yuv420p",
    clip,
  ]);
  const form = new FormData();
  form.set("token", accounts[0]!.token);
  form.set("title", "bench");
  form.set("data", new Blob([fs.readFileSync(clip)]), "bench.mp4");
  const published = (await (await fetch(`${rest}/douyin/publish/action/`, { method: "POST", body: form })).json()) as {
    status_code: number;
    status_msg: string;
  };
  fs.rmSync(clip, { force: true });
  if (published.status_code !== 0) throw new Error(`publish failed: ${published.status_msg}`);
  const list = (await (await fetch(`${rest}/douyin/publish/list/?user_id=${accounts[0]!.userId}`)).json()) as {
    video_list: { id: number }[];
  };
  const videoId = list.video_list[0]!.id;

  process.stdout.write(`toggling likes on video ${videoId}: ${connections} connections for ${seconds} s ...\n`);
  const result = await autocannon({
    url: `${rest}/douyin/favorite/action/`,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    requests: [
      {
        setupRequest: (request) => {
          const account = accounts[Math.floor(Math.random() * accounts.length)]!;
          const action = Math.random() < 0.5 ? 1 : 2;
          return { ...request, body: `token=${encodeURIComponent(account.token)}&video_id=${videoId}&action_type=${action}` };
        },
      },
    ],
  });
  const loadEnded = Date.now();

  const connection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(COUNTER_QUEUE, { connection, prefix: queuePrefix(config) });
  for (;;) {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    if (Object.values(counts).every((n) => n === 0)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const drainMs = Date.now() - loadEnded;
  await queue.close();
  connection.disconnect();

  let likers = 0;
  for (const account of accounts) {
    const liked = (await (await fetch(`${rest}/douyin/favorite/list/?user_id=${account.userId}`)).json()) as {
      video_list: { id: number }[];
    };
    if (liked.video_list.some((video) => video.id === videoId)) likers += 1;
  }
  const feed = (await (await fetch(`${rest}/douyin/publish/list/?user_id=${accounts[0]!.userId}`)).json()) as {
    video_list: { favorite_count: number }[];
  };
  const counted = feed.video_list[0]!.favorite_count;

  const table: [string, string][] = [
    ["requests/s (mean)", result.requests.average.toFixed(0)],
    ["requests total", String(result.requests.total)],
    ["latency p50 (ms)", String(result.latency.p50)],
    ["latency p99 (ms)", String(result.latency.p99)],
    ["non-2xx / errors / timeouts", `${result.non2xx} / ${result.errors} / ${result.timeouts}`],
    ["counter queue drain after load (ms)", String(drainMs)],
    ["favorite_count vs rows", `${counted} vs ${likers} (${counted === likers ? "exact" : "MISMATCH"})`],
  ];
  process.stdout.write(`\n${table.map(([name, value]) => `  ${name.padEnd(38)} ${value}`).join("\n")}\n`);
  if (counted !== likers) process.exitCode = 1;
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.message}\n`);
  process.exit(1);
});
