// `npm run bench:live`: subscriptions against a running stack (after `npm run seed:demo`), with
// the same configuration. Two measurements, load generator and stack sharing the machine:
//
// - send → receive: BENCH_LIVE_PAIRS pairs of demo users, each person with a WebSocket
//   subscribed to messageReceived; messages sent through the gateway (sendMessage over HTTP)
//   at BENCH_LIVE_RATE per second for BENCH_SECONDS, each timed from the moment its request
//   leaves to the moment the recipient's socket delivers it (target: p99 ≤ 50 ms at 500/s);
// - idle connections: BENCH_LIVE_IDLE WebSockets, each authenticated and subscribed, opened
//   from as many loopback addresses as SUBSCRIPTION_CONNECTIONS_PER_ADDRESS requires, and what
//   they add to the stack's resident memory once settled (target: ≤ 150 MB for 5,000).
//
// Run it against a freshly started stack (the idle measurement compares memory before and after).
// Not part of `npm test`. BENCH_ONLY=latency or BENCH_ONLY=idle runs one.
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import type { LiveMessage } from "../lib/live-events";
import { loadConfig, projectRoot } from "../platform/config";
import { DEMO_PASSWORD, demoUsername } from "./seed-demo";
import { stackServices } from "../server/stack";

const config = loadConfig();
const graphqlUrl = process.env.BENCH_GRAPHQL_URL ?? `http://127.0.0.1:${config.ports.gateway}/graphql`;
const wsUrl = graphqlUrl.replace(/^http/, "ws");
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rate = Number(process.env.BENCH_LIVE_RATE ?? 500);
const pairs = Number(process.env.BENCH_LIVE_PAIRS ?? 50);
const idleConnections = Number(process.env.BENCH_LIVE_IDLE ?? 5000);
const only = process.env.BENCH_ONLY;
/** Logins (argon2 each) and connection handshakes run this many at a time. */
const PARALLEL = 8;
/** How often the idle measurement samples the stack's memory while it settles, and for how long. */
const SETTLE_SAMPLE_MS = 1000;
const SETTLE_SAMPLES = 10;

const SUBSCRIBE = "subscription { messageReceived { id fromUserId toUserId content createdAt } }";

interface Account {
  userId: string;
  token: string;
}

/** The stack's processes: dist/server/main.js run from this project (not another checkout's). */
function stackPids(): string[] {
  const pids = fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return (
          fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dist/server/main.js") &&
          fs.realpathSync(`/proc/${pid}/cwd`) === fs.realpathSync(projectRoot)
        );
      } catch {
        return false; // ended while we looked
      }
    });
  // Memory and CPU read as 0 otherwise, and the figures would look like a result.
  if (pids.length === 0) throw new Error("no stack process (node dist/server/main.js) runs from this checkout: npm start first");
  return pids;
}

/** Resident memory of the stack's processes, in bytes. */
function stackRss(): number {
  let total = 0;
  for (const pid of stackPids()) {
    const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    total += rss ? Number(rss[1]) * 1024 : 0;
  }
  return total;
}

/** CPU time the stack's processes have used, in seconds (Linux clock ticks are 1/100 s). */
function stackCpuSeconds(): number {
  let ticks = 0;
  for (const pid of stackPids()) {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function gql<Data>(query: string, variables: Record<string, unknown>, token?: string): Promise<Data> {
  const response = await fetch(graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: { message: string }[] };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Runs `work` over `items`, `parallel` at a time. */
async function inParallel<T, R>(items: readonly T[], parallel: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

async function logIn(count: number, offset = 0): Promise<Account[]> {
  return inParallel(
    Array.from({ length: count }, (_, i) => i + offset),
    PARALLEL,
    async (index) => {
      const { login } = await gql<{ login: { token: string; user: { id: string } } }>(
        "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { token user { id } } }",
        { u: demoUsername(index), p: DEMO_PASSWORD },
      );
      return { userId: login.user.id, token: login.token };
    },
  );
}

/** A WebSocket authenticated and subscribed to messageReceived; `onMessage` gets each delivered message. */
function openSubscribed(
  account: Account,
  localAddress: string | undefined,
  onMessage?: (message: LiveMessage) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, "graphql-transport-ws", { localAddress, perMessageDeflate: false });
    socket.once("error", reject);
    socket.once("close", (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
    socket.once("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${account.token}` } })),
    );
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { messageReceived: LiveMessage } } };
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUBSCRIBE } }));
        resolve(socket);
      } else if (message.type === "next" && message.payload?.data) {
        onMessage?.(message.payload.data.messageReceived);
      }
    });
  });
}

/** A metric summed over the stack's processes, from their metrics ports (METRICS_PORT and up, as server/main.ts numbers them). */
async function stackMetric(name: string): Promise<number> {
  let total = 0;
  for (const [index] of stackServices().entries()) {
    const response = await fetch(`http://127.0.0.1:${config.ports.metrics + index}/metrics`).catch(() => undefined);
    if (!response?.ok) continue;
    for (const line of (await response.text()).split("\n"))
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** The gateway's `subscription_delivery_seconds` buckets of messageReceived (upper bound in s → count), summed over processes. */
async function deliveryBuckets(): Promise<Map<number, number>> {
  const buckets = new Map<number, number>();
  for (const [index] of stackServices().entries()) {
    const response = await fetch(`http://127.0.0.1:${config.ports.metrics + index}/metrics`).catch(() => undefined);
    if (!response?.ok) continue;
    for (const line of (await response.text()).split("\n")) {
      const match = /^subscription_delivery_seconds_bucket\{(.*)\} (\d+)$/.exec(line);
      if (!match || !match[1]!.includes('field="messageReceived"')) continue;
      const le = /le="([^"]+)"/.exec(match[1]!)![1]!;
      const bound = le === "+Inf" ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
    }
  }
  return buckets;
}

/** The bucket bound (ms) under which `p` percent of the deliveries between two readings fell. */
function bucketPercentile(before: Map<number, number>, after: Map<number, number>, p: number): string {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  const bound = bounds.find((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0) >= (total * p) / 100);
  return bound === undefined || bound === Infinity ? "over 1 s" : `≤ ${bound * 1000} ms`;
}

/** Subscriptions running at the stack's gateway(s). */
const activeSubscriptions = () => stackMetric("subscription_active");

async function untilSubscribed(count: number): Promise<void> {
  while ((await activeSubscriptions()) < count) await sleep(100);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function latency(accounts: Account[]): Promise<string> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const sockets = await inParallel(accounts, PARALLEL, (account) =>
    openSubscribed(account, undefined, (message) => {
      // Each message reaches its sender's socket too; the recipient's is the one timed.
      if (message.toUserId !== account.userId) return;
      const started = sentAt.get(message.content);
      if (started !== undefined) latencies.push(performance.now() - started);
    }),
  );
  try {
    await untilSubscribed(accounts.length);
    const total = Math.round(rate * seconds);
    let sent = 0;
    let failed = 0;
    const inFlight = new Set<Promise<unknown>>();
    const cpuBefore = stackCpuSeconds();
    const bucketsBefore = await deliveryBuckets();
    const started = performance.now();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        const from = accounts[(sent * 2) % accounts.length]!;
        const to = accounts[(sent * 2 + 1) % accounts.length]!;
        const content = `bench ${sent}`;
        sentAt.set(content, performance.now());
        const request = gql(
          "mutation ($to: ID!, $c: String!) { sendMessage(toUserId: $to, content: $c) { id } }",
          { to: to.userId, c: content },
          from.token,
        )
          .catch(() => void (failed += 1))
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await sleep(1);
    }
    const elapsed = (performance.now() - started) / 1000;
    await Promise.all(inFlight);
    // The last deliveries are a moment behind their answers.
    for (let waited = 0; latencies.length + failed < total && waited < 50; waited++) await sleep(100);
    const cpuPerMessage = ((stackCpuSeconds() - cpuBefore) / total) * 1000;
    const bucketsAfter = await deliveryBuckets();
    const gateway = `gateway publication → socket p50 ${bucketPercentile(bucketsBefore, bucketsAfter, 50)}, p99 ${bucketPercentile(bucketsBefore, bucketsAfter, 99)}`;
    const sorted = [...latencies].sort((a, b) => a - b);
    const line =
      `| send → receive at ${rate} messages/s (${accounts.length} subscribers, ${seconds} s) | ${Math.round(total / elapsed)}/s sent, ` +
      `${sorted.length}/${total} received, ${failed} failed, stack CPU ${cpuPerMessage.toFixed(2)} ms per message | p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(1)} ms (${gateway}) | p99 ≤ 50 ms: ${percentile(sorted, 99) <= 50 ? "met" : "NOT met"} |`;
    if (failed > 0 || sorted.length < total) process.exitCode = 1;
    return line;
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

async function idle(accounts: Account[]): Promise<string> {
  const perUser = config.subscriptions.connectionsPerUser;
  const perAddress = config.subscriptions.connectionsPerAddress;
  if (accounts.length * perUser < idleConnections)
    throw new Error(`${idleConnections} connections need ${Math.ceil(idleConnections / perUser)} users`);
  const before = await activeSubscriptions();
  await sleep(SETTLE_SAMPLE_MS);
  const baseline = stackRss();
  const heapBefore = await stackMetric("nodejs_heap_size_used_bytes");
  // Spread over loopback addresses (127.0.0.2 …): the per-address limit holds, as for clients behind many addresses.
  const sockets = await inParallel(
    Array.from({ length: idleConnections }, (_, i) => i),
    PARALLEL * 4,
    (i) => openSubscribed(accounts[i % accounts.length]!, `127.0.0.${2 + Math.floor(i / perAddress)}`),
  );
  try {
    await untilSubscribed(before + idleConnections);
    const samples: number[] = [];
    for (let i = 0; i < SETTLE_SAMPLES; i++) {
      await sleep(SETTLE_SAMPLE_MS);
      samples.push(stackRss());
    }
    const settled = Math.max(...samples.slice(-3));
    const heap = (await stackMetric("nodejs_heap_size_used_bytes")) - heapBefore;
    return (
      `| ${idleConnections.toLocaleString("en")} idle subscribed connections | stack RSS ${mb(baseline)} MB → ${mb(settled)} MB ` +
      `(V8 heap in use +${mb(heap)} MB) | ` +
      `+${mb(settled - baseline)} MB (${((settled - baseline) / idleConnections / 1024).toFixed(1)} kB each) | ≤ 150 MB: ${
        settled - baseline <= 150 * 1024 * 1024 ? "met" : "NOT met"
      } |`
    );
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`live benchmarks against ${wsUrl}\n`);
  const lines = ["| measurement | load | result | target |", "|---|---|---|---|"];
  // Idle first: the latency run grows the stack's heap, which would hide what the connections take.
  if (!only || only === "idle") {
    const accounts = await logIn(Math.ceil(idleConnections / config.subscriptions.connectionsPerUser), pairs * 2);
    lines.push(await idle(accounts));
    process.stdout.write(`${lines.at(-1)}\n`);
  }
  if (!only || only === "latency") {
    const accounts = await logIn(pairs * 2);
    lines.push(await latency(accounts));
    process.stdout.write(`${lines.at(-1)}\n`);
  }
  process.stdout.write(`\nMeasured ${new Date().toISOString().slice(0, 10)}\n\n${lines.join("\n")}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:live failed: ${error.message}\n`);
  process.exit(1);
});
