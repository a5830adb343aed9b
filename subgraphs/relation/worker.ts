// The relation subgraph's BullMQ workers: learning which users exist (user-registered events)
// and applying follow counters exactly once. They run inside the subgraph's process.
import type { Config } from "../../common/config";
import { USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../common/events";
import type { Resources } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { createCounterWorker, createWorker } from "../../common/queues";
import type { Redis } from "ioredis";
import type { RelationData } from "./data";
import { COUNTER_QUEUE, type CounterJob } from "./queues";

export function startRelationWorkers(parts: { config: Config; log: Logger; relations: RelationData; connection: Redis; resources: Resources }): void {
  const { config, log, relations, connection, resources } = parts;
  const users = createWorker<UserRegisteredEvent>(config, connection, USER_REGISTERED_QUEUE, (job) => relations.rememberUser(job.data.userId), log);
  resources.add("user events worker", users, (w) => w.close());
  const counters = createCounterWorker<CounterJob>(
    config,
    connection,
    COUNTER_QUEUE,
    (event) => relations.applyCounterEvent(event),
    (appliedBefore) => relations.pruneCounterEvents(appliedBefore),
    log,
  );
  resources.add("counter worker", counters, (w) => w.close());
}
