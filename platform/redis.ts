// Redis connections (ioredis) and the key naming shared by caches, sessions and queues.
import { Redis, type RedisOptions } from "ioredis";
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
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: options.forWorkers ? null : 3,
  };
  const redis = new Redis(config.redis.url, redisOptions);
  // ioredis reports connection errors as events; logging them is the caller's job, but an
  // unhandled 'error' event must never crash the process.
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(
      `cannot reach Redis at ${redactUrl(config.redis.url)} (${(error as Error).message}). ` +
        "Start a Redis server (e.g. `redis-server --daemonize yes`) or set REDIS_URL.",
    );
  }
  return redis;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/** A key in this deployment's namespace, e.g. `douyin:session:123`. */
export function redisKey(config: Pick<Config, "redis">, ...parts: (string | number)[]): string {
  return [config.redis.prefix, ...parts].join(":");
}
