// The in-process queues of the fast tier keep the same contract as BullMQ (test/queues.test.ts).
import { createLogger } from "./logger";
import { MemoryQueues } from "./queues";
import { queueContract } from "../test/queue-contract";

const log = createLogger({ logLevel: "silent" }, "test");

queueContract("in-process queues", async () => {
  const queues = new MemoryQueues(log);
  return { queues, close: () => queues.close() };
});
