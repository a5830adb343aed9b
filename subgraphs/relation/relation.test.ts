// The relation subgraph on its own schema (fast tier): follows and their exact counters,
// friends, and chat polls that never miss or repeat a message.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { USER_REGISTERED_QUEUE, userRegisteredJobId, type UserRegisteredEvent } from "../../lib/events";
import { signedIn, startInProcess, type InProcessStack } from "../../test/in-process";

let stack: InProcessStack;
const relation = () => stack.subgraph("relation");
let nextUserId = 1000;

before(async () => {
  stack = await startInProcess({ subgraphs: ["relation"] });
});
after(() => stack.close());

/** A user the user subgraph announced, as its `user-registered` event does. */
async function announcedUser(): Promise<number> {
  const userId = (nextUserId += 1);
  await stack.platform.queues
    .queue<UserRegisteredEvent>(USER_REGISTERED_QUEUE)
    .add("registered", { userIds: [userId] }, { jobId: userRegisteredJobId(userId) });
  return userId;
}

const FOLLOW = `mutation ($id: ID!) { follow(userId: $id) { id followerCount isFollow } }`;
const UNFOLLOW = `mutation ($id: ID!) { unfollow(userId: $id) { id isFollow } }`;
const COUNTS = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { followCount followerCount isFollow } } }`;

async function counts(userId: number, viewer = signedIn(1)) {
  await stack.settled();
  const result = await relation().execute<{ _entities: { followCount: number; followerCount: number; isFollow: boolean }[] }>(
    COUNTS,
    { r: [{ __typename: "User", id: String(userId) }] },
    viewer,
  );
  return result.data!._entities[0]!;
}

describe("relation subgraph", () => {
  it("follows and unfollows idempotently, with exact counters", async () => {
    const [ann, ben] = [await announcedUser(), await announcedUser()];
    for (let i = 0; i < 3; i++) {
      const followed = await relation().execute<{ follow: { isFollow: boolean } }>(FOLLOW, { id: String(ben) }, signedIn(ann));
      assert.equal(followed.data?.follow.isFollow, true, "the caller reads their own follow at once");
    }
    assert.deepEqual(await counts(ben, signedIn(ann)), { followCount: 0, followerCount: 1, isFollow: true });
    assert.deepEqual(await counts(ann), { followCount: 1, followerCount: 0, isFollow: false });
    await relation().execute(UNFOLLOW, { id: String(ben) }, signedIn(ann));
    await relation().execute(UNFOLLOW, { id: String(ben) }, signedIn(ann));
    assert.deepEqual(await counts(ben, signedIn(ann)), { followCount: 0, followerCount: 0, isFollow: false });
  });

  it("refuses following yourself, unknown users, bad ids and anonymous callers", async () => {
    const ann = await announcedUser();
    const codeOf = async (id: string, viewer = signedIn(ann)) =>
      (await relation().execute(FOLLOW, { id }, viewer)).errors?.[0]?.extensions?.code;
    assert.equal(await codeOf(String(ann)), "BAD_USER_INPUT");
    assert.equal(await codeOf("987654321"), "NOT_FOUND");
    assert.equal(await codeOf("-3"), "BAD_USER_INPUT");
    assert.equal((await relation().execute(FOLLOW, { id: String(ann) })).errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });

  it("lists follows newest first with cursors, and friends only to their owner", async () => {
    const [me, a, b, c] = [await announcedUser(), await announcedUser(), await announcedUser(), await announcedUser()];
    for (const other of [a, b, c]) await relation().execute(FOLLOW, { id: String(other) }, signedIn(me));
    await relation().execute(FOLLOW, { id: String(me) }, signedIn(b)); // b follows back: a friend
    const LIST = `query ($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on User { following(first: 2, after: $after) { nodes { id } nextCursor hasMore } } } }`;
    type Page = { _entities: { following: { nodes: { id: string }[]; nextCursor: string | null; hasMore: boolean } }[] };
    const first = (await relation().execute<Page>(LIST, { r: [{ __typename: "User", id: String(me) }] })).data!._entities[0]!.following;
    assert.deepEqual(
      first.nodes.map((n) => Number(n.id)),
      [c, b],
    );
    assert.equal(first.hasMore, true);
    const second = (await relation().execute<Page>(LIST, { r: [{ __typename: "User", id: String(me) }], after: first.nextCursor })).data!
      ._entities[0]!.following;
    assert.deepEqual(
      second.nodes.map((n) => Number(n.id)),
      [a],
    );
    assert.equal(second.hasMore, false);
    const bad = await relation().execute(LIST, { r: [{ __typename: "User", id: String(me) }], after: "not-a-cursor" });
    assert.equal(bad.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    const FRIENDS = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { friends { nodes { user { id } latestMessage { content } } } } } }`;
    const mine = await relation().execute<{ _entities: { friends: { nodes: { user: { id: string } }[] } }[] }>(
      FRIENDS,
      { r: [{ __typename: "User", id: String(me) }] },
      signedIn(me),
    );
    assert.deepEqual(
      mine.data?._entities[0]!.friends.nodes.map((n) => Number(n.user.id)),
      [b],
    );
    const theirs = await relation().execute(FRIENDS, { r: [{ __typename: "User", id: String(me) }] }, signedIn(a));
    assert.equal(theirs.errors?.[0]?.extensions?.code, "FORBIDDEN");
  });

  it("delivers every message of a conversation to pollers exactly once, in order, masked", async () => {
    const [ann, ben] = [await announcedUser(), await announcedUser()];
    const SEND = `mutation ($to: ID!, $c: String!) { sendMessage(toUserId: $to, content: $c) { id createdAt } }`;
    const CHAT = `query ($with: ID!, $after: DateTime) { chat(withUserId: $with, after: $after) { id fromUserId content createdAt } }`;
    type Chat = { chat: { id: string; fromUserId: string; content: string; createdAt: string }[] };
    const seen: Chat["chat"] = [];
    let cursor: string | null = null;
    for (let round = 0; round < 4; round++) {
      // Both write at once: creation times still strictly increase within the conversation.
      await Promise.all([
        relation().execute(SEND, { to: String(ben), c: `ann ${round}` }, signedIn(ann)),
        relation().execute(SEND, { to: String(ann), c: `ben ${round}` }, signedIn(ben)),
      ]);
      const polled: Chat = (await relation().execute<Chat>(CHAT, { with: String(ann), after: cursor }, signedIn(ben))).data!;
      seen.push(...polled.chat);
      cursor = polled.chat.at(-1)?.createdAt ?? cursor;
    }
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen.map((m) => m.id)).size, 8, "no message twice");
    const times = seen.map((m) => Date.parse(m.createdAt));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
      "oldest first",
    );

    const masked = await relation().execute<{ sendMessage: { id: string } }>(SEND, { to: String(ann), c: "no 赌博 here" }, signedIn(ben));
    const last = (await relation().execute<Chat>(CHAT, { with: String(ben), after: cursor }, signedIn(ann))).data!.chat;
    assert.deepEqual(
      last.map((m) => [m.id, m.content]),
      [[masked.data!.sendMessage.id, "no ** here"]],
      "listed words are masked",
    );

    const refused = await relation().execute(SEND, { to: String(ann), c: "" }, signedIn(ben));
    assert.equal(refused.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const toSelf = await relation().execute(SEND, { to: String(ann), c: "hi me" }, signedIn(ann));
    assert.equal(toSelf.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });
});
