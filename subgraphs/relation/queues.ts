// The relation subgraph's BullMQ queues and the shapes of their jobs.
export const COUNTER_QUEUE = "relation-counters";

export interface CounterChange {
  userId: string;
  field: "followCount" | "followerCount";
  delta: number;
}

export interface CounterJob {
  /** Unique per real change: the event applies once, however often it is delivered. */
  eventId: string;
  changes: CounterChange[];
}
