// The app's live connection (live-link.ts) for the screens that follow it: a screen that polls
// stops while the connection is live and polls again when it is not.
import { createContext, useContext, useSyncExternalStore } from "react";
import type { Live, LiveState } from "./live-link";

const LiveContext = createContext<Live | null>(null);

export const LiveProvider = LiveContext.Provider;

const never = () => () => undefined;
const offline = (): LiveState => "offline";

/** The connection's state; `offline` where there is none (a test rendering one screen). */
export function useLiveState(): LiveState {
  const live = useContext(LiveContext);
  return useSyncExternalStore(live?.subscribe ?? never, live?.state ?? offline);
}
