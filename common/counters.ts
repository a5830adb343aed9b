// The once-only counter ledger both counting subgraphs share: an event's id is recorded in the
// same transaction as its counter changes, so a redelivered event changes nothing. Events may
// apply out of order (an unlike before its like), so a counter may dip below zero for a moment;
// it is never clamped here, which would make the final sum wrong. Reads show max(0, n).
// Each subgraph's database has its own `counter_events` and `user_stats` tables.

/** The raw-SQL surface of a Prisma transaction client this module needs. */
export interface RawTransaction {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** The part of a generated Prisma client this module needs (any subgraph's). */
export interface LedgerClient extends RawTransaction {
  $transaction<T>(work: (tx: RawTransaction) => Promise<T>): Promise<T>;
}

/** Runs `apply` and records `eventId` in one transaction; false (and nothing done) when seen before. */
export function applyOnce(prisma: LedgerClient, eventId: string, apply: (tx: RawTransaction) => Promise<void>): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const recorded = await tx.$executeRaw`INSERT INTO counter_events (event_id) VALUES (${eventId}) ON CONFLICT DO NOTHING`;
    if (recorded === 0) return false;
    await apply(tx);
    return true;
  });
}

/** Adds `delta` to a `user_stats` column, creating the row when it is the user's first. */
export function addToUserStat(tx: RawTransaction, column: string, userId: bigint, delta: number): Promise<number> {
  return tx.$executeRawUnsafe(
    `INSERT INTO user_stats (user_id, ${column}, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (user_id) DO UPDATE SET ${column} = user_stats.${column} + $2, updated_at = now()`,
    userId,
    delta,
  );
}

/** Forgets applied event ids older than `appliedBefore`; returns how many. */
export function pruneLedger(prisma: RawTransaction, appliedBefore: Date): Promise<number> {
  return prisma.$executeRaw`DELETE FROM counter_events WHERE applied_at < ${appliedBefore}`;
}
