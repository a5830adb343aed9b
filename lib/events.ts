// Events one subgraph publishes for another, over BullMQ: the queue names and job shapes are
// the contract between them (neither imports the other).

/** Published by the user subgraph after a registration commits; consumed by the relation subgraph. */
export const USER_REGISTERED_QUEUE = "user-registered";

export interface UserRegisteredEvent {
  userId: number;
}

/** One job per user: publishing twice is harmless, and a consumer can look a pending one up. */
export const userRegisteredJobId = (userId: number) => `user-${userId}`;
