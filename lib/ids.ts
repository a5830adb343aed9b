// Time-ordered 53-bit ids without a database round trip, so every id is a safe JavaScript integer.
//
// Layout (most significant first): 41 bits of milliseconds since ID_EPOCH_MS (good until 2093),
// 5 bits of worker id (0-31, one per process that creates rows: leased, see platform/worker-id.ts), 7 bits of
// sequence (128 ids per millisecond per worker).

import { badInput } from "./errors";

export const ID_EPOCH_MS = Date.UTC(2024, 0, 1);
export const TIME_BITS = 41;
export const WORKER_BITS = 5;
export const SEQUENCE_BITS = 7;

const MAX_WORKER = 2 ** WORKER_BITS - 1;
const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1;
const MAX_TIME = 2 ** TIME_BITS - 1;
const WORKER_FACTOR = 2 ** SEQUENCE_BITS;
const TIME_FACTOR = 2 ** (WORKER_BITS + SEQUENCE_BITS);

export type Clock = () => number;

/** Where a generator reads its worker id (a lease may move a process to another one). */
export interface WorkerIdSource {
  readonly current: number;
}

export class IdGenerator {
  private lastMs = -1;
  private sequence = 0;
  private readonly worker: WorkerIdSource;

  constructor(
    workerId: number | WorkerIdSource,
    private readonly clock: Clock = Date.now,
    /** How far (ms) the clock may step back before we stop waiting and run on logical time. */
    private readonly maxBackwardWaitMs = 5,
  ) {
    this.worker = typeof workerId === "number" ? { current: workerId } : workerId;
    const id = this.worker.current;
    if (!Number.isInteger(id) || id < 0 || id > MAX_WORKER) {
      throw new RangeError(`worker id must be an integer in 0..${MAX_WORKER}, got ${id}`);
    }
  }

  get workerId(): number {
    return this.worker.current;
  }

  /** Returns the next id: strictly greater than every id this generator returned before. */
  next(): number {
    let now = this.clock() - ID_EPOCH_MS;
    if (now < this.lastMs) {
      // The clock stepped back (NTP, a VM migration). A short step is waited out; a long one
      // keeps counting on the last timestamp we used, which stays unique and ordered.
      if (this.lastMs - now <= this.maxBackwardWaitMs) now = this.waitUntil(this.lastMs);
      else now = this.lastMs;
    }
    if (now === this.lastMs) {
      this.sequence += 1;
      if (this.sequence > MAX_SEQUENCE) {
        // Sequence exhausted within this millisecond: move to the next one.
        now = this.waitUntil(this.lastMs + 1);
        this.sequence = 0;
      }
    } else {
      this.sequence = 0;
    }
    if (now > MAX_TIME) throw new RangeError("id time bits exhausted");
    this.lastMs = now;
    return now * TIME_FACTOR + this.worker.current * WORKER_FACTOR + this.sequence;
  }

  private waitUntil(targetMs: number): number {
    let now = this.clock() - ID_EPOCH_MS;
    const started = now;
    while (now < targetMs) {
      // Logical time: if the wall clock is far behind (it stepped back a long way), do not spin
      // for minutes; the last timestamp plus one is still unique and ordered.
      if (targetMs - now > this.maxBackwardWaitMs || now < started) return targetMs;
      now = this.clock() - ID_EPOCH_MS;
    }
    return now;
  }
}

/** Splits an id into its parts (for logs, tests and debugging). */
export function decodeId(id: number): { timestampMs: number; workerId: number; sequence: number } {
  const time = Math.floor(id / TIME_FACTOR);
  const rest = id - time * TIME_FACTOR;
  return {
    timestampMs: time + ID_EPOCH_MS,
    workerId: Math.floor(rest / WORKER_FACTOR),
    sequence: rest % WORKER_FACTOR,
  };
}

/**
 * Parses an id from the outside world (a legacy parameter or a GraphQL ID): a decimal string
 * or number that is a positive safe integer. Returns undefined for anything else.
 */
export function parseId(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value === "bigint") return value > 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value !== "string" || !/^[0-9]{1,16}$/.test(value.trim())) return undefined;
  const id = Number(value.trim());
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** Parses an id that must be valid; BAD_USER_INPUT ("invalid video id") otherwise. */
export function requireId(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === undefined) throw badInput(`invalid ${what} id`);
  return id;
}
