// The conversation poller: its cursor, its pace, and its failures.
import { describe, expect, it, vi } from "vitest";
import { createChatPoller, type PolledMessage } from "./chat-poller";

function harness(answers: (after: string | undefined) => Promise<readonly PolledMessage[]>) {
  const timers: (() => void)[] = [];
  const delays: number[] = [];
  const delivered: PolledMessage[][] = [];
  const errors: unknown[] = [];
  const fetchAfter = vi.fn(answers);
  const poller = createChatPoller({
    intervalMs: 1000,
    settleMs: 50,
    fetchAfter,
    deliver: (messages) => delivered.push([...messages]),
    onError: (error) => errors.push(error),
    setTimer: (run, ms) => {
      delays.push(ms);
      return timers.push(run);
    },
    clearTimer: () => undefined,
  });
  /** Runs the next scheduled poll and waits for it. */
  const tick = async () => {
    timers.shift()?.();
    await poller.pollNow();
  };
  return { poller, fetchAfter, delivered, errors, tick, timers, delays };
}

const m = (id: string, second: number) => ({ id, createdAt: `2026-01-01T00:00:${String(second).padStart(2, "0")}.000Z` });

describe("the chat poller", () => {
  it("asks for everything first, then only for what is after the newest message a poll returned", async () => {
    const pages = [[m("1", 1), m("2", 2)], [m("3", 3)], []];
    const { poller, fetchAfter, delivered, tick } = harness(async () => pages.shift() ?? []);
    poller.start();
    await poller.pollNow();
    await tick();
    await tick();
    expect(fetchAfter.mock.calls.map(([after]) => after)).toEqual([undefined, m("2", 2).createdAt, m("3", 3).createdAt]);
    expect(delivered).toEqual([[m("1", 1), m("2", 2)], [m("3", 3)]]);
    expect(poller.cursor).toBe(m("3", 3).createdAt);
  });

  it("delivers the first answer even when the conversation is empty, and later empty ones not", async () => {
    const { poller, delivered, tick } = harness(async () => []);
    poller.start();
    await poller.pollNow();
    await tick();
    expect(delivered).toEqual([[]]);
  });

  it("keeps its cursor through a failed poll and reports when polling works again", async () => {
    let fail = true;
    const { poller, fetchAfter, errors, tick } = harness(async (after) => {
      if (after && fail) throw new TypeError("Failed to fetch");
      return after ? [] : [m("1", 1)];
    });
    poller.start();
    await poller.pollNow();
    await tick();
    expect(errors.at(-1)).toBeInstanceOf(TypeError);
    fail = false;
    await tick();
    expect(errors.at(-1)).toBeNull();
    expect(fetchAfter.mock.calls.slice(1).map(([after]) => after)).toEqual([m("1", 1).createdAt, m("1", 1).createdAt]);
  });

  it("runs one poll at a time and stops for good", async () => {
    let release!: (messages: PolledMessage[]) => void;
    const { poller, fetchAfter, timers, delivered } = harness(() => new Promise((resolve) => (release = resolve)));
    poller.start();
    void poller.pollNow();
    expect(fetchAfter).toHaveBeenCalledTimes(1);
    poller.stop();
    release([m("1", 1)]);
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(delivered).toEqual([]);
    expect(timers).toEqual([]);
  });

  it("while live, polls on no timer but catches up at once and once more after settling; offline, polls again", async () => {
    const pages = [[m("1", 1)], [m("2", 2)], [], [m("3", 3)], []];
    const { poller, fetchAfter, delivered, timers, delays } = harness(async () => pages.shift() ?? []);
    poller.start();
    await poller.pollNow();
    timers.length = 0;
    delays.length = 0;

    poller.setLive(true);
    await poller.pollNow();
    expect(delays).toEqual([50]);
    timers.shift()!();
    await poller.pollNow();
    expect(timers).toEqual([]);
    expect(fetchAfter.mock.calls.map(([after]) => after)).toEqual([undefined, m("1", 1).createdAt, m("2", 2).createdAt]);

    poller.setLive(false);
    await poller.pollNow();
    expect(delays.slice(1)).toEqual([1000]);
    expect(delivered).toEqual([[m("1", 1)], [m("2", 2)], [m("3", 3)]]);
  });
});
