// Exact asynchronous counters, the same way in every subgraph that keeps them: a change that
// really happened enqueues a counter event with a unique id; the counter worker applies it
// and records the id in the subgraph's own `counter_events` ledger in one transaction, so an
// event delivered twice counts once. Events may apply out of order (an unlike before its
// like), so a counter may dip below zero for a moment; it is never clamped here, which would
// make the final sum wrong. Reads show max(0, n). A scheduled job prunes old ledger entries.
import type { Config } from "./config";
import type { Logger } from "./logger";
import type { Queues } from "./queues";

export interface CounterEvent<Change> {
  /** Unique per real change (e.g. `like-<id>`): the event applies once, however often delivered. */
  eventId: string;
  changes: Change[];
}

/** The raw-SQL surface of a Prisma transaction client the ledger needs. */
export interface RawTransaction {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
}

export interface LedgerClient extends RawTransaction {
  $transaction<T>(work: (tx: RawTransaction) => Promise<T>): Promise<T>;
}

/** Runs `apply` and records `eventId` in one transaction; false (and nothing done) when seen before. */
export function applyOnce<Tx extends RawTransaction>(
  prisma: { $transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> },
  eventId: string,
  apply: (tx: Tx) => Promise<void>,
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const recorded = await tx.$executeRaw`INSERT INTO counter_events (event_id) VALUES (${eventId}) ON CONFLICT DO NOTHING`;
    if (recorded === 0) return false;
    await apply(tx);
    return true;
  });
}

/** Forgets applied event ids older than `appliedBefore`; returns how many. */
export function pruneLedger(prisma: RawTransaction, appliedBefore: Date): Promise<number> {
  return prisma.$executeRaw`DELETE FROM counter_events WHERE applied_at < ${appliedBefore}`;
}

/** The scheduled job on a counter queue that forgets applied event ids past their retention. */
export const PRUNE_COUNTER_EVENTS = "prune-counter-events";

export interface CounterLedger<Event> {
  /** Applies the event with its id recorded; false when it was applied before. */
  apply(event: Event): Promise<boolean>;
  /** Removes ledger entries applied before the date; returns how many. */
  prune(appliedBefore: Date): Promise<number>;
}

/** Enqueues a counter event on `queue` (its id is its job id, so enqueueing twice is harmless). */
export async function enqueueCounterEvent<Change>(queues: Queues, queue: string, kind: string, event: CounterEvent<Change>): Promise<void> {
  await queues.queue<CounterEvent<Change>>(queue).add(kind, event, { jobId: event.eventId });
}

/**
 * Consumes a counter queue: applies each event once through `ledger`, runs `afterApply` for
 * events that changed something (cache invalidation), and prunes the ledger on schedule.
 */
export async function workCounterQueue<Change>(
  queues: Queues,
  queue: string,
  ledger: CounterLedger<CounterEvent<Change>>,
  config: Pick<Config, "counterWorkerConcurrency" | "counterEvents">,
  log: Logger,
  afterApply?: (event: CounterEvent<Change>) => Promise<void>,
): Promise<void> {
  queues.work<CounterEvent<Change>, { applied?: boolean; removed?: number }>(
    queue,
    async (job) => {
      if (job.name === PRUNE_COUNTER_EVENTS) {
        const removed = await ledger.prune(new Date(Date.now() - config.counterEvents.retentionMs));
        log.info({ queue, removed }, "pruned applied counter events");
        return { removed };
      }
      const applied = await ledger.apply(job.data);
      if (applied) await afterApply?.(job.data);
      else log.info({ queue, eventId: job.data.eventId }, "counter event already applied; skipped");
      return { applied };
    },
    { concurrency: config.counterWorkerConcurrency },
  );
  await queues.queue(queue).schedule(PRUNE_COUNTER_EVENTS, config.counterEvents.pruneIntervalMs);
}
