// Starts the real stack for a test file: the three subgraphs, the gateway and the REST adapter
// on random ports, each subgraph on a fresh database of the real PostgreSQL server, all keys
// in Redis under a fresh prefix; `close()` removes every trace.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import pg from "pg";
import { Redis } from "ioredis";
import { keepingSecrets, loadConfig, projectRoot, withStartSecrets, type Config } from "../platform/config";
import { createLogger, type Logger } from "../platform/logger";
import { SUBGRAPHS } from "../platform/registry";
import { freePort } from "../scripts/ports";
import type { RunningService } from "../platform/http";
import { startStorageServer } from "../media/storage-server";
import {
  needsOfService,
  startColocated,
  startGatewayService,
  startRestService,
  startSubgraphService,
  stackServices,
  type ServiceSpec,
} from "../server/stack";

/** The compiled process entry every container runs (`node dist/server/main.js <service>`). */
export const SERVER_ENTRY = path.join(projectRoot, "dist", "server", "main.js");

/** A port free on 127.0.0.1 now (below the ephemeral range), for a process a test starts itself. */
export { freePort };

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Stack {
  config: Config;
  /** The environment the services were configured from (for processes a test starts itself). */
  environment: Record<string, string>;
  restUrl: string;
  graphqlUrl: string;
  /** How the stack runs: one process as `npm start` does, or one service per process (over HTTP). */
  mode: StackMode;
  /** Each subgraph's own HTTP endpoint (split mode only: co-located subgraphs have none). */
  subgraphUrls: Record<string, string>;
  /** Where a service's metrics are read (a subgraph's, the gateway's or the REST adapter's process when split, the one process's otherwise). */
  metricsUrl(service: string): string;
  close(): Promise<void>;
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database per subgraph; returns their URLs by subgraph. */
export async function createTestDatabases(tag: string): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const { name: subgraph } of SUBGRAPHS) {
    const name = `douyin_test_${tag}_${subgraph}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    urls[subgraph] = databaseUrl(name);
  }
  return urls;
}

export async function dropTestDatabases(tag: string): Promise<void> {
  for (const { name: subgraph } of SUBGRAPHS) await adminQuery(`DROP DATABASE IF EXISTS douyin_test_${tag}_${subgraph} WITH (FORCE)`);
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Tells the stack's processes to forget cached entries, over the same bus its writers use: for
 * tests that change rows behind the stack's back (seeding, corrupting).
 */
export async function dropCached(stack: Pick<Stack, "config">, cache: string, keys: (string | number)[]): Promise<void> {
  const redis = new Redis(stack.config.redis.url);
  try {
    await redis.publish(
      `${stack.config.redis.prefix}:cache-invalidation`,
      JSON.stringify({ origin: "test", cache, keys: keys.map(String) }),
    );
  } finally {
    redis.disconnect();
  }
  // Pub/sub delivery is asynchronous; it takes well under this on one machine.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Makes the counter drainer of one subgraph's database fail until the returned function is
 * called: a trigger refuses writes to its counters, so drains roll back and changes wait.
 */
export async function blockCounters(stack: Pick<Stack, "config">, subgraph: string): Promise<() => Promise<void>> {
  await withDatabase(stack, subgraph, (client) =>
    client.query(`
      CREATE OR REPLACE FUNCTION test_block_counters() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'counters blocked by a test'; END $$;
      CREATE TRIGGER test_block_counters BEFORE INSERT OR UPDATE ON user_stats FOR EACH STATEMENT EXECUTE FUNCTION test_block_counters();`),
  );
  return () =>
    withDatabase(stack, subgraph, (client) => client.query(`DROP TRIGGER test_block_counters ON user_stats`)).then(() => undefined);
}

/** Counter changes written and not applied yet, in one subgraph's outbox. */
export const pendingCounterChanges = (stack: Pick<Stack, "config">, subgraph: string) =>
  withDatabase(stack, subgraph, async (client) => Number((await client.query(`SELECT count(*) AS n FROM counter_outbox`)).rows[0].n));

/** Runs `work` on a direct connection to one subgraph's database (to seed or corrupt rows). */
export async function withDatabase<T>(stack: Pick<Stack, "config">, subgraph: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const spec = stack.config.subgraphs[subgraph]!.database;
  if (spec.kind !== "postgres") throw new Error(`the ${subgraph} database of a test stack is PostgreSQL`);
  const client = new pg.Client({ connectionString: spec.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The environment every test stack shares; `overrides` adds or replaces variables. */
export function testEnvironment(
  tag: string,
  databases: Record<string, string>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    HOST: "127.0.0.1",
    // Every process's metrics on a port of its own, any free one.
    METRICS_PORT: "0",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `test-${tag}`,
    ...Object.fromEntries(SUBGRAPHS.map((entry) => [`${entry.envPrefix}_DATABASE_URL`, databases[entry.name]!])),
    DATABASE_MIGRATE_ON_START: "true",
    DATABASE_POOL_SIZE: "5",
    // Cheap hashing keeps the suite fast; production defaults are tested in the unit tests.
    ARGON2_MEMORY_KIB: "4096",
    ARGON2_TIME_COST: "1",
    // The media tools to test with (default: the system's on PATH, else the bundled ones).
    ...(process.env.FFMPEG_PATH && { FFMPEG_PATH: process.env.FFMPEG_PATH }),
    ...(process.env.FFPROBE_PATH && { FFPROBE_PATH: process.env.FFPROBE_PATH }),
    ...overrides,
  };
}

export type StackMode = "colocated" | "split";

/** `env` with only the secrets the service uses, as `npm start -- --split` and a deployment hand them out. */
const ownSecrets = (env: Record<string, string>, spec: ServiceSpec) => keepingSecrets(env, needsOfService(spec).secrets);

/** The modes a test file runs its suite in: TEST_STACK_MODES=split,colocated (default both where a file asks for both). */
export const stackModes = (wanted: StackMode[]): StackMode[] => {
  const only = process.env.TEST_STACK_MODES?.split(",") as StackMode[] | undefined;
  return only ? wanted.filter((mode) => only.includes(mode)) : wanted;
};

export async function startStack(
  overrides: Record<string, string> = {},
  mode: StackMode = "colocated",
  /** Rewrites the final environment (e.g. to reach a server through a fault-injecting proxy). */
  transform: (env: Record<string, string>) => Record<string, string> = (env) => env,
  /** Where the services log (default: stdout at TEST_LOG_LEVEL); a test that reads what was logged passes its own. */
  logger?: Logger,
): Promise<Stack> {
  const tag = randomBytes(5).toString("hex");
  const databases = await createTestDatabases(tag);
  const started: RunningService[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `douyin-test-${tag}-`));
  const cleanup = async () => {
    for (const service of started.reverse()) await service.close();
    await dropTestDatabases(tag);
    await deleteRedisKeys(`test-${tag}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // The embedded object storage, as `npm start` runs it, on a random port.
    const storageConfig = loadConfig({ ...testEnvironment(tag, databases, overrides), DATA_DIR: dataDir });
    const storage = await startStorageServer(storageConfig, createLogger(storageConfig, "storage"), 0);
    started.push(storage);
    // The stack's secrets, made once as `npm start` makes them, so that its services (and replicas) believe each other.
    const baseEnv = transform(
      withStartSecrets(testEnvironment(tag, databases, { DATA_DIR: dataDir, S3_PORT: String(storage.port), ...overrides })),
    );
    const log = logger ?? createLogger(loadConfig(baseEnv), "test-stack");
    if (mode === "colocated") {
      // Everything in this process, as `npm start` runs it.
      const config = loadConfig(baseEnv);
      const stack = await startColocated(config, log, { rest: 0, gateway: 0, storage: false });
      started.push({ name: "stack", url: stack.restUrl, port: 0, close: () => stack.close() });
      return {
        config,
        mode,
        environment: baseEnv,
        restUrl: stack.restUrl,
        graphqlUrl: stack.graphqlUrl,
        subgraphUrls: {},
        metricsUrl: () => stack.metricsUrl,
        close: cleanup,
      };
    }
    // Each subgraph as its own service over HTTP, with its id-generator worker id, as `npm start -- --split` runs them.
    const subgraphs = await Promise.all(
      stackServices()
        .filter((spec) => spec.kind === "subgraph")
        .map((spec) => startSubgraphService(spec.subgraph!, loadConfig(ownSecrets(baseEnv, spec)), log.child({ service: spec.name }), 0)),
    );
    started.push(...subgraphs);
    const subgraphUrls = Object.fromEntries(subgraphs.map((service) => [service.name, service.url]));
    const subgraphMetrics = Object.fromEntries(subgraphs.map((service) => [service.name, service.metricsUrl!]));
    const edgeEnv = {
      ...baseEnv,
      ...Object.fromEntries(SUBGRAPHS.map((entry) => [`${entry.envPrefix}_SUBGRAPH_URL`, subgraphUrls[entry.name]!])),
    };
    const config = loadConfig(edgeEnv);
    const gateway = await startGatewayService(config, log.child({ service: "gateway" }), 0);
    started.push(gateway);
    const restConfig = loadConfig(
      ownSecrets(
        edgeEnv,
        stackServices().find((spec) => spec.kind === "rest-adapter")!,
      ),
    );
    const rest = await startRestService(restConfig, log.child({ service: "rest-adapter" }), 0, gateway.url);
    started.push(rest);
    return {
      config,
      mode,
      environment: baseEnv,
      restUrl: rest.url,
      graphqlUrl: gateway.url,
      subgraphUrls,
      metricsUrl: (service) =>
        service === "gateway" ? gateway.metricsUrl! : service === "rest-adapter" ? rest.metricsUrl! : subgraphMetrics[service]!,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export interface Replica {
  restUrl: string;
  graphqlUrl: string;
  metricsUrl: string;
  process: ChildProcess;
  /** SIGTERM, and resolves once the process has exited. Close it before the stack, which removes what they share. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Another replica of a stack, as a deployment runs one: the co-located process (`node
 * dist/server/main.js`) in a process of its own, on the same databases, Redis prefix and object
 * storage, on ports of its own. Its caches are its own; only Redis connects it to the others.
 */
export async function startReplica(stack: Pick<Stack, "environment">, overrides: Record<string, string> = {}): Promise<Replica> {
  const [rest, gateway, metrics] = [await freePort(), await freePort(), await freePort()];
  const child = fork(SERVER_ENTRY, [], {
    env: {
      ...(process.env as Record<string, string>),
      ...stack.environment,
      REST_PORT: String(rest),
      GATEWAY_PORT: String(gateway),
      METRICS_PORT: String(metrics),
      // The first replica's object storage (the embedded one runs once).
      S3_ENDPOINT: `http://127.0.0.1:${stack.environment.S3_PORT}`,
      ...overrides,
    },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code, signal) => reject(new Error(`the replica exited during start-up (${code ?? signal})`)));
  });
  return {
    restUrl: `http://127.0.0.1:${rest}`,
    graphqlUrl: `http://127.0.0.1:${gateway}/graphql`,
    metricsUrl: `http://127.0.0.1:${metrics}`,
    process: child,
    stop,
    close: stop,
  };
}
