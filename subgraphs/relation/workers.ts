// The relation subgraph's queue consumers: learning which users exist (the user subgraph's
// `user-registered` events) and applying follow counters exactly once.
import { USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../lib/events";
import { workCounterQueue } from "../../platform/counters";
import type { SubgraphDeps } from "../../platform/subgraph";
import { COUNTER_QUEUE, type CounterChange } from "./jobs";
import type { RelationStore } from "./store";

export async function startWorkers(deps: SubgraphDeps, store: RelationStore): Promise<void> {
  deps.queues.work<UserRegisteredEvent, void>(USER_REGISTERED_QUEUE, (job) => store.rememberUser(job.data.userId), { concurrency: 4 });
  await workCounterQueue<CounterChange>(
    deps.queues,
    COUNTER_QUEUE,
    { apply: (event) => store.applyCounterEvent(event), prune: (before) => store.pruneCounterEvents(before) },
    deps.config,
    deps.log,
  );
}
