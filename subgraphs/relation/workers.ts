// The relation subgraph's background work: learning which users exist (the user subgraph's
// `user-registered` events) and its follow counters (pending changes applied in batches, then
// the cached counters dropped).
import { registeredUserIds, USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../lib/events";
import { counterKit } from "../../framework/counters";
import type { OutboxKit } from "../../framework/outbox";
import type { SubgraphDeps } from "../../framework/subgraph";
import type { RelationCaches } from "./caches";
import type { CounterChange, RelationStore } from "./store";

/** Consumers of `user-registered` events at once. */
const REGISTRATION_CONCURRENCY = 4;

export function followCounters(deps: SubgraphDeps, store: RelationStore, caches: RelationCaches): OutboxKit {
  return counterKit<CounterChange>(
    deps,
    (limit) => store.drainCounterChanges(limit),
    (changes) => caches.counters.invalidate(changes.map((change) => Number(change.id))),
  );
}

export function startRegistrationConsumer(deps: SubgraphDeps, store: RelationStore): void {
  deps.queues.work<UserRegisteredEvent, void>(
    USER_REGISTERED_QUEUE,
    async (job) => {
      await store.rememberUsers(registeredUserIds(job.data));
    },
    { concurrency: REGISTRATION_CONCURRENCY },
  );
}
