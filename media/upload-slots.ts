// How many uploads each caller may be sending at once. An upload is spooled to the local disk
// of the process receiving it, so that disk is what these limits protect, and they are counted
// in that process (as live connections are): a user holding every slot of one replica takes
// nothing from another's.
import { rateLimited, type AppError } from "../lib/errors";

/** What a refused upload is told to wait: an upload in flight usually ends within seconds. */
const RETRY_AFTER_SECONDS = 5;

export interface UploadLimits {
  perUser: number;
  perAddress: number;
}

export class UploadSlots {
  private readonly byUser = new Map<number, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: UploadLimits) {}

  /**
   * Takes a slot for `userId` and one for `address`: the function that gives both back (call it
   * once the exchange is over, answered or abandoned), or the RATE_LIMITED refusal.
   */
  take(userId: number, address: string): { release: () => void } | { refusal: AppError } {
    if ((this.byUser.get(userId) ?? 0) >= this.limits.perUser) {
      return { refusal: rateLimited(`too many uploads at once for this user (at most ${this.limits.perUser})`, RETRY_AFTER_SECONDS) };
    }
    if ((this.byAddress.get(address) ?? 0) >= this.limits.perAddress) {
      return {
        refusal: rateLimited(`too many uploads at once from this address (at most ${this.limits.perAddress})`, RETRY_AFTER_SECONDS),
      };
    }
    adjust(this.byUser, userId, 1);
    adjust(this.byAddress, address, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        adjust(this.byUser, userId, -1);
        adjust(this.byAddress, address, -1);
      },
    };
  }
}

/** Moves a count, dropping keys that reach zero so the maps hold only callers with uploads in flight. */
function adjust<K>(counts: Map<K, number>, key: K, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
