// The session token: kept in localStorage so a reload stays logged in, and announced to the app
// whenever it changes (log in, log out, a 401 from the server, another tab).

export interface TokenStore {
  get(): string | null;
  set(token: string): void;
  clear(): void;
  /** Clears the token only if it is still `token`: a late 401 must not log out a newer session. */
  clearIf(token: string): void;
  subscribe(listener: () => void): () => void;
}

export function createTokenStore(
  storage: Storage | undefined,
  key: string,
  events?: Pick<Window, "addEventListener" | "removeEventListener">,
): TokenStore {
  // Private browsing can make localStorage throw; the session then lasts until the tab closes.
  let memory: string | null = null;
  const listeners = new Set<() => void>();
  const read = () => {
    try {
      return storage?.getItem(key) ?? memory;
    } catch {
      return memory;
    }
  };
  const write = (token: string | null) => {
    memory = token;
    try {
      if (token === null) storage?.removeItem(key);
      else storage?.setItem(key, token);
    } catch {
      // Kept in memory only.
    }
    listeners.forEach((listener) => listener());
  };
  const onStorage = (event: StorageEvent) => {
    if (event.key === key || event.key === null) listeners.forEach((listener) => listener());
  };
  return {
    get: read,
    set: (token) => write(token),
    clear: () => write(null),
    clearIf: (token) => {
      if (read() === token) write(null);
    },
    subscribe(listener) {
      if (listeners.size === 0) events?.addEventListener("storage", onStorage as EventListener);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) events?.removeEventListener("storage", onStorage as EventListener);
      };
    },
  };
}
