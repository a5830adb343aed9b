// A fair share of background workers: at most `perOwner` jobs of one owner (e.g. one uploader)
// run at once across every process of a deployment, so one owner's many slow jobs cannot hold
// every worker while others wait. On Redis each owner has a semaphore (redis-semaphore) whose
// slots are leases the holder renews while it works: a process killed mid-job frees its slot
// when the lease runs out, as BullMQ takes back the job itself (both after QUEUE_LOCK_MS).
// Without Redis (the fast test tier, one process) the slots are counted in memory.
import type { Redis } from "ioredis";
import { Semaphore } from "redis-semaphore";
import type { Logger } from "./logger";

export interface FairShare {
  /** Runs `work` in one of `owner`'s slots; undefined, without running it, when they are all taken. */
  tryRun<T>(owner: string, work: () => Promise<T>): Promise<{ value: T } | undefined>;
}

export interface FairShareOptions {
  /** Names the share in its keys, e.g. "media". */
  name: string;
  perOwner: number;
  /** How long a slot outlives a holder that stopped renewing it (it renews at 4/5 of this). */
  leaseMs: number;
}

/**
 * A slot whose failed renewal (Redis unreachable for a moment) is logged and tried again at the
 * next interval: redis-semaphore would leave the rejection unhandled. Meanwhile the lease may
 * run out, and the owner briefly get a job more than its share; the job itself goes on.
 */
class Slot extends Semaphore {
  constructor(
    redis: Redis,
    key: string,
    limit: number,
    options: ConstructorParameters<typeof Semaphore>[3],
    private readonly log: Logger,
  ) {
    super(redis, key, limit, options);
  }

  protected override async _refresh(): Promise<boolean> {
    try {
      return await super._refresh();
    } catch (error) {
      this.log.warn({ err: error, key: this._key }, "a fair-share slot could not be renewed");
      return true;
    }
  }
}

class RedisFairShare implements FairShare {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: FairShareOptions,
    private readonly log: Logger,
  ) {}

  async tryRun<T>(owner: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const { name, perOwner, leaseMs } = this.options;
    const slot = new Slot(
      this.redis,
      `${this.prefix}:fair:${name}:${owner}`,
      perOwner,
      {
        lockTimeout: leaseMs,
        // One look: a job that cannot run now is put back, not held in a worker waiting.
        acquireAttemptsLimit: 1,
        // The work goes on: for a moment the owner has one job more than its share.
        onLockLost: () => this.log.warn({ share: name, owner }, "a fair-share slot expired while its job ran (Redis slow or down?)"),
      },
      this.log,
    );
    if (!(await slot.tryAcquire())) return undefined;
    try {
      return { value: await work() };
    } finally {
      await slot
        .release()
        .catch((error: unknown) => this.log.warn({ err: error, share: name, owner }, "a fair-share slot could not be released"));
    }
  }
}

class MemoryFairShare implements FairShare {
  private readonly running = new Map<string, number>();

  constructor(private readonly perOwner: number) {}

  async tryRun<T>(owner: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const held = this.running.get(owner) ?? 0;
    if (held >= this.perOwner) return undefined;
    this.running.set(owner, held + 1);
    try {
      return { value: await work() };
    } finally {
      const left = (this.running.get(owner) ?? 1) - 1;
      if (left > 0) this.running.set(owner, left);
      else this.running.delete(owner);
    }
  }
}

/** Shared by every process on `redis` (keys under the deployment's `prefix`); in memory without it. */
export function createFairShare(redis: Redis | null, prefix: string, options: FairShareOptions, log: Logger): FairShare {
  return redis ? new RedisFairShare(redis, prefix, options, log) : new MemoryFairShare(options.perOwner);
}
