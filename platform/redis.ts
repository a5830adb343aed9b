// Redis connections (ioredis) and the key naming shared by caches, sessions and queues.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config";

export type { Redis };

export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/**
 * Opens a connection and waits until Redis answers, failing with a clear message when it
 * cannot be reached. `forWorkers` connections block on commands, as BullMQ requires.
 */
export async function connectRedis(config: Pick<Config, "redis">, options: { forWorkers?: boolean; name?: string } = {}): Promise<Redis> {
  const { sentinel } = config.redis;
  let started = false;
  // Finding Sentinel's master or the cluster's nodes: at start-up, give up after a few rounds
  // with a clear error (a wrong name or address); once running, keep trying through a failover
  // or an outage however long it takes.
  const retryUntilStarted = (times: number) => (!started && times > 5 ? null : Math.min(times * 200, 2000));
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: options.forWorkers ? null : 3,
    // Behind Sentinel: ask the sentinels for the master, and again after a failover (ioredis
    // reconnects to the new master; duplicates of this connection, BullMQ's, do the same).
    ...(sentinel && {
      sentinels: sentinel.nodes,
      name: sentinel.name,
      sentinelRetryStrategy: retryUntilStarted,
    }),
  };
  const redis = config.redis.clusterNodes
    ? openCluster(config, redisOptions, retryUntilStarted)
    : new Redis(config.redis.url, redisOptions);
  // ioredis reports connection errors as events; logging them is the caller's job, but an
  // unhandled 'error' event must never crash the process.
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    started = true;
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(
      `cannot reach Redis at ${where(config)} (${(error as Error).message}). ` +
        "Start a Redis server (e.g. `redis-server --daemonize yes`) or set REDIS_URL.",
    );
  }
  return redis;
}

/**
 * A Redis Cluster client, typed as a Redis connection: it answers the same commands, routing
 * each to the node owning its key's slot. What the stack sends across keys keeps them in one
 * slot (BullMQ's keys share the `{prefix}` hash tag) or goes key by key (kv.ts, `inCluster`).
 */
function openCluster(config: Pick<Config, "redis">, redisOptions: RedisOptions, retry: (times: number) => number | null): Redis {
  const url = new URL(config.redis.url);
  const { lazyConnect, enableAutoPipelining, ...nodeOptions } = redisOptions;
  const cluster = new Cluster(config.redis.clusterNodes!, {
    lazyConnect,
    enableAutoPipelining,
    clusterRetryStrategy: retry,
    redisOptions: {
      ...nodeOptions,
      ...(url.username && { username: decodeURIComponent(url.username) }),
      ...(url.password && { password: decodeURIComponent(url.password) }),
      ...(url.protocol === "rediss:" && { tls: {} }),
    },
  });
  return cluster as unknown as Redis;
}

/** Whether a connection is a Redis Cluster client (commands across keys must then go key by key). */
export function inCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

function where(config: Pick<Config, "redis">): string {
  const { sentinel, clusterNodes } = config.redis;
  if (clusterNodes) return `the cluster nodes ${clusterNodes.map(({ host, port }) => `${host}:${port}`).join(", ")}`;
  if (!sentinel) return redactUrl(config.redis.url);
  return `the master "${sentinel.name}" of the sentinels ${sentinel.nodes.map(({ host, port }) => `${host}:${port}`).join(", ")}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
