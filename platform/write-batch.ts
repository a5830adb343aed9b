// Group commit for small writes: the writes requested while the previous batch ran (or during
// one turn of the event loop) go to the database together, as one statement per kind of write.
// The embedded database spends most of a small statement's cost on the statement, not the
// row, so under concurrent load this multiplies write throughput; alone, a write waits for
// nothing longer than the current turn. Writes to the same key (a user's like of one video)
// keep their order: a batch runs in rounds, each holding at most one write per key.

interface Pending<Write, Result> {
  write: Write;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export interface KeyedWrite {
  /** Writes of one kind share a statement. */
  kind: string;
  /** Writes to one key keep their order. */
  key: string;
}

export class WriteBatcher<Write extends KeyedWrite, Result> {
  private queue: Pending<Write, Result>[] = [];
  /** Batches run one after another; a batch grows while the one before runs. */
  private tail: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    /** Runs writes of one kind (distinct keys); answers one result per write, in order. */
    private readonly run: (kind: Write["kind"], writes: Write[]) => Promise<Result[]>,
  ) {}

  write(write: Write): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => (this.tail = this.tail.then(() => this.flush())));
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    // Round n holds the n-th write to each key; within a round, keys are distinct.
    const rounds: Pending<Write, Result>[][] = [];
    const seen = new Map<string, number>();
    for (const pending of batch) {
      const round = seen.get(pending.write.key) ?? 0;
      seen.set(pending.write.key, round + 1);
      (rounds[round] ??= []).push(pending);
    }
    for (const round of rounds) {
      const kinds = new Map<Write["kind"], Pending<Write, Result>[]>();
      for (const pending of round) kinds.set(pending.write.kind, [...(kinds.get(pending.write.kind) ?? []), pending]);
      for (const [kind, writes] of kinds) {
        try {
          const results = await this.run(
            kind,
            writes.map((pending) => pending.write),
          );
          writes.forEach((pending, i) => pending.resolve(results[i]!));
        } catch (error) {
          writes.forEach((pending) => pending.reject(error));
        }
      }
    }
  }
}
