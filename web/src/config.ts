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

/** How often an open conversation asks for messages after the last one seen, while it is not live. */
export const CHAT_POLL_MS = 2000;

/**
 * Live updates (subscriptions over WebSocket): how long the socket stays open after the last
 * subscription ends (moving between screens), and the reconnection backoff, doubling from the
 * first wait to the longest.
 */
export const LIVE_LAZY_CLOSE_MS = 5000;
export const LIVE_RETRY_FIRST_MS = 1000;
export const LIVE_RETRY_MAX_MS = 30_000;
/**
 * A conversation that goes live catches up by polling at once and once more this much later:
 * the server starts listening a moment after the connection is acknowledged (a Redis round
 * trip), and a message sent in between is in that second answer.
 */
export const LIVE_SETTLE_MS = 1000;

/** The session token survives reloads under this localStorage key. */
export const TOKEN_STORAGE_KEY = "douyin.token";

/** Same origin as the app: the gateway serves both (Vite's dev server proxies it). */
export const GRAPHQL_PATH = "/graphql";

/** The server's text limits in characters (code points): the inputs stop there too. */
export const USERNAME_MAX_LENGTH = 32;
export const PASSWORD_MAX_LENGTH = 32;
export const TITLE_MAX_LENGTH = 100;
export const COMMENT_MAX_LENGTH = 500;
export const MESSAGE_MAX_LENGTH = 1000;

/** While the viewer cannot be read (server down), ask again this often, and when back online. */
export const VIEWER_RETRY_MS = 5000;
/** How long a failed action's notice stays unless dismissed or retried. */
export const NOTICE_MS = 8000;
