// `npm run cluster`: the production shape on this machine. N replicas of the stack behind a real
// load balancer (HAProxy, from Debian: it health-checks each replica's /readyz, which nginx's
// open-source build cannot), on the local PostgreSQL and Redis, with the subgraphs' workers in
// processes of their own and one object storage. A replica is a "cell" (the co-located
// process: REST adapter, gateway and every subgraph, workers apart) or, with --split, one
// process per service. Everything runs in production mode (generated secrets, PostgreSQL,
// signed storage, TRUST_PROXY naming the balancer). The tests of rolling restarts and crashes
// start it too (startCluster).
//
//   npm run cluster [-- --replicas 3] [--split] [--workers 1] [--seed]
//   CLUSTER_REST_PORT (8080), CLUSTER_GATEWAY_PORT (4000), CLUSTER_STORAGE_PORT (9000),
//   CLUSTER_STATS_PORT (8404: HAProxy's status page), CLUSTER_POSTGRES_URL, CLUSTER_REDIS_URL,
//   CLUSTER_PREFIX (douyin-cluster: its Redis prefix and database names).
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { keepingSecrets, projectRoot } from "../platform/config";
import { SUBGRAPHS } from "../platform/registry";
import { needsOfCell, needsOfService, stackServices, type ServiceSpec } from "../server/stack";
import { freePort } from "./ports";

export type ClusterShape = "cells" | "split";

export interface ClusterOptions {
  replicas: number;
  shape: ClusterShape;
  /** Processes of each subgraph's workers. */
  workers: number;
  ports: { rest: number; gateway: number; storage: number; stats: number };
  postgresUrl: string;
  redisUrl: string;
  /** Redis prefix and database names. */
  prefix: string;
  /** Variables every process gets on top of the cluster's own (limits, timeouts, a test's settings). */
  env?: Record<string, string>;
  /** Where the storage keeps its objects and HAProxy its configuration. */
  dataDir: string;
  /** Seed the demo data (npm run seed:demo) before the replicas start. */
  seed?: boolean;
  /** Progress lines (default: none). */
  say?: (line: string) => void;
}

/** One process of the cluster: a service of the stack, restartable. */
export interface ClusterProcess {
  readonly name: string;
  /** Its ports (those it serves on). */
  readonly env: Record<string, string>;
  child: ChildProcess;
  /** SIGTERM (the process drains), waits for its exit, starts it again, waits until it is ready. */
  restart(): Promise<void>;
  /** Ends it at once with `signal` (SIGKILL: a crash), and resolves when it is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again after a kill. */
  start(): Promise<void>;
}

/** One replica behind the balancer: its processes (one, a cell; or one per service) and its two doors. */
export interface ClusterReplica {
  readonly index: number;
  readonly restPort: number;
  readonly gatewayPort: number;
  /** In start order (a split replica: subgraphs, gateway, REST adapter). */
  readonly processes: ClusterProcess[];
  /** Every process drained and started again, edges first down and last up. */
  restart(): Promise<void>;
  /** Every process ended at once with `signal`. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  restUrl: string;
  graphqlUrl: string;
  storageUrl: string;
  statsUrl: string;
  /** The environment of every process (secrets included): for tools run against the cluster. */
  env: Record<string, string>;
  /** Each subgraph's database URL. */
  databases: Record<string, string>;
  /** The balancer's view of each replica: "UP", "DOWN", "MAINT"..., by "<door>/replica<index>". */
  balancerState(): Promise<Record<string, string>>;
  /** Resolves once the balancer sends requests to replica `index` on both doors again. */
  waitUntilUp(index: number): Promise<void>;
  replicas: ClusterReplica[];
  workers: ClusterProcess[];
  stop(): Promise<void>;
}

const ENTRY = path.join(projectRoot, "dist", "server", "main.js");
/** How often HAProxy asks each replica's /readyz; a replica is out after two failures, back after two successes. */
const CHECK_INTERVAL_MS = 1_000;
/**
 * How long one check may take: a replica saturated by load answers slowly, and must not be
 * taken out for it (it would push its load onto the others, which would follow it).
 */
const CHECK_TIMEOUT_MS = 3_000;
/** A replica told to stop keeps serving this long, unready, before it stops taking connections (two checks and a margin). */
const DRAIN_DELAY_MS = 3 * CHECK_INTERVAL_MS;
const READY_TIMEOUT_MS = 120_000;

function haproxyBinary(): string {
  for (const candidate of ["/usr/sbin/haproxy", "/usr/bin/haproxy"]) if (fs.existsSync(candidate)) return candidate;
  throw new Error("HAProxy is not installed: apt-get install haproxy (the cluster's load balancer)");
}

async function createDatabases(options: ClusterOptions): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  try {
    for (const { name } of SUBGRAPHS) {
      const database = `${options.prefix.replace(/[^a-z0-9]/gi, "_")}_${name}`;
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(options.postgresUrl);
      url.pathname = `/${database}`;
      urls[name] = url.toString();
    }
  } finally {
    await admin.end();
  }
  return urls;
}

/** A node process of the stack (`main.js <args>`), ready once it says so over IPC. */
function nodeProcess(name: string, args: string[], env: Record<string, string>, say: (line: string) => void): ClusterProcess {
  let exited: Promise<void> = Promise.resolve();
  const handle: ClusterProcess = {
    name,
    env,
    child: undefined as unknown as ChildProcess,
    start: async () => {
      const child = fork(ENTRY, args, { env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
      handle.child = child;
      exited = new Promise((resolve) => child.once("exit", () => resolve()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} was not ready after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
        child.once("message", () => {
          clearTimeout(timer);
          resolve();
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited during start-up (${code ?? signal})`));
        });
      });
      say(`${name} ready (pid ${child.pid})`);
    },
    kill: async (signal) => {
      if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill(signal);
      await exited;
    },
    restart: async () => {
      await handle.kill("SIGTERM");
      await handle.start();
    },
  };
  return handle;
}

/** HAProxy's configuration: the two front doors, each balanced over every replica's port, health-checked on /readyz. */
function haproxyConfig(options: ClusterOptions, replicas: ClusterReplica[]): string {
  const door = (name: string, port: number, replicaPort: (replica: ClusterReplica) => number) =>
    [
      `frontend ${name}`,
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${name}`,
      `backend ${name}`,
      "  balance leastconn",
      "  option httpchk GET /readyz",
      "  http-check expect status 200",
      ...replicas.map((replica) => `  server replica${replica.index} 127.0.0.1:${replicaPort(replica)} check`),
      "",
    ].join("\n");
  return [
    "# Generated by scripts/cluster.ts: every change is made there.",
    "global",
    "  maxconn 4096",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 180s",
    "  timeout server 180s",
    "  timeout http-keep-alive 10s",
    `  timeout check ${CHECK_TIMEOUT_MS}ms`,
    "  timeout tunnel 1h",
    // The replicas see the client's address (TRUST_PROXY names this balancer).
    "  option forwardfor",
    // A connection a replica refused (it stopped, or crashed) is tried on another one: nothing was sent yet.
    "  retries 3",
    "  retry-on conn-failure",
    "  option redispatch",
    `  default-server inter ${CHECK_INTERVAL_MS}ms fall 2 rise 2`,
    "",
    door("legacy", options.ports.rest, (replica) => replica.restPort),
    door("graphql", options.ports.gateway, (replica) => replica.gatewayPort),
    "listen stats",
    `  bind 127.0.0.1:${options.ports.stats}`,
    "  stats enable",
    "  stats uri /",
    "  stats refresh 2s",
    "",
  ].join("\n");
}

function replicaOf(index: number, restPort: number, gatewayPort: number, processes: ClusterProcess[]): ClusterReplica {
  return {
    index,
    restPort,
    gatewayPort,
    processes,
    restart: async () => {
      for (const process of [...processes].reverse()) await process.kill("SIGTERM");
      for (const process of processes) await process.start();
    },
    kill: async (signal) => {
      await Promise.all(processes.map((process) => process.kill(signal)));
    },
  };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const say = options.say ?? (() => undefined);
  const haproxy = haproxyBinary();
  fs.mkdirSync(options.dataDir, { recursive: true });
  const started: ClusterProcess[] = [];
  let balancer: ChildProcess | undefined;
  const stop = async () => {
    balancer?.kill("SIGTERM");
    // Edges first, then subgraphs, workers and storage (the reverse of the start).
    for (const process of [...started].reverse()) await process.kill("SIGTERM");
  };
  try {
    const databases = await createDatabases(options);
    const storageKeys = { S3_ACCESS_KEY: `cluster-${randomBytes(4).toString("hex")}`, S3_SECRET_KEY: randomBytes(24).toString("hex") };
    const storageUrl = `http://127.0.0.1:${options.ports.storage}`;
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.homedir(),
      NODE_ENV: "production",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
      HOST: "127.0.0.1",
      NODE_OPTIONS: "--max-semi-space-size=32",
      JWT_SECRET: randomBytes(48).toString("base64"),
      INTERNAL_SECRET: randomBytes(32).toString("hex"),
      EDGE_SECRET: randomBytes(32).toString("hex"),
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.prefix,
      ...Object.fromEntries(SUBGRAPHS.map((entry) => [`${entry.envPrefix}_DATABASE_URL`, databases[entry.name]!])),
      S3_ENDPOINT: storageUrl,
      ...storageKeys,
      MEDIA_PUBLIC_BASE_URL: `${storageUrl}/douyin-media`,
      // Every replica sees clients through the balancer.
      TRUST_PROXY: "127.0.0.1",
      WORKERS_IN_PROCESS: "false",
      SHUTDOWN_DELAY_MS: String(DRAIN_DELAY_MS),
      ...options.env,
    };

    say("migrating the databases");
    execFileSync(process.execPath, [path.join(projectRoot, "dist", "server", "migrate.js")], {
      env: base,
      stdio: ["ignore", "ignore", "inherit"],
    });

    // The object storage: the embedded server as a service of its own (MinIO's stand-in), with the cluster's keys.
    const storage = nodeProcess(
      "storage",
      ["storage"],
      {
        ...base,
        NODE_ENV: "development",
        S3_ENDPOINT: "",
        S3_PORT: String(options.ports.storage),
        DATA_DIR: options.dataDir,
        METRICS_PORT: "0",
      },
      say,
    );
    await storage.start();
    started.push(storage);
    if (options.seed) {
      say("seeding the demo data (npm run seed:demo)");
      execFileSync(process.execPath, [path.join(projectRoot, "dist", "scripts", "seed-demo.js")], {
        env: base,
        stdio: ["ignore", "inherit", "inherit"],
      });
    }

    const services = stackServices().filter((spec) => spec.kind !== "storage");
    const workers: ClusterProcess[] = [];
    for (const spec of services.filter((candidate) => candidate.kind === "workers")) {
      for (let index = 0; index < options.workers; index++) {
        const env = { ...keepingSecrets(base, needsOfService(spec).secrets), METRICS_PORT: String(await freePort()) };
        const worker = nodeProcess(`${spec.name}-${index}`, [spec.name], env, say);
        workers.push(worker);
      }
    }
    await Promise.all(workers.map((worker) => worker.start()));
    started.push(...workers);

    const replicas: ClusterReplica[] = [];
    const order: ServiceSpec["kind"][] = ["subgraph", "gateway", "rest-adapter"];
    for (let index = 0; index < options.replicas; index++) {
      const [restPort, gatewayPort] = [await freePort(), await freePort()];
      const doors = { REST_PORT: String(restPort), GATEWAY_PORT: String(gatewayPort) };
      if (options.shape === "cells") {
        // REST adapter, gateway and every subgraph in one process: a cell.
        const cellEnv = {
          ...keepingSecrets(base, needsOfCell().secrets),
          ...doors,
          METRICS_PORT: String(await freePort()),
        };
        const cell = nodeProcess(`replica${index}`, [], cellEnv, say);
        replicas.push(replicaOf(index, restPort, gatewayPort, [cell]));
        continue;
      }
      const subgraphPorts = Object.fromEntries(
        await Promise.all(SUBGRAPHS.map(async (entry) => [entry.envPrefix, await freePort()] as const)),
      );
      const env = {
        ...base,
        ...doors,
        ...Object.fromEntries(SUBGRAPHS.map((entry) => [`${entry.envPrefix}_PORT`, String(subgraphPorts[entry.envPrefix])])),
        ...Object.fromEntries(
          SUBGRAPHS.map((entry) => [`${entry.envPrefix}_SUBGRAPH_URL`, `http://127.0.0.1:${subgraphPorts[entry.envPrefix]}/graphql`]),
        ),
        GATEWAY_URL: `http://127.0.0.1:${gatewayPort}/graphql`,
      };
      const specs = services.filter((spec) => spec.kind !== "workers").sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
      const processes = [];
      for (const spec of specs)
        processes.push(
          nodeProcess(
            `replica${index}-${spec.name}`,
            [spec.name],
            {
              ...keepingSecrets(env, needsOfService(spec).secrets),
              METRICS_PORT: String(await freePort()),
            },
            say,
          ),
        );
      replicas.push(replicaOf(index, restPort, gatewayPort, processes));
    }
    // Replicas start side by side; a split replica's processes in dependency order.
    await Promise.all(
      replicas.map(async (replica) => {
        for (const process of replica.processes) await process.start();
      }),
    );
    started.push(...replicas.flatMap((replica) => replica.processes));

    const config = path.join(options.dataDir, "haproxy.cfg");
    fs.writeFileSync(config, haproxyConfig(options, replicas));
    execFileSync(haproxy, ["-c", "-q", "-f", config]);
    balancer = spawn(haproxy, ["-db", "-f", config], { stdio: ["ignore", "ignore", "inherit"] });
    await waitForDoor(`http://127.0.0.1:${options.ports.rest}/readyz`);
    await waitForDoor(`http://127.0.0.1:${options.ports.gateway}/readyz`);
    say(`HAProxy balancing ${options.replicas} ${options.shape === "cells" ? "cells" : "split replicas"}`);

    return {
      restUrl: `http://127.0.0.1:${options.ports.rest}`,
      graphqlUrl: `http://127.0.0.1:${options.ports.gateway}/graphql`,
      storageUrl,
      statsUrl: `http://127.0.0.1:${options.ports.stats}/`,
      env: base,
      databases,
      replicas,
      workers,
      balancerState: () => balancerState(options.ports.stats),
      waitUntilUp: async (index) => {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        while (Date.now() < deadline) {
          const state = await balancerState(options.ports.stats);
          if (state[`legacy/replica${index}`] === "UP" && state[`graphql/replica${index}`] === "UP") return;
          await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS / 2));
        }
        throw new Error(`replica${index} is not in rotation after ${READY_TIMEOUT_MS / 1000} s`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** HAProxy's status page as CSV: each server's status by "<backend>/<server>". */
async function balancerState(statsPort: number): Promise<Record<string, string>> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/;csv`)).text();
  const [header, ...rows] = csv.split("\n").filter(Boolean);
  const columns = header!.replace(/^# /, "").split(",");
  const [name, server, status] = ["pxname", "svname", "status"].map((column) => columns.indexOf(column));
  return Object.fromEntries(
    rows
      .map((row) => row.split(","))
      .filter((cells) => cells[server!]?.startsWith("replica"))
      .map((cells) => [`${cells[name!]}/${cells[server!]}`, cells[status!]!]),
  );
}

async function waitForDoor(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer through the balancer`);
}

/** Variables the command line's cluster adds for trying and benchmarking it: limits a load generator on one address fits in. */
export const BENCH_FRIENDLY_LIMITS = {
  RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: "100000",
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "100000",
  RATE_LIMIT_WRITES_PER_USER_PER_MINUTE: "100000",
  RATE_LIMIT_READS_PER_IP_PER_MINUTE: "10000000",
};

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(`--${name}`);
  const value = (name: string, fallback: number) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? Number(args[index + 1]) : fallback;
  };
  const prefix = process.env.CLUSTER_PREFIX ?? "douyin-cluster";
  const options: ClusterOptions = {
    replicas: value("replicas", 3),
    shape: flag("split") ? "split" : "cells",
    workers: value("workers", 1),
    ports: {
      rest: Number(process.env.CLUSTER_REST_PORT ?? 8080),
      gateway: Number(process.env.CLUSTER_GATEWAY_PORT ?? 4000),
      storage: Number(process.env.CLUSTER_STORAGE_PORT ?? 9000),
      stats: Number(process.env.CLUSTER_STATS_PORT ?? 8404),
    },
    postgresUrl: process.env.CLUSTER_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.CLUSTER_REDIS_URL ?? "redis://127.0.0.1:6379",
    prefix,
    env: BENCH_FRIENDLY_LIMITS,
    seed: flag("seed"),
    dataDir: path.join(projectRoot, "data", prefix),
    say: (line) => process.stdout.write(`cluster: ${line}\n`),
  };
  const started = Date.now();
  startCluster(options).then(
    (cluster) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        [
          "",
          `  ${options.replicas} ${options.shape} behind HAProxy, ready in ${seconds} s (production mode, PostgreSQL, Redis prefix ${prefix})`,
          `  legacy REST   ${cluster.restUrl}/douyin/`,
          `  GraphQL       ${cluster.graphqlUrl}`,
          `  media         ${cluster.storageUrl}/douyin-media/`,
          `  HAProxy       ${cluster.statsUrl}  (each replica's state)`,
          `  bench it      BENCH_REST_URL=${cluster.restUrl} BENCH_GRAPHQL_URL=${cluster.graphqlUrl} npm run bench`,
          "  Ctrl-C stops everything.",
          "",
        ].join("\n") + "\n",
      );
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void cluster.stop().then(() => process.exit(0));
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    },
    (error: Error) => {
      process.stderr.write(`cluster: ${error.message}\n`);
      process.exit(1);
    },
  );
}
