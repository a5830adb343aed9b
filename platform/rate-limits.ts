// Rate limits shared by every process of a deployment (counted in Redis, through
// rate-limiter-flexible), or in process memory where the platform has no Redis (the fast test
// tier). When Redis cannot be reached the limits fall back to per-process memory instead of
// refusing everyone: a limit is protection, not a dependency.
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { rateLimited } from "../lib/errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";

export interface LimitSpec {
  /** Attempts allowed per window. */
  points: number;
  durationSeconds: number;
  /** Once over, refused for this long (defaults to the rest of the window). */
  blockSeconds?: number;
  /** Says what was limited, e.g. "login attempts from this address". */
  describes: string;
}

export class Limiter {
  constructor(
    readonly name: string,
    private readonly store: RateLimiterAbstract,
    private readonly spec: LimitSpec,
    private readonly log: Logger,
    private readonly refusals?: Metrics["rateLimitRefusals"],
  ) {}

  /** Takes `points` for `key`; RATE_LIMITED (with the seconds to wait) when over the limit. */
  async consume(key: string, points = 1): Promise<void> {
    try {
      await this.store.consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // Neither Redis nor the fallback answered: let the request through and say so.
        this.log.warn({ err: rejection, limiter: this.name }, "rate limit could not be checked");
        return;
      }
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      this.refusals?.inc({ limiter: this.name });
      this.log.info({ limiter: this.name, key, retryAfter: seconds }, "rate limited");
      throw rateLimited(`too many ${this.spec.describes}; try again in ${seconds} s`, seconds);
    }
  }

  /** Forgets `key`'s attempts (e.g. after a successful login). */
  async reset(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (error) {
      this.log.warn({ err: error, limiter: this.name }, "rate limit could not be reset");
    }
  }
}

/** Makes limiters on Redis (shared by every process) or, without one, in memory. */
export function createLimiterFactory(redis: Redis | null, prefix: string, log: Logger, metrics?: Pick<Metrics, "rateLimitRefusals">) {
  return (name: string, spec: LimitSpec): Limiter => {
    const options = {
      keyPrefix: `${prefix}:rate:${name}`,
      points: spec.points,
      duration: spec.durationSeconds,
      ...(spec.blockSeconds !== undefined && { blockDuration: spec.blockSeconds }),
    };
    const memory = new RateLimiterMemory(options);
    const store = redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
    return new Limiter(name, store, spec, log, metrics?.rateLimitRefusals);
  };
}

export type LimiterFactory = ReturnType<typeof createLimiterFactory>;
