// Exact asynchronous counters, the same way in every subgraph that keeps them. A change that
// really happened writes its counter changes to the subgraph's `counter_outbox` table in the
// same statement as the row itself, so a change and its counting commit together or not at
// all. A drainer applies pending changes in batches: it sums them per counter, applies the
// sums and deletes the rows it applied in one transaction, so each counts exactly once even
// when a drainer dies mid-batch (its transaction rolls back; the rows wait for the next), and
// several drainers never take the same rows (FOR UPDATE SKIP LOCKED). Reconciliation clears
// the outbox in the transaction that recomputes the counters from the rows, so it is exact
// while changes are pending. Counters may dip below zero for an instant (reads show max(0, n)).
import type { Config } from "./config";
import type { Database } from "./database";
import type { InvalidationBus } from "./local-cache";
import type { Logger } from "./logger";

export interface CounterChange<Entity extends string = string, Field extends string = string> {
  entity: Entity;
  id: string;
  field: Field;
  delta: number;
}

/** Sums of changes per (entity, id, field); changes that cancel out are dropped. */
export function sumChanges<Change extends CounterChange>(batches: readonly (readonly Change[])[]): Change[] {
  const sums = new Map<string, Change>();
  for (const changes of batches) {
    for (const change of changes) {
      const key = `${change.entity}:${change.id}:${change.field}`;
      const sum = sums.get(key);
      sums.set(key, sum ? { ...sum, delta: sum.delta + change.delta } : { ...change });
    }
  }
  return [...sums.values()].filter((change) => change.delta !== 0);
}

export interface DrainResult<Change> {
  /** Outbox rows applied (and deleted). */
  rows: number;
  /** The summed changes that were applied (for cache invalidation). */
  changes: Change[];
}

/** Failed drains are retried after this, doubling up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
/** Writes announced to other processes at most this often (one message covers many writes). */
const ANNOUNCE_EVERY_MS = 10;

/**
 * Runs a subgraph's `drain` (one batch) whenever changes may be waiting: soon after a write
 * (`kick`, from this process or announced by another over the bus), again at once while
 * batches come back full, after a failure with a growing delay, and every
 * COUNTER_DRAIN_INTERVAL_MS as a safety net. Idle, it costs nothing.
 */
export class CounterDrainer<Change extends CounterChange> {
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;

  constructor(
    private readonly name: string,
    private readonly drain: (limit: number) => Promise<DrainResult<Change>>,
    private readonly afterDrain: (result: DrainResult<Change>) => Promise<void> | void,
    private readonly config: Pick<Config, "counters">,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** A change was just written here: drain soon (writes close together share one batch). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(this.config.counters.kickDelayMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, delayMs);
    this.timer.unref?.();
  }

  private async runOnce(): Promise<void> {
    let next: number;
    try {
      const result = await this.drain(this.config.counters.drainBatch);
      if (result.rows > 0) await this.afterDrain(result);
      this.retryMs = FIRST_RETRY_MS;
      next = result.rows === this.config.counters.drainBatch || this.again ? 0 : this.config.counters.drainIntervalMs;
    } catch (error) {
      this.log.error({ err: error, counters: this.name }, "could not apply counter changes; they wait for the next drain");
      next = this.retryMs;
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    }
    this.again = false;
    this.schedule(next);
  }

  /** Drains until nothing is pending (tests, shutdown of the last process). */
  async drainAll(): Promise<void> {
    await this.running;
    for (;;) {
      const result = await this.drain(this.config.counters.drainBatch);
      if (result.rows > 0) await this.afterDrain(result);
      if (result.rows < this.config.counters.drainBatch) break;
    }
    // Nothing is pending now: a wake-up scheduled before is not needed.
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.schedule(this.config.counters.drainIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/**
 * What a subgraph calls after writing counter changes: wakes its drainer at once when this
 * process runs one (`local()`), or tells the processes that do over the bus (at most every
 * few milliseconds, however many writes there were).
 */
export function counterWriteSignal(bus: InvalidationBus, subgraph: string, local: () => { kick(): void } | undefined): () => void {
  let announced = 0;
  return () => {
    const drainer = local();
    if (drainer) return drainer.kick();
    const now = Date.now();
    if (now - announced < ANNOUNCE_EVERY_MS) return;
    announced = now;
    bus.publish(counterChannel(subgraph), []);
  };
}

/** Wakes `drainer` whenever another process announces counter changes of `subgraph`. */
export function listenForCounterWrites(bus: InvalidationBus, subgraph: string, drainer: { kick(): void }): void {
  bus.subscribe(counterChannel(subgraph), () => drainer.kick());
}

const counterChannel = (subgraph: string) => `counters-written:${subgraph}`;

/**
 * Pending changes in a subgraph's `counter_outbox`, for the `counter_changes_pending` metric: on
 * a session of its own, so monitoring is not counted among the statements serving requests.
 */
export async function countPendingChanges(database: Database): Promise<number> {
  const [row] = await database.withSession((session) => session.query<{ n: string }>("SELECT count(*) AS n FROM counter_outbox"));
  return Number(row?.n ?? 0);
}
