// Events one subgraph publishes for another, over BullMQ: the queue names and job shapes are
// the contract between them (neither imports the other).

/**
 * Published by the user subgraph when registrations commit (through its event outbox), and
 * again for every user by `npm run reconcile`; consumed by the relation subgraph.
 */
export const USER_REGISTERED_QUEUE = "user-registered";

export interface UserRegisteredEvent {
  userIds: number[];
  /** The shape before batches: one user per event (still accepted from queues of that time). */
  userId?: number;
}

/** The users an event names, in either shape. */
export const registeredUserIds = (event: UserRegisteredEvent): number[] =>
  event.userIds ?? (event.userId !== undefined ? [event.userId] : []);

/** One job per registration: publishing twice is harmless, and a consumer can look a pending one up. */
export const userRegisteredJobId = (userId: number) => `user-${userId}`;
