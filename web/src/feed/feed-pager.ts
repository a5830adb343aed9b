// When the feed asks for its next page, and where the arrow keys move: pure rules, so the
// feed component only wires them to scrolling and to Apollo's fetchMore.
import { FEED_PREFETCH_DISTANCE } from "../config";

export interface FeedPagerState {
  /** The slide on screen. */
  activeIndex: number;
  /** Slides loaded so far. */
  loaded: number;
  /** The last page's nextTime: the next page's latestTime; null once the feed has no more. */
  nextTime: string | null | undefined;
  /** A page is on its way. */
  loading: boolean;
  /** The last page failed: wait for the person to retry rather than hammer the server. */
  failed: boolean;
}

export function shouldLoadMore(state: FeedPagerState, distance = FEED_PREFETCH_DISTANCE): boolean {
  if (state.loading || state.failed || state.nextTime == null) return false;
  return state.loaded - 1 - state.activeIndex <= distance;
}

const FORWARD = new Set(["ArrowDown", "PageDown", "j"]);
const BACKWARD = new Set(["ArrowUp", "PageUp", "k"]);

/** The slide a key moves to, or null when the key is not a feed key or there is nowhere to go. */
export function slideForKey(key: string, activeIndex: number, loaded: number): number | null {
  const step = FORWARD.has(key) ? 1 : BACKWARD.has(key) ? -1 : 0;
  if (step === 0) return null;
  const target = activeIndex + step;
  return target >= 0 && target < loaded ? target : null;
}
