// Client-side routes over the History API. The app has a handful of paths, so a small table
// here does what a router library would; the gateway answers index.html for all of them.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

export type ProfileTab = "videos" | "liked" | "followers" | "following";

export type Route =
  | { name: "feed" }
  | { name: "login"; next: string | null }
  | { name: "signup"; next: string | null }
  | { name: "video"; id: string }
  | { name: "user"; id: string; tab: ProfileTab }
  | { name: "me" }
  | { name: "publish" }
  | { name: "friends" }
  | { name: "chat"; userId: string }
  | { name: "not-found" };

const TABS: ProfileTab[] = ["videos", "liked", "followers", "following"];
const ID = /^\d{1,20}$/;

export function parseRoute(pathname: string, search = ""): Route {
  const parts = pathname.split("/").filter(Boolean);
  const next = new URLSearchParams(search).get("next");
  const [first, second, third] = parts;
  if (parts.length === 0) return { name: "feed" };
  if (parts.length === 1 && (first === "login" || first === "signup")) return { name: first, next: next?.startsWith("/") ? next : null };
  if (parts.length === 1 && first === "me") return { name: "me" };
  if (parts.length === 1 && first === "publish") return { name: "publish" };
  if (parts.length === 1 && first === "friends") return { name: "friends" };
  if (parts.length === 2 && first === "videos" && ID.test(second!)) return { name: "video", id: second! };
  if (parts.length === 2 && first === "chat" && ID.test(second!)) return { name: "chat", userId: second! };
  if (first === "users" && second && ID.test(second) && parts.length <= 3) {
    const tab = (third ?? "videos") as ProfileTab;
    if (TABS.includes(tab)) return { name: "user", id: second, tab };
  }
  return { name: "not-found" };
}

export const paths = {
  feed: () => "/",
  login: (next?: string) => (next ? `/login?next=${encodeURIComponent(next)}` : "/login"),
  signup: (next?: string) => (next ? `/signup?next=${encodeURIComponent(next)}` : "/signup"),
  video: (id: string) => `/videos/${id}`,
  user: (id: string, tab: ProfileTab = "videos") => (tab === "videos" ? `/users/${id}` : `/users/${id}/${tab}`),
  me: () => "/me",
  publish: () => "/publish",
  friends: () => "/friends",
  chat: (userId: string) => `/chat/${userId}`,
};

const NAVIGATED = "douyin:navigate";

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATED));
}

function subscribe(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const currentLocation = () => location.pathname + location.search;

/** The current route; re-renders on every navigation (links, back and forward). */
export function useRoute(): Route {
  const current = useSyncExternalStore(subscribe, currentLocation);
  const [pathname, search = ""] = current.split("?");
  return parseRoute(pathname ?? "/", search ? `?${search}` : "");
}

/** The path and query of the current page, for coming back after logging in. */
export const useCurrentPath = () => useSyncExternalStore(subscribe, currentLocation);

export function Link({ to, replace, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    // Let the browser handle new tabs and windows.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to, { replace });
  };
  return <a href={to} onClick={follow} {...props} />;
}
