// Liking: the count moves at once, the answer decides, a failure puts it back.
import { ApolloClient } from "@apollo/client";
import { ApolloLink } from "@apollo/client/link";
import { ApolloProvider } from "@apollo/client/react";
import { act, cleanup, fireEvent, render, renderHook, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { Observable } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import { createCache } from "../apollo/cache";
import { SessionProvider } from "../auth/session";
import { createTokenStore } from "../auth/token-store";
import { LikeButton } from "../feed/LikeButton";
import { VideoCardFragment } from "./fragments";
import { countAfter, useToggleLike } from "./likes";

afterEach(cleanup);

/** A server whose answers the test releases, to look at the cache in between. */
function heldServer() {
  const pending: { operation: ApolloLink.Operation; answer(result: ApolloLink.Result): void; fail(error: Error): void }[] = [];
  const link = new ApolloLink(
    (operation) =>
      new Observable((observer) => {
        pending.push({
          operation,
          answer: (result) => {
            observer.next(result);
            observer.complete();
          },
          fail: (error) => observer.error(error),
        });
      }),
  );
  return { link, pending };
}

function setup(initial: { isFavorite: boolean; favoriteCount: number }) {
  const server = heldServer();
  const client = new ApolloClient({ cache: createCache(), link: server.link });
  const video = {
    __typename: "Video" as const,
    id: "7",
    title: "clip",
    playUrl: "http://media/7.mp4",
    coverUrl: "http://media/7.jpg",
    commentCount: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    author: { __typename: "User" as const, id: "1", name: "alice", avatar: null },
    ...initial,
  };
  client.writeFragment({ fragment: VideoCardFragment, data: video });
  const read = () => client.readFragment({ fragment: VideoCardFragment, id: "Video:7" });
  const readOptimistic = () => client.readFragment({ fragment: VideoCardFragment, id: "Video:7" }, true);
  const wrapper = ({ children }: { children: ReactNode }) => <ApolloProvider client={client}>{children}</ApolloProvider>;
  return { client, server, video, read, readOptimistic, wrapper };
}

describe("countAfter", () => {
  it("moves the count only when the like state changed", () => {
    expect(countAfter({ isFavorite: false, favoriteCount: 4 }, true)).toBe(5);
    expect(countAfter({ isFavorite: true, favoriteCount: 5 }, false)).toBe(4);
    expect(countAfter({ isFavorite: true, favoriteCount: 5 }, true)).toBe(5);
    expect(countAfter({ isFavorite: true, favoriteCount: 0 }, false)).toBe(0);
  });
});

describe("toggling a like", () => {
  it("counts at once and keeps the count when the answer agrees (its own stale count is not used)", async () => {
    const { server, video, readOptimistic, read, wrapper } = setup({ isFavorite: false, favoriteCount: 4 });
    const { result } = renderHook(() => useToggleLike(), { wrapper });
    let done!: Promise<void>;
    act(() => {
      done = result.current(video, undefined);
    });
    expect(readOptimistic()).toMatchObject({ isFavorite: true, favoriteCount: 5 });
    expect(server.pending[0]?.operation.operationName).toBe("LikeVideo");
    await act(async () => {
      server.pending[0]!.answer({ data: { likeVideo: { __typename: "Video", id: "7", isFavorite: true } } });
      await done;
    });
    expect(read()).toMatchObject({ isFavorite: true, favoriteCount: 5 });
  });

  it("puts the count back when the like fails", async () => {
    const { server, video, readOptimistic, wrapper } = setup({ isFavorite: false, favoriteCount: 4 });
    const { result } = renderHook(() => useToggleLike(), { wrapper });
    let done!: Promise<void>;
    act(() => {
      done = result.current(video, undefined);
    });
    expect(readOptimistic()?.favoriteCount).toBe(5);
    await act(async () => {
      server.pending[0]!.fail(new TypeError("Failed to fetch"));
      await done.catch(() => undefined);
    });
    expect(readOptimistic()).toMatchObject({ isFavorite: false, favoriteCount: 4 });
  });

  it("unlikes, and follows the answer when the server says otherwise", async () => {
    const { server, video, read, wrapper } = setup({ isFavorite: true, favoriteCount: 3 });
    const { result } = renderHook(() => useToggleLike(), { wrapper });
    let done!: Promise<void>;
    act(() => {
      done = result.current(video, undefined);
    });
    expect(server.pending[0]?.operation.operationName).toBe("UnlikeVideo");
    await act(async () => {
      // The like was already gone on the server, say from another tab: the answer wins.
      server.pending[0]!.answer({ data: { unlikeVideo: { __typename: "Video", id: "7", isFavorite: true } } });
      await done;
    });
    expect(read()).toMatchObject({ isFavorite: true, favoriteCount: 3 });
  });

  it("shows the new count on the button before the server answers", async () => {
    const { client, server, video } = setup({ isFavorite: false, favoriteCount: 9 });
    const tokens = createTokenStore(undefined, "token");
    tokens.set("a-token");
    function Shown() {
      const current = client.readFragment({ fragment: VideoCardFragment, id: "Video:7" }, true) ?? video;
      return <LikeButton video={current} />;
    }
    const { rerender } = render(
      <ApolloProvider client={client}>
        <SessionProvider tokens={tokens}>
          <Shown />
        </SessionProvider>
      </ApolloProvider>,
    );
    expect(screen.getByTestId("like-count").textContent).toBe("9");
    fireEvent.click(screen.getByRole("button", { name: "Like" }));
    rerender(
      <ApolloProvider client={client}>
        <SessionProvider tokens={tokens}>
          <Shown />
        </SessionProvider>
      </ApolloProvider>,
    );
    expect(screen.getByTestId("like-count").textContent).toBe("10");
    expect(screen.getByRole("button", { name: "Like" }).getAttribute("aria-pressed")).toBe("true");
    expect(server.pending.some((request) => request.operation.operationName === "LikeVideo")).toBe(true);
  });
});
