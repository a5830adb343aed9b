// Id-generator worker ids (lib/ids.ts: 5 bits, 0–31) leased per process from Redis, so that
// replicas started from one configuration never share one and never mint the same id. A lease
// lives LEASE_MS and is renewed every RENEW_MS; a process that finds its lease taken (Redis lost
// it) takes another free id before minting more. ID_WORKER_ID pins one instead (no lease).
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Redis } from "ioredis";
import { WORKER_BITS, type WorkerIdSource } from "../lib/ids";
import type { Logger } from "./logger";

const LEASE_MS = 60_000;
const RENEW_MS = 15_000;
const WORKER_IDS = 2 ** WORKER_BITS;

// Renews the lease only while it is still ours.
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
// Gives the id back only if it is still ours.
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export class WorkerIdUnavailableError extends Error {
  override name = "WorkerIdUnavailableError";
}

/** A pinned worker id (ID_WORKER_ID, or a process without Redis). */
export const fixedWorkerId = (id: number): WorkerIdSource & { release(): Promise<void> } => ({
  current: id,
  release: async () => undefined,
});

export class WorkerIdLease implements WorkerIdSource {
  private timer: NodeJS.Timeout | undefined;
  private readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    public current: number,
  ) {}

  private key(id: number): string {
    return `${this.prefix}:id-worker:${id}`;
  }

  /** Takes a free worker id (trying them from a random one) and keeps it renewed. */
  static async acquire(redis: Redis, prefix: string, log: Logger): Promise<WorkerIdLease> {
    const lease = new WorkerIdLease(redis, prefix, log, -1);
    lease.current = await lease.takeFree();
    lease.timer = setInterval(() => void lease.renew(), RENEW_MS);
    lease.timer.unref();
    log.info({ workerId: lease.current }, "leased an id-generator worker id");
    return lease;
  }

  private async takeFree(): Promise<number> {
    const start = Math.floor(Math.random() * WORKER_IDS);
    for (let offset = 0; offset < WORKER_IDS; offset++) {
      const id = (start + offset) % WORKER_IDS;
      if ((await this.redis.set(this.key(id), this.owner, "PX", LEASE_MS, "NX")) === "OK") return id;
    }
    throw new WorkerIdUnavailableError(`all ${WORKER_IDS} id-generator worker ids are leased by running processes`);
  }

  private async renew(): Promise<void> {
    try {
      if (Number(await this.redis.eval(RENEW, 1, this.key(this.current), this.owner, LEASE_MS)) === 1) return;
      // Redis forgot the lease (a restart, a failover): take it again, or another free id.
      if ((await this.redis.set(this.key(this.current), this.owner, "PX", LEASE_MS, "NX")) === "OK") return;
      const previous = this.current;
      this.current = await this.takeFree();
      this.log.warn({ previous, workerId: this.current }, "worker id lease was taken by another process; leased another");
    } catch (error) {
      this.log.warn({ err: error, workerId: this.current }, "could not renew the worker id lease; keeping it");
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key(this.current), this.owner).catch(() => undefined);
  }
}
