// The client's tunables in one place: page sizes, prefetch distance, polling and storage keys.

/** Videos per feed page; the next page is asked for while FEED_PREFETCH_DISTANCE remain. */
export const FEED_PAGE_SIZE = 10;
export const FEED_PREFETCH_DISTANCE = 3;
/** Share of a slide that must be on screen for it to count as the one playing. */
export const FEED_VISIBLE_RATIO = 0.6;

export const GRID_PAGE_SIZE = 12;
export const LIST_PAGE_SIZE = 20;
export const COMMENTS_PAGE_SIZE = 20;
export const FRIENDS_PAGE_SIZE = 30;

/** How often an open conversation asks for messages after the last one seen. */
export const CHAT_POLL_MS = 2000;

/** The session token survives reloads under this localStorage key. */
export const TOKEN_STORAGE_KEY = "douyin.token";

/** Same origin as the app: the gateway serves both (Vite's dev server proxies it). */
export const GRAPHQL_PATH = "/graphql";
