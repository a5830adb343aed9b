// The user subgraph's background work: relaying its event outbox (user-registered) to BullMQ.
import {
  countPendingEvents,
  createEventRelay,
  eventChannel,
  listenForOutboxWrites,
  type OutboxDrainer,
  type OutboxEvent,
} from "../../platform/outbox";
import type { SubgraphDeps } from "../../platform/subgraph";
import type { UserStore } from "./store";

export function createRelay(deps: SubgraphDeps, store: UserStore): OutboxDrainer<OutboxEvent> {
  return createEventRelay("user", store, deps);
}

export function startWorkers(deps: SubgraphDeps, relay: OutboxDrainer<OutboxEvent>): void {
  const database = deps.database;
  if (database) deps.metrics.countPendingEvents("user", () => countPendingEvents(database));
  listenForOutboxWrites(deps.bus, eventChannel("user"), relay);
  relay.start();
  deps.onClose(() => relay.stop());
}
