// Polls one conversation for what is new: each poll asks for messages created after the newest
// one a poll has returned. While the conversation is live (a subscription delivers its messages)
// it does not poll on a timer; it only catches up when going live, so nothing sent while it
// was not listening is missed. The cursor comes only from poll answers, never from a message this
// client just sent: a message the other person sent a moment before ours has an earlier time,
// and moving the cursor past it would lose it. Repeats (our own message coming back) are
// dropped by id where the messages are stored (the cache's merge).

export interface PolledMessage {
  id: string;
  createdAt: string;
}

export interface ChatPollerOptions<Message extends PolledMessage> {
  /** Messages created after `after` (all of them without it), oldest first. */
  fetchAfter(after: string | undefined): Promise<readonly Message[]>;
  /** Hands a poll's messages to the store that shows them (the first answer even when empty). */
  deliver(messages: readonly Message[]): void;
  /** A poll failed (null: the next one worked again). */
  onError(error: unknown): void;
  intervalMs: number;
  /** After going live, the second catch-up poll comes this much later (the server starts listening a moment after). */
  settleMs: number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export interface ChatPoller {
  start(): void;
  stop(): void;
  /** Polls now (after sending, or a retry) instead of waiting for the timer. */
  pollNow(): Promise<void>;
  /** Live: no more polls on a timer, a catch-up now and one `settleMs` later. Not live: polls on the timer again, starting now. */
  setLive(live: boolean): void;
  readonly cursor: string | undefined;
}

/** ISO-8601 times with milliseconds in UTC compare as strings. */
const later = (a: string | undefined, b: string) => (a === undefined || b > a ? b : a);

export function createChatPoller<Message extends PolledMessage>(options: ChatPollerOptions<Message>): ChatPoller {
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  let cursor: string | undefined;
  let timer: unknown;
  let running = false;
  let inFlight: Promise<void> | null = null;
  let answered = false;
  let live = false;
  let settling: unknown;

  const schedule = () => {
    if (running && !live) timer = setTimer(() => void poll(), options.intervalMs);
  };
  const stopSettling = () => {
    if (settling !== undefined) clearTimer(settling);
    settling = undefined;
  };

  const poll = (): Promise<void> => {
    // One poll at a time: two with the same cursor would only fetch the same messages twice.
    if (inFlight) return inFlight;
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    inFlight = (async () => {
      try {
        const messages = await options.fetchAfter(cursor);
        if (!running) return;
        for (const message of messages) cursor = later(cursor, message.createdAt);
        if (messages.length > 0 || !answered) options.deliver(messages);
        answered = true;
        options.onError(null);
      } catch (error) {
        if (running) options.onError(error);
      } finally {
        inFlight = null;
        schedule();
      }
    })();
    return inFlight;
  };

  return {
    start() {
      if (running) return;
      running = true;
      void poll();
    },
    stop() {
      running = false;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      stopSettling();
    },
    pollNow: poll,
    setLive(next) {
      if (next === live) return;
      live = next;
      stopSettling();
      if (!running) return;
      void poll();
      if (live)
        settling = setTimer(() => {
          settling = undefined;
          void poll();
        }, options.settleMs);
    },
    get cursor() {
      return cursor;
    },
  };
}
