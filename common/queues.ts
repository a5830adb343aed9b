// BullMQ queues and workers with the project's defaults: one hash-tagged prefix per
// deployment (so a queue's keys share a Redis Cluster slot), retries with backoff, and
// bounded completed/failed history.
import { Queue, Worker, type Job, type JobsOptions, type Processor, type WorkerOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "./config";
import type { Logger } from "./logger";

export type { Job };

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 200 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

/** The BullMQ prefix: a hash tag, so each deployment's queue keys share a Redis Cluster slot. */
export function queuePrefix(config: Pick<Config, "redis">): string {
  return `{${config.redis.prefix}}`;
}

export function createQueue<Data>(config: Pick<Config, "redis">, connection: Redis, name: string): Queue<Data> {
  return new Queue<Data>(name, { connection, prefix: queuePrefix(config), defaultJobOptions: DEFAULT_JOB_OPTIONS }) as Queue<Data>;
}

/**
 * Starts a worker. `connection` must come from connectRedis(..., { forWorkers: true }); BullMQ
 * duplicates it for blocking commands. Failures are logged with the job id and attempt.
 */
export function createWorker<Data>(
  config: Pick<Config, "redis" | "queueLockMs">,
  connection: Redis,
  name: string,
  processor: Processor<Data>,
  log: Logger,
  options: Omit<WorkerOptions, "connection" | "prefix"> = {},
): Worker<Data> {
  const worker = new Worker<Data>(name, processor, {
    concurrency: 4,
    lockDuration: config.queueLockMs,
    stalledInterval: config.queueLockMs,
    ...options,
    connection,
    prefix: queuePrefix(config),
  });
  worker.on("failed", (job, error) =>
    log.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, "job failed"),
  );
  worker.on("error", (error) => log.error({ queue: name, err: error }, "worker error"));
  return worker;
}

/** The scheduled job on a counter queue that forgets applied event ids past their retention. */
export const PRUNE_COUNTER_EVENTS = "prune-counter-events";

/** Schedules the periodic pruning of a counter queue's ledger (idempotent across processes). */
export async function schedulePruning(queue: Queue<any>, config: Pick<Config, "counterEvents">): Promise<void> {
  await queue.upsertJobScheduler(PRUNE_COUNTER_EVENTS, { every: config.counterEvents.pruneIntervalMs }, { name: PRUNE_COUNTER_EVENTS });
}

/**
 * A worker applying counter events: `apply` records the event id with the change and returns
 * false for an event already applied (a redelivery), which is logged and otherwise ignored.
 * The scheduled prune job removes ledger entries older than the retention, via `prune`.
 */
export function createCounterWorker<Event extends { eventId: string }>(
  config: Pick<Config, "redis" | "queueLockMs" | "counterWorkerConcurrency" | "counterEvents">,
  connection: Redis,
  name: string,
  apply: (event: Event) => Promise<boolean>,
  prune: (appliedBefore: Date) => Promise<number>,
  log: Logger,
): Worker<Event> {
  return createWorker<Event>(
    config,
    connection,
    name,
    async (job) => {
      if (job.name === PRUNE_COUNTER_EVENTS) {
        const removed = await prune(new Date(Date.now() - config.counterEvents.retentionMs));
        log.info({ queue: name, removed }, "pruned applied counter events");
        return { removed };
      }
      const applied = await apply(job.data);
      if (!applied) log.info({ queue: name, eventId: job.data.eventId }, "counter event already applied; skipped");
      return { applied };
    },
    log,
    { concurrency: config.counterWorkerConcurrency },
  );
}
