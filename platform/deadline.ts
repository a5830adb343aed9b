// A request's deadline, carried from the edge to every subgraph call: work for a caller that
// has gone away, or whose time is up, stops at the next resolver or fetch instead of running on.
import type { Config } from "./config";
import { DeadlineExceededError } from "./failures";

/** How long a request may take at an edge: a publish (a multipart upload) also gets the media worker's time. */
export function requestTimeout(config: Pick<Config, "requestTimeoutMs" | "media">, contentType: string | undefined): number {
  return /^multipart\/form-data/i.test(contentType ?? "")
    ? config.requestTimeoutMs + config.media.publishTimeoutMs
    : config.requestTimeoutMs;
}

export class Deadline {
  private readonly expiresAt: number;
  private abortedWith?: DeadlineExceededError;
  // Made on first use: most requests (co-located, served from memory) never need a signal.
  private controller?: AbortController;
  private combined?: AbortSignal;

  constructor(timeoutMs: number) {
    this.expiresAt = Date.now() + Math.max(0, timeoutMs);
  }

  /** No deadline: background work and tools. */
  static none(): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY);
  }

  /** The deadline a subgraph reads from the gateway's header, capped by its own limit. */
  static fromHeader(value: string | string[] | undefined, maxMs: number): Deadline {
    const remaining = typeof value === "string" ? Number(value) : Number.NaN;
    return new Deadline(Number.isFinite(remaining) && remaining >= 0 ? Math.min(remaining, maxMs) : maxMs);
  }

  /** Milliseconds left (Infinity without a deadline, 0 once aborted). */
  get remainingMs(): number {
    return this.abortedWith ? 0 : Math.max(0, this.expiresAt - Date.now());
  }

  get expired(): boolean {
    return this.abortedWith !== undefined || Date.now() >= this.expiresAt;
  }

  /** Aborted when the caller goes away or the deadline passes (for undici and other clients). */
  get signal(): AbortSignal {
    if (!this.combined) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith);
      const remaining = this.expiresAt - Date.now();
      this.combined = Number.isFinite(remaining)
        ? AbortSignal.any([this.controller.signal, AbortSignal.timeout(Math.max(0, remaining))])
        : this.controller.signal;
    }
    return this.combined;
  }

  /** The caller went away: stop now. */
  abort(reason = "the caller went away"): void {
    if (this.abortedWith) return;
    this.abortedWith = new DeadlineExceededError(reason);
    this.controller?.abort(this.abortedWith);
  }

  /** Throws once the request's time is up or its caller has gone. */
  check(): void {
    if (this.abortedWith) throw this.abortedWith;
    if (Date.now() >= this.expiresAt) throw new DeadlineExceededError();
  }
}
