// Background jobs behind one small interface: BullMQ on Redis for every running stack (one
// hash-tagged prefix per deployment so a queue's keys share a Redis Cluster slot, retries with
// backoff, bounded history), and an in-process implementation with the same semantics for the
// fast test tier, which runs with no Redis. Subgraphs only see `Queues`.
import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type JobsOptions } from "bullmq";
import { BullMQOtel } from "bullmq-otel";
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import type { Config } from "./config";
import type { Logger } from "./logger";
import { tracingEnabled } from "./tracing";

export interface Job<Data> {
  id: string;
  name: string;
  data: Data;
  /** 1 on the first delivery, 2 on the first retry, ... */
  attempt: number;
}

export type Processor<Data, Result> = (job: Job<Data>) => Promise<Result>;

export interface JobOptions {
  /** Jobs are unique by id: adding one whose id exists already does nothing. */
  jobId?: string;
  delayMs?: number;
}

export interface JobQueue<Data, Result = unknown> {
  readonly name: string;
  add(name: string, data: Data, options?: JobOptions): Promise<void>;
  /** Adds a job and waits for a worker to finish it: its result, or JobTimeoutError / JobFailedError. */
  addAndWait(name: string, data: Data, options: JobOptions & { timeoutMs: number }): Promise<Result>;
  /** Whether a job with this id was added and is still remembered (waiting, running or recently done). */
  has(jobId: string): Promise<boolean>;
  /** Adds `jobName` every `everyMs`, once across all processes however often this is called. */
  schedule(jobName: string, everyMs: number): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
}

export interface Queues {
  queue<Data, Result = unknown>(name: string): JobQueue<Data, Result>;
  /** Consumes a queue in this process until close(). */
  work<Data, Result>(name: string, processor: Processor<Data, Result>, options: WorkerOptions): void;
  /** Jobs by state in every queue this process has used (for the `queue_jobs` metric). */
  counts(): Promise<{ queue: string; state: QueueState; jobs: number }[]>;
  close(): Promise<void>;
}

export const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** The job did not finish within the caller's wait: it may still finish later. */
export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

/** The job failed for good (every attempt, or a PermanentJobError). */
export class JobFailedError extends Error {
  override name = "JobFailedError";
}

/** Thrown by a processor for a failure that retrying cannot fix. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/**
 * Thrown by a processor that must not run this job now (e.g. its user already has their share
 * of the workers): the job goes back to wait `delayMs`, then runs again as the same attempt, and
 * whoever waits for it keeps waiting. The worker's slot goes to the next job meanwhile.
 */
export class DeferJobError extends Error {
  override name = "DeferJobError";
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export const JOB_ATTEMPTS = 10;
const BACKOFF_MS = 200;

const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: "exponential", delay: BACKOFF_MS },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

/** The BullMQ prefix: a hash tag, so each deployment's queue keys share a Redis Cluster slot. */
export function queuePrefix(config: Pick<Config, "redis">): string {
  return `{${config.redis.prefix}}`;
}

/** BullMQ job ids may not contain ':'. */
const bullJobId = (id: string | undefined) => id?.replaceAll(":", "-");

/**
 * BullMQ queues on two connections: `connection` for adding jobs, `workerConnection` (from
 * connectRedis(..., { forWorkers: true })) for the blocking commands of workers and events.
 */
export class BullQueues implements Queues {
  private readonly queues = new Map<string, Queue>();
  private readonly events = new Map<string, { ready: Promise<QueueEvents>; connection: Redis }>();
  private readonly workers: Worker[] = [];
  /**
   * With tracing on, a job carries the context of whoever added it: its processing span is a
   * child of the request (or drain) that enqueued it. Off, BullMQ records nothing.
   */
  private readonly telemetry = tracingEnabled() ? { telemetry: new BullMQOtel({ tracerName: "bullmq" }) } : {};

  constructor(
    private readonly config: Pick<Config, "redis" | "queueLockMs">,
    private readonly connection: Redis,
    private readonly workerConnection: Redis,
    private readonly log: Logger,
  ) {}

  private bull(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection,
        prefix: queuePrefix(this.config),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
        ...this.telemetry,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  private queueEvents(name: string): Promise<QueueEvents> {
    let events = this.events.get(name);
    if (!events) {
      // Events are read with blocking commands: a connection of their own. Its read loop runs
      // for the life of the process, so it starts outside the request that first needed it
      // (with tracing on, its every read would otherwise join that request's trace).
      events = context.with(ROOT_CONTEXT, () => {
        const connection = this.workerConnection.duplicate();
        const queueEvents = new QueueEvents(name, { connection, prefix: queuePrefix(this.config) });
        return { ready: queueEvents.waitUntilReady().then(() => queueEvents), connection };
      });
      this.events.set(name, events);
    }
    return events.ready;
  }

  queue<Data, Result = unknown>(name: string): JobQueue<Data, Result> {
    const add = async (jobName: string, data: Data, options: JobOptions = {}) =>
      this.bull(name).add(jobName, data, { jobId: bullJobId(options.jobId), delay: options.delayMs });
    return {
      name,
      add: async (jobName, data, options) => void (await add(jobName, data, options)),
      addAndWait: async (jobName, data, options) => {
        const events = await this.queueEvents(name);
        const job = await add(jobName, data, options);
        try {
          return (await job.waitUntilFinished(events, options.timeoutMs)) as Result;
        } catch (error) {
          // BullMQ reports a wait that ran out with this message, and a failed job with its reason.
          if (/timed out before finishing/.test((error as Error).message)) throw new JobTimeoutError(`${name} job ${job.id} still running`);
          throw new JobFailedError((error as Error).message);
        }
      },
      has: async (jobId) => (await this.bull(name).getJob(bullJobId(jobId)!)) !== undefined,
      schedule: async (jobName, everyMs) => void (await this.bull(name).upsertJobScheduler(jobName, { every: everyMs }, { name: jobName })),
    };
  }

  async counts(): Promise<{ queue: string; state: QueueState; jobs: number }[]> {
    const names = new Set([...this.queues.keys(), ...this.workers.map((worker) => worker.name)]);
    const rows = await Promise.all(
      [...names].map(async (name) => {
        const counts = await this.bull(name).getJobCounts(...QUEUE_STATES);
        return QUEUE_STATES.map((state) => ({ queue: name, state, jobs: counts[state] ?? 0 }));
      }),
    );
    return rows.flat();
  }

  work<Data, Result>(name: string, processor: Processor<Data, Result>, options: WorkerOptions): void {
    const worker = new Worker<Data, Result>(
      name,
      async (job, token) => {
        try {
          return await processor({ id: job.id ?? "", name: job.name, data: job.data, attempt: job.attemptsMade + 1 });
        } catch (error) {
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          if (error instanceof DeferJobError) {
            // BullMQ's way to put an active job back without counting an attempt.
            await job.moveToDelayed(Date.now() + error.delayMs, token);
            throw new DelayedError(error.message);
          }
          throw error;
        }
      },
      {
        concurrency: options.concurrency,
        connection: this.workerConnection,
        prefix: queuePrefix(this.config),
        // A job whose worker stops renewing its lock this long is taken back and retried (a crash).
        lockDuration: this.config.queueLockMs,
        stalledInterval: this.config.queueLockMs,
        ...this.telemetry,
      },
    );
    worker.on("failed", (job, error) =>
      this.log.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, "job failed"),
    );
    worker.on("error", (error) => this.log.error({ queue: name, err: error }, "worker error"));
    this.workers.push(worker);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.close()));
    for (const { ready, connection } of this.events.values()) {
      await (await ready.catch(() => undefined))?.close();
      connection.disconnect();
    }
    this.events.clear();
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}

interface MemoryJob {
  job: Job<unknown>;
  done: Promise<unknown>;
  settle: { resolve(value: unknown): void; reject(error: unknown): void };
  finished: boolean;
}

/**
 * The same contract in one process: jobs run on this process's workers with the same retries
 * (shorter backoff) and the same uniqueness by id. Nothing survives the process.
 */
export class MemoryQueues implements Queues {
  private readonly jobs = new Map<string, Map<string, MemoryJob>>();
  private readonly waiting = new Map<string, MemoryJob[]>();
  private readonly processors = new Map<string, { processor: Processor<unknown, unknown>; concurrency: number; running: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sequence = 0;
  private closed = false;
  /** Jobs added and not finished yet (waiting, delayed, running or between retries). */
  private outstanding = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly log: Logger,
    private readonly backoffMs = 5,
  ) {}

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private enqueue(queue: string, entry: MemoryJob): void {
    if (this.closed) return;
    const list = this.waiting.get(queue) ?? [];
    list.push(entry);
    this.waiting.set(queue, list);
    this.pump(queue);
  }

  private pump(queue: string): void {
    const consumer = this.processors.get(queue);
    const list = this.waiting.get(queue);
    while (consumer && list && list.length > 0 && consumer.running < consumer.concurrency && !this.closed) {
      const entry = list.shift()!;
      consumer.running += 1;
      void consumer
        .processor(entry.job)
        .then(
          (result) => {
            this.finish(entry);
            entry.settle.resolve(result);
          },
          (error: unknown) => {
            if (error instanceof DeferJobError) {
              this.later(error.delayMs, () => this.enqueue(queue, entry));
              return;
            }
            const permanent = error instanceof PermanentJobError || entry.job.attempt >= JOB_ATTEMPTS;
            this.log.warn({ queue, jobId: entry.job.id, attempt: entry.job.attempt, err: error }, "job failed");
            if (permanent) {
              this.finish(entry);
              entry.settle.reject(new JobFailedError((error as Error).message));
              return;
            }
            entry.job = { ...entry.job, attempt: entry.job.attempt + 1 };
            this.later(this.backoffMs * 2 ** (entry.job.attempt - 2), () => this.enqueue(queue, entry));
          },
        )
        .finally(() => {
          consumer.running -= 1;
          this.pump(queue);
        });
    }
  }

  private finish(entry: MemoryJob): void {
    entry.finished = true;
    this.outstanding -= 1;
    if (this.outstanding === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  async counts(): Promise<{ queue: string; state: QueueState; jobs: number }[]> {
    const names = new Set([...this.jobs.keys(), ...this.processors.keys()]);
    return [...names].flatMap((queue) => {
      const waiting = this.waiting.get(queue)?.length ?? 0;
      const running = this.processors.get(queue)?.running ?? 0;
      return QUEUE_STATES.map((state) => ({ queue, state, jobs: state === "waiting" ? waiting : state === "active" ? running : 0 }));
    });
  }

  /** Resolves when every job added so far (and every job those added) has finished. */
  idle(): Promise<void> {
    return this.outstanding === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private add(queue: string, name: string, data: unknown, options: JobOptions = {}): MemoryJob {
    const byId = this.jobs.get(queue) ?? new Map<string, MemoryJob>();
    this.jobs.set(queue, byId);
    const id = options.jobId ?? `${++this.sequence}`;
    const existing = byId.get(id);
    if (existing) return existing;
    let settle!: MemoryJob["settle"];
    const done = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined); // failures are reported to whoever waits; nobody may
    const entry: MemoryJob = { job: { id, name, data, attempt: 1 }, done, settle, finished: false };
    byId.set(id, entry);
    this.outstanding += 1;
    if (options.delayMs) this.later(options.delayMs, () => this.enqueue(queue, entry));
    else this.enqueue(queue, entry);
    return entry;
  }

  queue<Data, Result = unknown>(name: string): JobQueue<Data, Result> {
    return {
      name,
      add: async (jobName, data, options) => void this.add(name, jobName, data, options),
      addAndWait: (jobName, data, options) => {
        const entry = this.add(name, jobName, data, options);
        return new Promise<Result>((resolve, reject) => {
          const timer = setTimeout(() => reject(new JobTimeoutError(`${name} job ${entry.job.id} still running`)), options.timeoutMs);
          entry.done
            .then(
              (value) => resolve(value as Result),
              (error: unknown) => reject(error),
            )
            .finally(() => clearTimeout(timer));
        });
      },
      has: async (jobId) => this.jobs.get(name)?.has(jobId) ?? false,
      schedule: async (jobName, everyMs) => {
        const tick = () => {
          this.add(name, jobName, {}, {});
          this.later(everyMs, tick);
        };
        this.later(everyMs, tick);
      },
    };
  }

  work<Data, Result>(name: string, processor: Processor<Data, Result>, options: WorkerOptions): void {
    this.processors.set(name, { processor: processor as Processor<unknown, unknown>, concurrency: options.concurrency, running: 0 });
    this.pump(name);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
