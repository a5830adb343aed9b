// `npm run bench`: load scenarios with autocannon against a running stack (after
// `npm run seed:demo`), in one run, next to a bare node:http server as this machine's
// reference. Prints requests/s, latency p50/p99, errors (HTTP or a non-zero legacy
// status_code), the ratio to the bare server, the stack's peak RSS, and for like toggling how
// long pending counter changes take to be applied and whether the counters are then exact. Ends with a
// Markdown table for scripts/README.md. Not part of `npm test`.
//
//   BENCH_SECONDS (8) per scenario, BENCH_CONNECTIONS (32), BENCH_USERS (50) demo users logged
//   in, BENCH_ONLY=feed,like-toggle to run some, BENCH_LABEL to name the run; BENCH_REST_URL and
//   BENCH_GRAPHQL_URL point it elsewhere (a cluster's balancer), BENCH_METRICS_URLS names the
//   metrics endpoints it reads counter lag from (comma-separated; default: the local stack's),
//   BENCH_REDIS_PREFIX measures the CPU and memory of that stack's processes only; the
//   subgraph-user scenario needs the stack's INTERNAL_SECRET (random per start unless set).
import { spawn } from "node:child_process";
import fs from "node:fs";
import autocannon from "autocannon";
import { loadConfig } from "../platform/config";
import { INTERNAL_SECRET_HEADER } from "../platform/headers";
import { DEMO_PASSWORD, demoUserId, demoUsername, demoVideoId } from "./seed-demo";
import { stackServices } from "../server/stack";

const config = loadConfig();
const rest = process.env.BENCH_REST_URL ?? `http://127.0.0.1:${config.ports.rest}`;
const graphqlUrl = process.env.BENCH_GRAPHQL_URL ?? `http://127.0.0.1:${config.ports.gateway}/graphql`;
const userSubgraphUrl = config.subgraphs.user!.url;
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const userCount = Number(process.env.BENCH_USERS ?? 50);
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
/** With BENCH_REDIS_PREFIX, only the processes of the stack with that Redis prefix are measured. */
const onlyPrefix = process.env.BENCH_REDIS_PREFIX;
/** Videos the like scenario toggles: among the popular (newest) demo videos. */
const HOT_VIDEOS = 20;

interface Outcome {
  scenario: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time the stack's processes (and a load balancer in front, if any) spent per request, ms. */
  cpuPerRequest?: { stack: number; balancer: number };
  note?: string;
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** The stack's processes (those running dist/server/main.js) and a load balancer's (HAProxy). */
function processesOf(what: "stack" | "balancer"): string[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((pid) => {
      try {
        const command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (what === "balancer") return command.split("\0")[0]!.endsWith("haproxy");
        if (!command.includes("dist/server/main.js")) return false;
        // Only the stack under test when others run on this machine (its Redis prefix tells it apart).
        return !onlyPrefix || fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`REDIS_PREFIX=${onlyPrefix}`);
      } catch {
        return false;
      }
    });
}

/** CPU time (user + system) the processes have used so far, ms. */
function cpuMs(pids: string[]): number {
  const tick = 1000 / 100; // USER_HZ
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/** Sum of the resident memory of the stack's processes. */
function stackRss(): number {
  let total = 0;
  for (const pid of processesOf("stack")) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      total += rss ? Number(rss[1]) * 1024 : 0;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

let peakRss = 0;
const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, stackRss())), 250);

async function legacyPost(route: string, params: Record<string, string>) {
  const response = await fetch(`${rest}${route}`, { method: "POST", body: new URLSearchParams(params) });
  return (await response.json()) as { status_code: number; status_msg: string; user_id?: number; token?: string } & Record<string, unknown>;
}

/** The legacy answers the bench reads. */
interface LegacyAnswer {
  status_code: number;
  status_msg: string;
  video_list: { id: number; favorite_count: number }[];
  next_time: number;
  message_list: { create_time: number }[];
}

async function legacyGet(route: string, params: Record<string, string>) {
  const response = await fetch(`${rest}${route}?${new URLSearchParams(params)}`);
  return (await response.json()) as LegacyAnswer;
}

/** A legacy answer that is not a success counts as an error, as an HTTP error does. */
const legacyFailed = (body: string) => !body.startsWith('{"status_code":0,');

async function run(scenario: string, options: autocannon.Options, isFailure?: (body: string) => boolean, note?: string): Promise<Outcome> {
  let failures = 0;
  const requests = (options.requests ?? [{}]).map((request) => ({
    ...request,
    ...(isFailure && {
      onResponse: (status: number, body: string) => {
        if (status === 200 && isFailure(body)) failures += 1;
      },
    }),
  }));
  const [stack, balancer] = [processesOf("stack"), processesOf("balancer")];
  const cpuBefore = [cpuMs(stack), cpuMs(balancer)];
  const result = await autocannon({ connections, duration: seconds, ...options, requests });
  const total = result.requests.total;
  const cpuPerRequest =
    stack.length > 0 && total > 0
      ? { stack: (cpuMs(stack) - cpuBefore[0]!) / total, balancer: balancer.length > 0 ? (cpuMs(balancer) - cpuBefore[1]!) / total : 0 }
      : undefined;
  const outcome = {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts + failures,
    cpuPerRequest,
    note,
  };
  const cpu = cpuPerRequest
    ? `  CPU ${cpuPerRequest.stack.toFixed(2)} ms/req${balancer.length > 0 ? ` (+ ${cpuPerRequest.balancer.toFixed(2)} balancer)` : ""}`
    : "";
  process.stdout.write(
    `  ${scenario.padEnd(22)} ${String(outcome.requestsPerSecond).padStart(6)} req/s  p50 ${outcome.p50} ms  p99 ${outcome.p99} ms  errors ${outcome.errors}${cpu}\n`,
  );
  return outcome;
}

/** The machine's reference: a bare node:http server in a process of its own. */
async function bareHello(): Promise<Outcome> {
  const child = spawn(
    process.execPath,
    ["-e", `const s=require("node:http").createServer((q,r)=>r.end("hello")).listen(0,"127.0.0.1",()=>process.send(s.address().port))`],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const port = await new Promise<number>((resolve) => child.once("message", (message) => resolve(Number(message))));
  try {
    return await run("bare node:http hello", { url: `http://127.0.0.1:${port}/` });
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const subgraphReachable = await fetch(userSubgraphUrl, { method: "POST" }).then(
    () => true,
    () => false,
  );
  const mode = process.env.BENCH_LABEL ?? (subgraphReachable ? "split" : "co-located");
  process.stdout.write(`benchmarking ${rest} and ${graphqlUrl} (${mode}), ${connections} connections, ${seconds} s each\n`);

  const probe = await legacyGet("/douyin/user/", { user_id: String(demoUserId(0)) });
  if (probe.status_code !== 0)
    throw new Error(`demo user ${demoUserId(0)} not found (${probe.status_msg}): run \`npm run seed:demo\` first`);
  const accounts: { userId: number; token: string }[] = [];
  for (let i = 0; i < userCount; i++) {
    const login = await legacyPost("/douyin/user/login/", { username: demoUsername(i), password: DEMO_PASSWORD });
    if (login.status_code !== 0) throw new Error(`login as ${demoUsername(i)} failed: ${login.status_msg}`);
    accounts.push({ userId: login.user_id!, token: login.token! });
  }
  const demoUsers = Array.from({ length: 10_000 }, (_, i) => demoUserId(i));
  const hotVideos = Array.from({ length: HOT_VIDEOS }, (_, i) => demoVideoId(i));

  const scenarios: Record<string, () => Promise<Outcome>> = {
    hello: bareHello,
    "user-info": () =>
      run(
        "legacy user info",
        {
          url: rest,
          requests: [
            { setupRequest: (request) => ({ ...request, path: `/douyin/user/?user_id=${pick(demoUsers)}&token=${pick(accounts).token}` }) },
          ],
        },
        legacyFailed,
      ),
    feed: () =>
      run(
        "legacy feed (30, token)",
        { url: rest, requests: [{ setupRequest: (request) => ({ ...request, path: `/douyin/feed/?token=${pick(accounts).token}` }) }] },
        legacyFailed,
      ),
    "like-toggle": likeToggle,
    "comment-list": async () => {
      // The most commented video (about 1,200 comments in the demo data), its whole legacy list
      // asked anonymously, as a scraper or a polling app would: what repeating it costs.
      const lengths = await Promise.all(
        hotVideos.map(async (id) => {
          const body = (await (await fetch(`${rest}/douyin/comment/list/?video_id=${id}`)).json()) as { comment_list?: unknown[] };
          return { id, length: body.comment_list?.length ?? 0 };
        }),
      );
      const longest = lengths.reduce((best, video) => (video.length > best.length ? video : best));
      return run(
        "legacy comment list",
        { url: `${rest}/douyin/comment/list/?video_id=${longest.id}` },
        legacyFailed,
        `the whole list of ${longest.length} comments, anonymous (read in pages of ${config.limits.listMax})`,
      );
    },
    "chat-poll": chatPoll,
    "gateway-user": () =>
      run(
        "gateway user (3 subgraphs)",
        {
          url: graphqlUrl,
          method: "POST",
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                headers: { "content-type": "application/json", authorization: `Bearer ${pick(accounts).token}` },
                body: JSON.stringify({
                  query: "query ($id: ID!) { user(id: $id) { name workCount followCount followerCount isFollow } }",
                  variables: { id: String(pick(demoUsers)) },
                }),
              }),
            },
          ],
        },
        (body) => !body.startsWith('{"data":{"user":{'),
      ),
    "subgraph-user": async () => {
      // Unless INTERNAL_SECRET is set here as for the stack, the one loaded is this process's own random one.
      const skipped = !subgraphReachable
        ? "co-located: subgraphs have no port"
        : !process.env.INTERNAL_SECRET && "needs the stack's INTERNAL_SECRET (set it for both)";
      if (skipped) return { scenario: "user subgraph directly", requestsPerSecond: NaN, p50: NaN, p99: NaN, errors: 0, note: skipped };
      return run(
        "user subgraph directly",
        {
          url: userSubgraphUrl,
          method: "POST",
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                headers: { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: config.auth.internalSecret },
                body: JSON.stringify({
                  query: "query ($id: ID!) { user(id: $id) { name avatar } }",
                  variables: { id: String(pick(demoUsers)) },
                }),
              }),
            },
          ],
        },
        (body) => !body.startsWith('{"data":{"user":{'),
      );
    },
  };

  async function likeToggle(): Promise<Outcome> {
    const favoriteCounts = async () => {
      // The hot videos are the newest demo videos: the feed reaches them within a few pages.
      const counts = new Map<number, number>();
      let latest = String(Date.now() + 60_000);
      while (counts.size < hotVideos.length) {
        const page = await legacyGet("/douyin/feed/", { latest_time: latest });
        if (page.video_list.length === 0) break;
        for (const video of page.video_list as { id: number; favorite_count: number }[])
          if (hotVideos.includes(video.id)) counts.set(video.id, video.favorite_count);
        latest = String(page.next_time);
      }
      return counts;
    };
    const likedBy = async () => {
      const liked = new Set<string>();
      for (const account of accounts) {
        const list = await legacyGet("/douyin/favorite/list/", { user_id: String(account.userId) });
        for (const video of list.video_list as { id: number }[])
          if (hotVideos.includes(video.id)) liked.add(`${account.userId}:${video.id}`);
      }
      return liked;
    };
    await drainCounters();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [countsBefore, likedBefore] = [await favoriteCounts(), await likedBy()];
    const outcome = await run(
      "like/unlike toggling",
      {
        url: `${rest}/douyin/favorite/action/`,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: `token=${encodeURIComponent(pick(accounts).token)}&video_id=${pick(hotVideos)}&action_type=${Math.random() < 0.5 ? 1 : 2}`,
            }),
          },
        ],
      },
      legacyFailed,
    );
    const loadEnded = Date.now();
    await drainCounters();
    const drainMs = Date.now() - loadEnded;
    // The drainer drops the cached counts just after its commit: give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [countsAfter, likedAfter] = [await favoriteCounts(), await likedBy()];
    let wrong = 0;
    for (const videoId of hotVideos) {
      const changed = (set: Set<string>) => accounts.filter((a) => set.has(`${a.userId}:${videoId}`)).length;
      const expected = countsBefore.get(videoId)! - changed(likedBefore) + changed(likedAfter);
      if (countsAfter.get(videoId) !== expected) wrong += 1;
    }
    return {
      ...outcome,
      note: `counters drained ${drainMs} ms after the load, ${wrong === 0 ? "exact" : `WRONG on ${wrong} videos`}`,
    };
  }

  /** Waits until no counter change is pending (`counter_changes_pending` in the metrics). */
  async function drainCounters(): Promise<void> {
    // Metrics live on their own ports: METRICS_PORT for the co-located process, and the next
    // ones for the processes of `npm start -- --split` (server/main.ts); whichever answer are read.
    const metricsUrls =
      process.env.BENCH_METRICS_URLS?.split(",") ??
      stackServices().map((_, index) => `http://127.0.0.1:${config.ports.metrics + index}/metrics`);
    for (;;) {
      let pending = 0;
      for (const url of metricsUrls) {
        const response = await fetch(url).catch(() => undefined);
        if (!response?.ok) continue;
        const text = await response.text();
        for (const line of text.split("\n"))
          if (line.startsWith("counter_changes_pending{")) pending += Math.max(0, Number(line.slice(line.lastIndexOf(" ") + 1)));
      }
      if (pending === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function chatPoll(): Promise<Outcome> {
    // Pairs of bench users who wrote to each other once; polls ask for anything newer (usually nothing).
    const pairs: { token: string; other: number; after: number }[] = [];
    for (let i = 0; i + 1 < accounts.length; i += 2) {
      const [a, b] = [accounts[i]!, accounts[i + 1]!];
      await legacyPost("/douyin/message/action/", {
        token: a.token,
        to_user_id: String(b.userId),
        action_type: "1",
        content: "bench hello",
      });
      const chat = await legacyGet("/douyin/message/chat/", { token: b.token, to_user_id: String(a.userId) });
      const after = chat.message_list.at(-1)!.create_time;
      pairs.push({ token: b.token, other: a.userId, after }, { token: a.token, other: b.userId, after });
    }
    return run(
      "legacy chat polling",
      {
        url: rest,
        requests: [
          {
            setupRequest: (request) => {
              const pair = pick(pairs);
              return { ...request, path: `/douyin/message/chat/?token=${pair.token}&to_user_id=${pair.other}&pre_msg_time=${pair.after}` };
            },
          },
        ],
      },
      legacyFailed,
    );
  }

  const outcomes: Outcome[] = [];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && name !== "hello" && !only.includes(name)) continue;
    outcomes.push(await scenario());
  }
  clearInterval(rssSampler);
  peakRss = Math.max(peakRss, stackRss());

  const hello = outcomes[0]!.requestsPerSecond;
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `Measured ${date}, ${mode}, ${connections} connections × ${seconds} s per scenario, load generator on the same ${
      (await import("node:os")).cpus().length
    } cores; stack peak RSS ${Math.round(peakRss / 1024 / 1024)} MB.`,
    "",
    "| scenario | requests/s | p50 | p99 | errors | ratio to bare node:http | CPU per request | notes |",
    "|---|---|---|---|---|---|---|---|",
    ...outcomes.map(
      (o) =>
        `| ${o.scenario} | ${Number.isNaN(o.requestsPerSecond) ? "—" : o.requestsPerSecond.toLocaleString("en")} | ${Number.isNaN(o.p50) ? "—" : `${o.p50} ms`} | ${
          Number.isNaN(o.p99) ? "—" : `${o.p99} ms`
        } | ${o.errors} | ${Number.isNaN(o.requestsPerSecond) ? "—" : (o.requestsPerSecond / hello).toFixed(3)} | ${
          o.cpuPerRequest
            ? `${o.cpuPerRequest.stack.toFixed(2)} ms${o.cpuPerRequest.balancer > 0 ? ` + ${o.cpuPerRequest.balancer.toFixed(2)} ms balancer` : ""}`
            : "—"
        } | ${o.note ?? ""} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join("\n")}\n`);
  if (outcomes.some((o) => o.errors > 0 || o.note?.includes("WRONG"))) process.exitCode = 1;
}

main().catch((error: Error) => {
  clearInterval(rssSampler);
  process.stderr.write(`bench failed: ${error.message}\n`);
  process.exit(1);
});
