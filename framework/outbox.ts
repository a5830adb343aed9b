// Transactional outboxes: a change and what must follow from it (counter changes, events for
// other subgraphs) are written in one transaction, and a drainer carries the pending rows on
// afterwards (applies them, or relays them to BullMQ), deleting each only once it is done. A
// crash, a Redis outage or a lost signal between the two delays the follow-up; it never loses it.
import type { Database } from "../platform/database";
import type { InvalidationBus } from "../platform/local-cache";
import type { Logger } from "../platform/logger";
import { currentTraceparent, inLinkedSpan } from "../platform/tracing";
import type { SubgraphDeps } from "./subgraph";

export interface DrainResult<Item> {
  /** Outbox rows handled (and deleted). */
  rows: number;
  /** What was applied or relayed (for cache invalidation, metrics). */
  changes: Item[];
}

export interface DrainTiming {
  /** Wait after a local write before draining, so writes close together share a batch. */
  kickDelayMs: number;
  /** How often to look for rows nobody announced (a safety net). */
  drainIntervalMs: number;
  /** Most rows handled in one transaction. */
  drainBatch: number;
}

/** Failed drains are retried after this, doubling up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
/** Writes announced to other processes at most this often (one message covers many writes). */
const ANNOUNCE_EVERY_MS = 10;
/** Most requests one drain's span links back to (with tracing on). */
const MAX_LINKS = 64;

/**
 * Runs `drain` (one batch) whenever rows may be waiting: soon after a write (`kick`, from this
 * process or announced by another over the bus), again at once while batches come back full,
 * after a failure with a growing delay, and every `drainIntervalMs` as a safety net. Idle, it
 * costs nothing.
 */
export class OutboxDrainer<Item> {
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;
  /** The writes (traceparents) the next drain serves, for its span's links. */
  private links: string[] = [];

  constructor(
    private readonly name: string,
    private readonly drain: (limit: number) => Promise<DrainResult<Item>>,
    private readonly afterDrain: (result: DrainResult<Item>) => Promise<void> | void,
    private readonly timing: DrainTiming,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * A row was just written here: drain soon (writes close together share one batch). With
   * tracing on, `traceparent` names the write, and the drain's span links to it.
   */
  kick(traceparent?: string): void {
    if (this.stopped) return;
    if (traceparent && this.links.length < MAX_LINKS) this.links.push(traceparent);
    if (this.running) this.again = true;
    else this.schedule(this.timing.kickDelayMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, delayMs);
    this.timer.unref?.();
  }

  private async runOnce(): Promise<void> {
    let next: number;
    try {
      const result = await this.drainOnce();
      this.retryMs = FIRST_RETRY_MS;
      next = result.rows === this.timing.drainBatch || this.again ? 0 : this.timing.drainIntervalMs;
    } catch (error) {
      this.log.error({ err: error, outbox: this.name }, `could not drain the ${this.name} outbox; its rows wait for the next try`);
      next = this.retryMs;
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    }
    this.again = false;
    this.schedule(next);
  }

  /** Drains until nothing is pending (tests, shutdown of the last process). */
  async drainAll(): Promise<void> {
    await this.running;
    for (;;) {
      const result = await this.drainOnce();
      if (result.rows < this.timing.drainBatch) break;
    }
    // Nothing is pending now: a wake-up scheduled before is not needed.
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.schedule(this.timing.drainIntervalMs);
  }

  /** One batch, in a span of its own linked to the writes it follows (tracing on). */
  private drainOnce(): Promise<DrainResult<Item>> {
    return inLinkedSpan(`${this.name} drain`, this.links.splice(0), async (span) => {
      const result = await this.drain(this.timing.drainBatch);
      span?.setAttribute("outbox.rows", result.rows);
      if (result.rows > 0) await this.afterDrain(result);
      return result;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/**
 * What a writer calls after writing outbox rows: wakes the drainer at once when this process
 * runs one (`local()`), or tells the processes that do over the bus (at most every few
 * milliseconds, however many writes there were).
 */
function outboxWriteSignal(
  bus: InvalidationBus,
  channel: string,
  local: () => { kick(traceparent?: string): void } | undefined,
): () => void {
  let announced = 0;
  let trailing: NodeJS.Timeout | undefined;
  // With tracing on, the writes an announcement covers travel with it (their traceparents).
  const links: string[] = [];
  const announce = () => {
    trailing = undefined;
    announced = Date.now();
    bus.publish(channel, links.splice(0));
  };
  return () => {
    const traceparent = currentTraceparent();
    const drainer = local();
    if (drainer) return drainer.kick(traceparent);
    if (traceparent && links.length < MAX_LINKS) links.push(traceparent);
    const wait = announced + ANNOUNCE_EVERY_MS - Date.now();
    if (wait <= 0) return announce();
    // Announced a moment ago: one more announcement follows the window, so a write made after
    // a drainer woke still wakes it (not only the safety-net interval).
    if (!trailing) {
      trailing = setTimeout(announce, wait);
      trailing.unref?.();
    }
  };
}

/** Wakes `drainer` whenever another process announces rows on `channel`. */
function listenForOutboxWrites(bus: InvalidationBus, channel: string, drainer: { kick(traceparent?: string): void }): void {
  bus.subscribe(channel, (traceparents) => {
    if (traceparents === "all" || traceparents.length === 0) return drainer.kick();
    for (const traceparent of traceparents) drainer.kick(traceparent);
  });
}

/** An event waiting in a subgraph's `event_outbox` for BullMQ. */
export interface OutboxEvent {
  queue: string;
  /** BullMQ deduplicates by it: relaying one event twice enqueues it once. */
  jobId: string;
  payload: unknown;
}

/** A subgraph's `event_outbox` table, as its store reads it. */
export interface EventOutboxStore {
  /**
   * In one transaction: takes up to `limit` pending events (skipping rows another relay holds),
   * hands them to `send`, and deletes them only if `send` succeeded.
   */
  relayEvents(limit: number, send: (events: OutboxEvent[]) => Promise<void>): Promise<number>;
}

/** The drainer that relays a subgraph's pending events to their BullMQ queues, as a kit (see outboxKit). */
export function eventRelayKit(deps: SubgraphDeps, store: EventOutboxStore): OutboxKit {
  const name = deps.name;
  return outboxKit(deps, `events-written:${name}`, {
    create: () =>
      new OutboxDrainer<OutboxEvent>(
        `${name} events`,
        async (limit) => {
          let sent: OutboxEvent[] = [];
          const rows = await store.relayEvents(limit, async (events) => {
            for (const event of events) await deps.queues.queue(event.queue).add(event.queue, event.payload, { jobId: event.jobId });
            sent = events;
          });
          return { rows, changes: sent };
        },
        ({ rows }) => deps.log.debug({ subgraph: name, events: rows }, "relayed events to their queues"),
        { ...deps.config.counters, kickDelayMs: 0 },
        deps.log,
      ),
    countPending: (database) => deps.metrics.countPendingEvents(name, () => countPendingEvents(database)),
  });
}

/** What a subgraph holds of one outbox: what its writers call, and what its workers start. */
export interface OutboxKit {
  /** Call after writing outbox rows: wakes the drainer here, or announces the rows to the processes that drain. */
  readonly written: () => void;
  /** Drains in this process from now on (where the subgraph's workers run); stops when the subgraph closes. */
  start(): void;
  /** Drains everything pending here (tests and tools); nothing where this process does not drain. */
  settle(): Promise<void>;
}

/** The wiring every outbox shares: the write signal, the drainer's wake-ups, its pending-rows gauge and its stop. */
export function outboxKit<Item>(
  deps: SubgraphDeps,
  channel: string,
  drainer: { create(): OutboxDrainer<Item>; countPending(database: Database): void },
): OutboxKit {
  let running: OutboxDrainer<Item> | undefined;
  return {
    written: outboxWriteSignal(deps.bus, channel, () => running),
    start: () => {
      if (running) return;
      const started = drainer.create();
      running = started;
      if (deps.database) drainer.countPending(deps.database);
      listenForOutboxWrites(deps.bus, channel, started);
      started.start();
      deps.onClose(() => started.stop());
    },
    settle: async () => running?.drainAll(),
  };
}

/**
 * Events waiting in a subgraph's `event_outbox`, for the `outbox_events_pending` metric: on a
 * session of its own, so monitoring is not counted among the statements serving requests.
 */
export async function countPendingEvents(database: Database): Promise<number> {
  const [row] = await database.withSession((session) => session.query<{ n: string }>("SELECT count(*) AS n FROM event_outbox"));
  return Number(row?.n ?? 0);
}
