// `npm run bench:cluster`: the production shape chosen by measurement. Starts the cluster
// (scripts/cluster.ts) in each shape and size — cells and split, 1 and 3 replicas — on the same
// seeded PostgreSQL data, runs `npm run bench`'s scenarios through HAProxy against each, and
// prints requests/s, p99 and the CPU each request cost the stack (and the balancer). Then a
// steady legacy load (scripts/cluster-load.ts) through 3 cells: a rolling restart of every
// replica, and a kill -9 of one, with their failed-request counts. Not part of `npm test`.
//
//   CLUSTER_BENCH_SHAPES (cells:1,cells:3,split:1,split:3), BENCH_SECONDS, BENCH_CONNECTIONS
//   as `npm run bench`; CLUSTER_BENCH_SCENARIOS (user-info,feed,like-toggle,gateway-user).
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { projectRoot } from "../platform/config";
import { BENCH_FRIENDLY_LIMITS, startCluster, type Cluster, type ClusterShape } from "./cluster";
import { freePort } from "./ports";
import { drained, insertVideos, missingWrites, percentile, registerUsers, steadyLoad, wrongCounters } from "./cluster-load";
import { demoUserId } from "./seed-demo";

const PREFIX = "douyin-bench";
const POSTGRES_URL = process.env.CLUSTER_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.CLUSTER_REDIS_URL ?? "redis://127.0.0.1:6379";
const shapes = (process.env.CLUSTER_BENCH_SHAPES ?? "cells:1,cells:3,split:1,split:3").split(",").map((item) => {
  const [shape, replicas] = item.split(":");
  return { shape: shape as ClusterShape, replicas: Number(replicas) };
});
const scenarios = process.env.CLUSTER_BENCH_SCENARIOS ?? "user-info,feed,like-toggle,gateway-user";

async function start(shape: ClusterShape, replicas: number, seed: boolean): Promise<Cluster> {
  return startCluster({
    replicas,
    shape,
    workers: 1,
    ports: { rest: await freePort(), gateway: await freePort(), storage: await freePort(), stats: await freePort() },
    postgresUrl: POSTGRES_URL,
    redisUrl: REDIS_URL,
    prefix: PREFIX,
    env: BENCH_FRIENDLY_LIMITS,
    dataDir: path.join(projectRoot, "data", PREFIX),
    seed,
    say: (line) => process.stderr.write(`  cluster: ${line}\n`),
  });
}

/** Whether the bench's databases hold the demo data already. */
async function seeded(): Promise<boolean> {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${PREFIX.replace(/[^a-z0-9]/gi, "_")}_user`;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    return (await client.query("SELECT 1 FROM users WHERE id = $1", [demoUserId(0)])).rowCount === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs `npm run bench`'s scenarios against the cluster; the Markdown rows of its table. */
function bench(cluster: Cluster, label: string): Promise<string[]> {
  const metrics = [
    ...cluster.workers.map((worker) => worker.env.METRICS_PORT),
    ...cluster.replicas.flatMap((replica) => replica.processes.map((process) => process.env.METRICS_PORT)),
  ]
    .map((port) => `http://127.0.0.1:${port}/metrics`)
    .join(",");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, "dist", "scripts", "bench.js")], {
      env: {
        ...process.env,
        BENCH_REST_URL: cluster.restUrl,
        BENCH_GRAPHQL_URL: cluster.graphqlUrl,
        BENCH_METRICS_URLS: metrics,
        BENCH_REDIS_PREFIX: PREFIX,
        BENCH_ONLY: scenarios,
        BENCH_LABEL: label,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench exited with ${code}`));
      resolve(output.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| scenario") && !line.startsWith("| bare")));
    });
  });
}

/** A rolling restart and a kill -9 under a steady load through 3 cells. */
async function faults(): Promise<string[]> {
  const cluster = await start("cells", 3, false);
  const lines: string[] = [];
  try {
    const users = await registerUsers(cluster.restUrl, 18, "bench");
    const videos = await insertVideos(cluster.databases.video!, users[0]!.userId, 6);
    const databases = { video: cluster.databases.video!, relation: cluster.databases.relation! };
    let load = steadyLoad(cluster.restUrl, users, videos, 12);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const replica of cluster.replicas) {
      await replica.restart();
      await cluster.waitUntilUp(replica.index);
    }
    let report = await load.stop();
    lines.push(
      `| rolling restart of 3 cells | ${report.requests} requests in ${report.seconds.toFixed(1)} s | ${report.failures.length} failed | p99 ${percentile(report.latencies, 99).toFixed(0)} ms | ${(await missingWrites(report, databases)).length} acknowledged writes missing |`,
    );
    load = steadyLoad(cluster.restUrl, users, videos, 12);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const inFlight = load.inFlight();
    await cluster.replicas[0]!.kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    report = await load.stop();
    await drained(databases);
    lines.push(
      `| kill -9 of 1 of 3 cells | ${report.requests} requests in ${report.seconds.toFixed(1)} s | ${report.failures.length} failed (${inFlight} in flight at the kill) | p99 ${percentile(report.latencies, 99).toFixed(0)} ms | ${(await missingWrites(report, databases)).length} acknowledged writes missing, ${(await wrongCounters(databases)).length} counters wrong after the drain |`,
    );
  } finally {
    await cluster.stop();
  }
  return lines;
}

async function main(): Promise<void> {
  execFileSync("haproxy", ["-v"], { stdio: "ignore" });
  const rows: string[] = [];
  let needSeed = !(await seeded());
  for (const { shape, replicas } of shapes) {
    const label = `${replicas} ${shape === "cells" ? (replicas === 1 ? "cell" : "cells") : "split"} behind HAProxy`;
    process.stderr.write(`\n${label}\n`);
    const cluster = await start(shape, replicas, needSeed);
    needSeed = false;
    try {
      rows.push(...(await bench(cluster, label)).map((row) => `| ${label} ${row}`));
    } finally {
      await cluster.stop();
    }
  }
  const faultRows = await faults();
  process.stdout.write(
    [
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} through HAProxy on this machine (2 cores shared by the load generator, PostgreSQL, Redis and every process), ${process.env.BENCH_CONNECTIONS ?? 32} connections × ${process.env.BENCH_SECONDS ?? 8} s:`,
      "",
      "| shape | scenario | requests/s | p50 | p99 | errors | ratio to bare node:http | CPU per request | notes |",
      "|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      "| fault | load | failed | latency | afterwards |",
      "|---|---|---|---|---|",
      ...faultRows,
      "",
    ].join("\n"),
  );
}

main().catch((error: Error) => {
  process.stderr.write(`bench:cluster failed: ${error.message}\n`);
  process.exit(1);
});
