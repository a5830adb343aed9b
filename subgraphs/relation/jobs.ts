// The relation subgraph's queues and the shapes of their jobs. It also consumes the user
// subgraph's `user-registered` events (lib/events.ts).
import type { CounterEvent } from "../../platform/counters";

export const COUNTER_QUEUE = "relation-counters";

export interface CounterChange {
  userId: string;
  field: "followCount" | "followerCount";
  delta: number;
}

export type CounterJob = CounterEvent<CounterChange>;
