// What one process shares among the services it runs (see Platform in framework/subgraph.ts): on Redis
// for every running stack, or in memory for the fast test tier and tools that run without it.
import type { Config } from "../platform/config";
import { MemoryKeyValueStore, RedisKeyValueStore } from "../platform/kv";
import { LocalInvalidationBus, RedisInvalidationBus } from "../platform/local-cache";
import type { Logger } from "../platform/logger";
import { Metrics } from "../platform/metrics";
import { BullQueues, MemoryQueues } from "../platform/queues";
import { createLimiterFactory } from "../platform/rate-limits";
import { fixedWorkerId, WorkerIdLease } from "../platform/worker-id";
import { connectRedis } from "../platform/redis";
import type { Platform } from "../framework/subgraph";

export interface OpenPlatform extends Platform {
  close(): Promise<void>;
}

/** Connects to Redis (failing with a clear message when it is unreachable). */
export async function openPlatform(config: Config, log: Logger, service: string): Promise<OpenPlatform> {
  const redis = await connectRedis(config, { name: service });
  let workerRedis;
  let subscriber;
  try {
    workerRedis = await connectRedis(config, { forWorkers: true, name: `${service}-workers` });
    subscriber = await connectRedis(config, { forWorkers: true, name: `${service}-invalidations` });
  } catch (error) {
    redis.disconnect();
    workerRedis?.disconnect();
    throw error;
  }
  const queues = new BullQueues(config, redis, workerRedis, log);
  const metrics = new Metrics(service, { defaultMetrics: true });
  const bus = new RedisInvalidationBus(redis, subscriber, config.redis.prefix, log, {
    ackTimeoutMs: config.localCache.invalidationTimeoutMs,
    observe: (seconds, complete) => metrics.cacheInvalidations.observe({ outcome: complete ? "acknowledged" : "timeout" }, seconds),
  });
  await bus.start();
  const workerId =
    config.idWorkerId !== undefined ? fixedWorkerId(config.idWorkerId) : await WorkerIdLease.acquire(redis, config.redis.prefix, log);
  metrics.countQueues(() => queues.counts());
  return {
    config,
    log,
    metrics,
    kv: new RedisKeyValueStore(redis, config.redis.prefix),
    queues,
    redis,
    bus,
    limits: createLimiterFactory(redis, config.redis.prefix, log, metrics),
    workerId,
    close: async () => {
      await workerId.release();
      await queues.close();
      await bus.close();
      await workerRedis.quit().catch(() => workerRedis.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Everything in this process's memory: nothing is shared with other processes or kept. */
export function memoryPlatform(config: Config, log: Logger, service: string): OpenPlatform {
  const queues = new MemoryQueues(log);
  const metrics = new Metrics(service);
  metrics.countQueues(() => queues.counts());
  return {
    config,
    log,
    metrics,
    kv: new MemoryKeyValueStore(),
    queues,
    redis: null,
    bus: new LocalInvalidationBus(),
    limits: createLimiterFactory(null, config.redis.prefix, log, metrics),
    // Nothing is shared without Redis: one process, one generator per subgraph.
    workerId: fixedWorkerId(config.idWorkerId ?? 0),
    close: () => queues.close(),
  };
}
