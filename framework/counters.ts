// Exact asynchronous counters, the same way in every subgraph that keeps them. A change that
// really happened writes its counter changes to the subgraph's `counter_outbox` table in the
// same statement as the row itself, so a change and its counting commit together or not at
// all. A drainer applies pending changes in batches: it sums them per counter, applies the
// sums and deletes the rows it applied in one transaction, so each counts exactly once even
// when a drainer dies mid-batch (its transaction rolls back; the rows wait for the next), and
// several drainers never take the same rows (FOR UPDATE SKIP LOCKED). Reconciliation clears
// the outbox in the transaction that recomputes the counters from the rows, so it is exact
// while changes are pending. Counters may dip below zero for an instant (reads show max(0, n)).
import type { Database } from "../platform/database";
import { OutboxDrainer, outboxKit, type DrainResult, type OutboxKit } from "./outbox";
import type { SubgraphDeps } from "./subgraph";

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

/** The part of a Prisma transaction client the drain uses (every generated client has it). */
export interface RawSql {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/**
 * One drain, inside the caller's transaction `tx`: takes up to `limit` pending rows of the
 * `counter_outbox` (skipping rows another drainer holds), hands their summed changes to
 * `apply` (the subgraph's own UPDATEs), and deletes the rows, so they count exactly once.
 */
export async function drainCounterOutbox<Change extends CounterChange>(
  tx: RawSql,
  limit: number,
  apply: (changes: Change[]) => Promise<unknown>,
): Promise<DrainResult<Change>> {
  const rows = await tx.$queryRaw<{ id: bigint; changes: Change[] }[]>`
    SELECT id, changes FROM counter_outbox ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
  if (rows.length === 0) return { rows: 0, changes: [] };
  const changes = sumChanges(rows.map((row) => row.changes));
  if (changes.length > 0) await apply(changes);
  await tx.$executeRaw`DELETE FROM counter_outbox WHERE id = ANY(${rows.map((row) => row.id)}::bigint[])`;
  return { rows: rows.length, changes };
}

/**
 * A subgraph's exact counters in a few lines: `drain` applies one batch (a transaction around
 * drainCounterOutbox), `applied` drops what the changes made stale. Writers call the kit's
 * `written`; the drainer runs where the subgraph's workers run.
 */
export function counterKit<Change extends CounterChange>(
  deps: SubgraphDeps,
  drain: (limit: number) => Promise<DrainResult<Change>>,
  applied: (changes: Change[]) => Promise<unknown> | unknown,
): OutboxKit {
  const name = deps.name;
  return outboxKit(deps, `counters-written:${name}`, {
    create: () =>
      new OutboxDrainer<Change>(
        `${name} counters`,
        drain,
        async ({ rows, changes }) => {
          await applied(changes);
          // Counted once every process dropped what the changes made stale: applied means visible everywhere.
          deps.metrics.counterChangesApplied.inc({ subgraph: name }, rows);
        },
        deps.config.counters,
        deps.log,
      ),
    countPending: (database) => deps.metrics.countPending(name, () => countPendingChanges(database)),
  });
}

/**
 * Pending changes in a subgraph's `counter_outbox`, for the `counter_changes_pending` metric: on
 * a session of its own, so monitoring is not counted among the statements serving requests.
 */
export async function countPendingChanges(database: Database): Promise<number> {
  const [row] = await database.withSession((session) => session.query<{ n: string }>("SELECT count(*) AS n FROM counter_outbox"));
  return Number(row?.n ?? 0);
}
