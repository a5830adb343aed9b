// Paths to routes and back.
import { describe, expect, it } from "vitest";
import { parseRoute, paths } from "./router";

describe("routes", () => {
  it("reads every path the app links to", () => {
    expect(parseRoute("/")).toEqual({ name: "feed" });
    expect(parseRoute("/videos/12")).toEqual({ name: "video", id: "12" });
    expect(parseRoute("/users/5")).toEqual({ name: "user", id: "5", tab: "videos" });
    expect(parseRoute("/users/5/followers")).toEqual({ name: "user", id: "5", tab: "followers" });
    expect(parseRoute("/chat/7")).toEqual({ name: "chat", userId: "7" });
    expect(parseRoute("/login", "?next=%2Fpublish")).toEqual({ name: "login", next: "/publish" });
    for (const path of [
      paths.feed(),
      paths.video("1"),
      paths.user("2", "liked"),
      paths.publish(),
      paths.friends(),
      paths.chat("3"),
      paths.me(),
    ]) {
      expect(parseRoute(path).name).not.toBe("not-found");
    }
  });

  it("refuses unknown paths, bad ids, and a `next` that leaves the site", () => {
    expect(parseRoute("/users/abc").name).toBe("not-found");
    expect(parseRoute("/users/5/secrets").name).toBe("not-found");
    expect(parseRoute("/nowhere").name).toBe("not-found");
    expect(parseRoute("/login", "?next=https://evil.example")).toEqual({ name: "login", next: null });
  });
});
