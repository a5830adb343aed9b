// The relation subgraph's background work: learning which users exist (the user subgraph's
// `user-registered` events) and the counter drainer (applies pending follow counter changes in
// batches, then drops the cached counters).
import { registeredUserIds, USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../lib/events";
import { countPendingChanges, CounterDrainer, listenForCounterWrites } from "../../platform/counters";
import type { SubgraphDeps } from "../../platform/subgraph";
import type { RelationCaches } from "./caches";
import type { CounterChange, RelationStore } from "./store";

export function createCounterDrainer(deps: SubgraphDeps, store: RelationStore, caches: RelationCaches): CounterDrainer<CounterChange> {
  return new CounterDrainer<CounterChange>(
    "relation",
    (limit) => store.drainCounterChanges(limit),
    ({ rows, changes }) => {
      deps.metrics.counterChangesApplied.inc({ subgraph: "relation" }, rows);
      caches.counters.invalidate(changes.map((change) => Number(change.id)));
    },
    deps.config,
    deps.log,
  );
}

export function startWorkers(deps: SubgraphDeps, store: RelationStore, counters: CounterDrainer<CounterChange>): void {
  deps.queues.work<UserRegisteredEvent, void>(
    USER_REGISTERED_QUEUE,
    async (job) => {
      await store.rememberUsers(registeredUserIds(job.data));
    },
    { concurrency: 4 },
  );
  const database = deps.database;
  if (database) deps.metrics.countPending("relation", () => countPendingChanges(database));
  listenForCounterWrites(deps.bus, "relation", counters);
  counters.start();
  deps.onClose(() => counters.stop());
}
