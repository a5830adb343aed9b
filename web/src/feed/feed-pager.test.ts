// When the feed asks for more, and where the keys move.
import { describe, expect, it } from "vitest";
import { shouldLoadMore, slideForKey } from "./feed-pager";

const state = { activeIndex: 0, loaded: 10, nextTime: "2026-01-01T00:00:00.000Z", loading: false, failed: false };

describe("the feed pager", () => {
  it("asks for the next page once few enough videos remain after the one on screen", () => {
    expect(shouldLoadMore({ ...state, activeIndex: 5 }, 3)).toBe(false);
    expect(shouldLoadMore({ ...state, activeIndex: 6 }, 3)).toBe(true);
    expect(shouldLoadMore({ ...state, activeIndex: 9 }, 3)).toBe(true);
    expect(shouldLoadMore({ ...state, loaded: 1, activeIndex: 0 }, 3)).toBe(true);
  });

  it("does not ask while a page is coming, after a failure, or once the feed has ended", () => {
    expect(shouldLoadMore({ ...state, activeIndex: 9, loading: true })).toBe(false);
    expect(shouldLoadMore({ ...state, activeIndex: 9, failed: true })).toBe(false);
    expect(shouldLoadMore({ ...state, activeIndex: 9, nextTime: null })).toBe(false);
  });

  it("moves one slide per arrow key and stops at both ends", () => {
    expect(slideForKey("ArrowDown", 0, 3)).toBe(1);
    expect(slideForKey("ArrowUp", 1, 3)).toBe(0);
    expect(slideForKey("ArrowUp", 0, 3)).toBeNull();
    expect(slideForKey("ArrowDown", 2, 3)).toBeNull();
    expect(slideForKey("Enter", 1, 3)).toBeNull();
  });
});
