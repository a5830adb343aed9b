// Live events over Redis pub/sub, one channel per topic (lib/live-events.ts names them) under the
// deployment's prefix. Writers publish after their commit, from whichever process they run in;
// each gateway process holds one subscriber connection and subscribes only to the channels its
// WebSocket clients listen to, counting listeners per channel. Pub/sub keeps nothing: an event
// published while a subscriber is reconnecting is gone, and the hub says so (`onGap`).
import type { Redis } from "ioredis";
import type { Topic } from "../lib/live-events";
import type { Config } from "./config";
import type { Logger } from "./logger";
import { connectRedis } from "./redis";
import { currentTraceparent } from "./tracing";

export interface LiveEvent<Payload> {
  payload: Payload;
  /** When it was published (ms since the epoch): delivery latency is measured from it. */
  publishedAt: number;
  /** The write it follows, with tracing on: each delivery's span links to it. */
  traceparent?: string;
  /** Its size as it travelled (bytes of JSON), counted against a slow consumer's allowance. */
  bytes: number;
}

export interface LivePublisher {
  /** Publishes after a commit; never throws (a lost event is logged: subscribers catch up by query). */
  publish<Payload>(topic: Topic<Payload>, payload: Payload): void;
}

/** Where the platform has no Redis (the fast tests, tools): nobody can be listening. */
export const noLivePublisher: LivePublisher = { publish: () => undefined };

const channelOf = (prefix: string, topic: string) => `${prefix}:live:${topic}`;

export class RedisLivePublisher implements LivePublisher {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  publish<Payload>(topic: Topic<Payload>, payload: Payload): void {
    const traceparent = currentTraceparent();
    const text = JSON.stringify({ payload, publishedAt: Date.now(), ...(traceparent && { traceparent }) });
    this.redis.publish(channelOf(this.prefix, topic), text).catch((error: unknown) => {
      this.log.warn({ err: error, topic }, "could not publish a live event; subscribers catch up when they next query");
    });
  }
}

/** The publisher of a process: on its Redis, or nowhere without one. */
export function livePublisher(platform: { redis: Redis | null; config: Config; log: Logger }): LivePublisher {
  return platform.redis ? new RedisLivePublisher(platform.redis, platform.config.redis.prefix, platform.log) : noLivePublisher;
}

type Listener = (event: LiveEvent<unknown>) => void;

interface Channel {
  listeners: Set<Listener>;
  /** Settles once Redis confirmed the subscription. */
  subscribed: Promise<unknown>;
}

/**
 * One gateway process's subscriber connection: `listen` subscribes a channel for its first
 * listener and unsubscribes it after its last, so Redis sends this process only the events
 * its clients wait for. Commands on one connection run in order, so an unsubscribe followed by
 * a new subscribe of the same channel ends subscribed.
 */
export class LiveEventHub {
  private readonly channels = new Map<string, Channel>();
  private readonly gapHandlers: (() => void)[] = [];
  private connectedBefore = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    subscriber.on("message", (channel: string, text: string) => this.dispatch(channel, text));
    // ioredis subscribes again after a reconnection, but what was published meanwhile is gone.
    subscriber.on("ready", () => {
      if (this.connectedBefore) {
        this.log.warn("live event connection to Redis restored; events published while it was down are lost");
        for (const handler of this.gapHandlers) handler();
      }
      this.connectedBefore = true;
    });
  }

  /** A hub on a subscriber connection of its own (a subscribed connection can do nothing else). */
  static async open(config: Pick<Config, "redis">, log: Logger, service: string): Promise<LiveEventHub> {
    const subscriber = await connectRedis(config, { forWorkers: true, name: `${service}-live` });
    const hub = new LiveEventHub(subscriber, config.redis.prefix, log);
    hub.connectedBefore = true;
    return hub;
  }

  /** Calls `listener` with each event of `topic` from when Redis confirmed the subscription; returns how to stop. */
  async listen<Payload>(topic: Topic<Payload>, listener: (event: LiveEvent<Payload>) => void): Promise<() => void> {
    const name = channelOf(this.prefix, topic);
    const channel = this.channels.get(name) ?? this.subscribe(name);
    const own = listener as Listener;
    channel.listeners.add(own);
    const stop = () => {
      if (!channel.listeners.delete(own) || channel.listeners.size > 0 || this.channels.get(name) !== channel) return;
      this.channels.delete(name);
      this.subscriber.unsubscribe(name).catch((error: unknown) => this.log.warn({ err: error, channel: name }, "could not unsubscribe"));
    };
    try {
      await channel.subscribed;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  private subscribe(name: string): Channel {
    const channel: Channel = { listeners: new Set(), subscribed: this.subscriber.subscribe(name) };
    this.channels.set(name, channel);
    return channel;
  }

  /** Calls `handler` whenever events may have been lost (the subscriber connection was down). */
  onGap(handler: () => void): void {
    this.gapHandlers.push(handler);
  }

  /** Channels subscribed now. */
  get size(): number {
    return this.channels.size;
  }

  private dispatch(name: string, text: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    let event: LiveEvent<unknown>;
    try {
      event = { ...(JSON.parse(text) as Omit<LiveEvent<unknown>, "bytes">), bytes: Buffer.byteLength(text) };
    } catch {
      this.log.warn({ channel: name }, "ignored a live event that is not JSON");
      return;
    }
    for (const listener of channel.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error, channel: name }, "a live event listener failed");
      }
    }
  }

  async close(): Promise<void> {
    this.channels.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
