// Starts the real stack for a test file: the three subgraphs, the gateway and the REST adapter
// on random ports, each subgraph on a fresh database of the real PostgreSQL server, all keys
// in Redis under a fresh prefix; `close()` removes every trace.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { loadConfig, SUBGRAPH_NAMES, type Config, type SubgraphName } from "../common/config";
import { createLogger } from "../common/logger";
import type { RunningService } from "../common/subgraph-host";
import { startGateway } from "../gateway/server";
import { startStorageServer } from "../media/storage-server";
import { startRestAdapter } from "../rest-adapter/server";
import { startRelationSubgraph } from "../subgraphs/relation/server";
import { startUserSubgraph } from "../subgraphs/user/server";
import { startVideoSubgraph } from "../subgraphs/video/server";

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Stack {
  config: Config;
  /** The environment the services were configured from (for processes a test starts itself). */
  environment: Record<string, string>;
  restUrl: string;
  graphqlUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
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

/** Creates fresh databases; returns their URLs by subgraph. */
export async function createTestDatabases(tag: string): Promise<Record<SubgraphName, string>> {
  const urls = {} as Record<SubgraphName, string>;
  for (const subgraph of SUBGRAPH_NAMES) {
    const name = `douyin_test_${tag}_${subgraph}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    urls[subgraph] = databaseUrl(name);
  }
  return urls;
}

export async function dropTestDatabases(tag: string): Promise<void> {
  for (const subgraph of SUBGRAPH_NAMES) await adminQuery(`DROP DATABASE IF EXISTS douyin_test_${tag}_${subgraph} WITH (FORCE)`);
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

/** Runs `work` on a direct connection to one subgraph's database (to seed or corrupt rows). */
export async function withDatabase<T>(stack: Pick<Stack, "config">, subgraph: SubgraphName, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const spec = stack.config.databases[subgraph];
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
export function testEnvironment(tag: string, databases: Record<SubgraphName, string>, overrides: Record<string, string> = {}) {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    HOST: "127.0.0.1",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `test-${tag}`,
    USER_DATABASE_URL: databases.user,
    VIDEO_DATABASE_URL: databases.video,
    RELATION_DATABASE_URL: databases.relation,
    DATABASE_MIGRATE_ON_START: "true",
    DATABASE_POOL_SIZE: "5",
    // Cheap hashing keeps the suite fast; production defaults are tested in the unit tests.
    ARGON2_MEMORY_KIB: "4096",
    ARGON2_TIME_COST: "1",
    ...overrides,
  };
}

export async function startStack(overrides: Record<string, string> = {}): Promise<Stack> {
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
    const baseEnv = testEnvironment(tag, databases, { DATA_DIR: dataDir, S3_PORT: String(storage.port), ...overrides });
    const baseConfig = loadConfig(baseEnv);
    const log = createLogger(baseConfig, "test-stack");
    const [user, video, relation] = await Promise.all([
      startUserSubgraph(loadConfig({ ...baseEnv, ID_WORKER_ID: "1" }), log.child({ service: "user" }), 0),
      startVideoSubgraph(loadConfig({ ...baseEnv, ID_WORKER_ID: "2" }), log.child({ service: "video" }), 0),
      startRelationSubgraph(loadConfig({ ...baseEnv, ID_WORKER_ID: "3" }), log.child({ service: "relation" }), 0),
    ]);
    started.push(user, video, relation);
    const config = loadConfig({
      ...baseEnv,
      USER_SUBGRAPH_URL: user.url,
      VIDEO_SUBGRAPH_URL: video.url,
      RELATION_SUBGRAPH_URL: relation.url,
    });
    const gateway = await startGateway(config, log.child({ service: "gateway" }), 0);
    started.push(gateway);
    const rest = await startRestAdapter(config, log.child({ service: "rest-adapter" }), 0, gateway.url);
    started.push(rest);
    return {
      config,
      environment: { ...baseEnv, ID_WORKER_ID: "4" },
      restUrl: rest.url,
      graphqlUrl: gateway.url,
      subgraphUrls: { user: user.url, video: video.url, relation: relation.url },
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
