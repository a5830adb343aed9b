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
import { listenForOutboxWrites, OutboxDrainer, outboxWriteSignal, type DrainResult } from "./outbox";

export type { DrainResult };

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

/**
 * Runs a subgraph's counter `drain` (one batch) whenever changes may be waiting: soon after a
 * write (`kick`, from this process or announced by another over the bus), again at once while
 * batches come back full, after a failure with a growing delay, and every
 * COUNTER_DRAIN_INTERVAL_MS as a safety net. Idle, it costs nothing.
 */
export class CounterDrainer<Change extends CounterChange> extends OutboxDrainer<Change> {
  constructor(
    name: string,
    drain: (limit: number) => Promise<DrainResult<Change>>,
    afterDrain: (result: DrainResult<Change>) => Promise<void> | void,
    config: Pick<Config, "counters">,
    log: Logger,
  ) {
    super(`${name} counters`, drain, afterDrain, config.counters, log);
  }
}

/**
 * What a subgraph calls after writing counter changes: wakes its drainer at once when this
 * process runs one (`local()`), or tells the processes that do over the bus (at most every
 * few milliseconds, however many writes there were).
 */
export function counterWriteSignal(
  bus: InvalidationBus,
  subgraph: string,
  local: () => { kick(traceparent?: string): void } | undefined,
): () => void {
  return outboxWriteSignal(bus, counterChannel(subgraph), local);
}

/** Wakes `drainer` whenever another process announces counter changes of `subgraph`. */
export function listenForCounterWrites(bus: InvalidationBus, subgraph: string, drainer: { kick(traceparent?: string): void }): void {
  listenForOutboxWrites(bus, counterChannel(subgraph), drainer);
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
