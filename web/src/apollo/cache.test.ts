// The cache's paging rules, through a real InMemoryCache as the app uses it.
import { describe, expect, it } from "vitest";
import { FeedDocument } from "../feed/FeedPage";
import { ChatDocument, ChatPartnerDocument } from "../chat/ChatPage";
import { FriendsDocument } from "../chat/FriendsPage";
import { UserVideosDocument } from "../profile/VideoGrid";
import { createCache } from "./cache";

const author = { __typename: "User" as const, id: "1", name: "alice", avatar: null };
const video = (id: string, createdAt: string) => ({
  __typename: "Video" as const,
  id,
  title: `video ${id}`,
  playUrl: `http://media/${id}.mp4`,
  coverUrl: `http://media/${id}.jpg`,
  favoriteCount: 0,
  commentCount: 0,
  isFavorite: false,
  createdAt,
  author,
});
const message = (id: string, createdAt: string) => ({
  __typename: "Message" as const,
  id,
  fromUserId: "1",
  toUserId: "2",
  content: `m${id}`,
  createdAt,
});

const ids = (items: readonly { id: string }[] | undefined) => items?.map((item) => item.id);

describe("the feed", () => {
  it("appends a page asked with latestTime, once per video, and follows its nextTime", () => {
    const cache = createCache();
    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 2 },
      data: {
        feed: {
          __typename: "FeedPage",
          nextTime: "2026-01-01T00:00:02.000Z",
          videos: [video("4", "2026-01-01T00:00:04.000Z"), video("3", "2026-01-01T00:00:02.000Z")],
        },
      },
    });
    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 2, latestTime: "2026-01-01T00:00:02.000Z" },
      // "3" again: a page boundary inside one instant must not show a video twice.
      data: {
        feed: {
          __typename: "FeedPage",
          nextTime: "2026-01-01T00:00:01.000Z",
          videos: [video("3", "2026-01-01T00:00:02.000Z"), video("2", "2026-01-01T00:00:01.000Z")],
        },
      },
    });
    const feed = cache.readQuery({ query: FeedDocument, variables: { limit: 2 } })?.feed;
    expect(ids(feed?.videos)).toEqual(["4", "3", "2"]);
    expect(feed?.nextTime).toBe("2026-01-01T00:00:01.000Z");

    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 2, latestTime: "2026-01-01T00:00:01.000Z" },
      data: { feed: { __typename: "FeedPage", nextTime: null, videos: [] } },
    });
    const ended = cache.readQuery({ query: FeedDocument, variables: { limit: 2 } })?.feed;
    expect(ids(ended?.videos)).toEqual(["4", "3", "2"]);
    expect(ended?.nextTime).toBeNull();
  });

  it("starts over when the first page is asked again", () => {
    const cache = createCache();
    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 2 },
      data: { feed: { __typename: "FeedPage", nextTime: "t", videos: [video("1", "2026-01-01T00:00:01.000Z")] } },
    });
    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 2 },
      data: { feed: { __typename: "FeedPage", nextTime: "t", videos: [video("5", "2026-01-01T00:00:05.000Z")] } },
    });
    expect(ids(cache.readQuery({ query: FeedDocument, variables: { limit: 2 } })?.feed.videos)).toEqual(["5"]);
  });
});

describe("connections", () => {
  const page = (nodes: string[], nextCursor: string | null) => ({
    user: {
      __typename: "User" as const,
      id: "1",
      videos: {
        __typename: "VideoConnection" as const,
        nodes: nodes.map((id) => ({ __typename: "Video" as const, id, title: id, coverUrl: `http://media/${id}.jpg`, favoriteCount: 0 })),
        nextCursor,
        hasMore: nextCursor !== null,
      },
    },
  });

  it("continue with `after`, skipping nodes already shown, and restart without it", () => {
    const cache = createCache();
    cache.writeQuery({ query: UserVideosDocument, variables: { id: "1", first: 2 }, data: page(["9", "8"], "c1") });
    cache.writeQuery({ query: UserVideosDocument, variables: { id: "1", first: 2, after: "c1" }, data: page(["8", "7"], null) });
    const merged = cache.readQuery({ query: UserVideosDocument, variables: { id: "1", first: 2 } })?.user?.videos;
    expect(ids(merged?.nodes)).toEqual(["9", "8", "7"]);
    expect(merged?.hasMore).toBe(false);

    cache.writeQuery({ query: UserVideosDocument, variables: { id: "1", first: 2 }, data: page(["10", "9"], "c2") });
    expect(ids(cache.readQuery({ query: UserVideosDocument, variables: { id: "1", first: 2 } })?.user?.videos.nodes)).toEqual(["10", "9"]);
  });

  it("tell friends apart by their user, since a Friend has no id", () => {
    const cache = createCache();
    const friend = (id: string) => ({
      __typename: "Friend" as const,
      user: { __typename: "User" as const, id, name: `u${id}`, avatar: null },
      latestMessage: null,
    });
    const friends = (list: string[], nextCursor: string | null) => ({
      me: {
        __typename: "User" as const,
        id: "1",
        friends: { __typename: "FriendConnection" as const, nodes: list.map(friend), nextCursor, hasMore: nextCursor !== null },
      },
    });
    cache.writeQuery({ query: FriendsDocument, variables: { first: 2 }, data: friends(["2", "3"], "c") });
    cache.writeQuery({ query: FriendsDocument, variables: { first: 2, after: "c" }, data: friends(["3", "4"], null) });
    const nodes = cache.readQuery({ query: FriendsDocument, variables: { first: 2 } })?.me?.friends.nodes;
    expect(nodes?.map((node) => node.user.id)).toEqual(["2", "3", "4"]);
  });
});

describe("a conversation", () => {
  it("holds each message once, oldest first, however often polls and sends repeat them", () => {
    const cache = createCache();
    const write = (after: string | undefined, chat: ReturnType<typeof message>[]) =>
      cache.updateQuery({ query: ChatDocument, variables: { withUserId: "2" } }, (existing) => ({
        chat: [...(existing?.chat ?? []), ...chat],
      }));
    write(undefined, [message("1", "2026-01-01T00:00:01.000Z")]);
    // Our own message, from the send mutation's answer...
    write(undefined, [message("3", "2026-01-01T00:00:03.000Z")]);
    // ...then a poll returning the other person's earlier one, and ours again.
    write("2026-01-01T00:00:01.000Z", [message("2", "2026-01-01T00:00:02.000Z"), message("3", "2026-01-01T00:00:03.000Z")]);
    expect(ids(cache.readQuery({ query: ChatDocument, variables: { withUserId: "2" } })?.chat)).toEqual(["1", "2", "3"]);
  });

  it("keeps conversations with different people apart", () => {
    const cache = createCache();
    cache.writeQuery({ query: ChatDocument, variables: { withUserId: "2" }, data: { chat: [message("1", "2026-01-01T00:00:01.000Z")] } });
    cache.writeQuery({ query: ChatDocument, variables: { withUserId: "3" }, data: { chat: [message("9", "2026-01-01T00:00:09.000Z")] } });
    expect(ids(cache.readQuery({ query: ChatDocument, variables: { withUserId: "2" } })?.chat)).toEqual(["1"]);
  });
});

describe("entities by id", () => {
  it("answers user(id) from what the feed already brought", () => {
    const cache = createCache();
    cache.writeQuery({
      query: FeedDocument,
      variables: { limit: 1 },
      data: { feed: { __typename: "FeedPage", nextTime: null, videos: [video("1", "2026-01-01T00:00:01.000Z")] } },
    });
    expect(cache.readQuery({ query: ChatPartnerDocument, variables: { id: "1" } })?.user?.name).toBe("alice");
  });
});
