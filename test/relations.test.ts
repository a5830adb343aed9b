// Follows through both front doors: actions, lists, isFollow, exact counters under a storm,
// and the refusals (yourself, unknown users, bad parameters).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, graphql, legacy, readMetric, settledMetric, uniqueName } from "./client";
import { reconcile } from "../scripts/reconcile";
import { blockCounters, deleteRedisKeys, dropCached, pendingCounterChanges, startStack, withDatabase, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

async function register() {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName("r"), password: "pw" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

const act = (token: string, toUserId: number | string, actionType: number | string) =>
  legacy(stack, "/douyin/relation/action/", { token, to_user_id: toUserId, action_type: actionType }, { method: "POST" });

async function userInfo(userId: number, token?: string) {
  return (await legacy(stack, "/douyin/user/", token ? { user_id: userId, token } : { user_id: userId })).body.user;
}

describe("follows over REST", () => {
  it("follows a user registered a moment ago, shows it in both lists and in is_follow, and counts it", async () => {
    const alice = await register();
    const bob = await register();
    assert.deepEqual((await act(alice.token, bob.userId, 1)).body, { status_code: 0, status_msg: "success" });

    const following = await legacy(stack, "/douyin/relation/follow/list/", { user_id: alice.userId, token: alice.token });
    assert.equal(following.body.status_code, 0, following.text);
    assert.deepEqual(
      following.body.user_list.map((u: { id: number }) => u.id),
      [bob.userId],
    );
    assert.equal(following.body.user_list[0].is_follow, true);
    const followers = await legacy(stack, "/douyin/relation/follower/list/", { user_id: bob.userId });
    assert.deepEqual(
      followers.body.user_list.map((u: { id: number }) => u.id),
      [alice.userId],
    );
    assert.equal((await userInfo(bob.userId, alice.token)).is_follow, true);
    assert.equal((await userInfo(bob.userId, bob.token)).is_follow, false);

    await eventually(
      async () => (await userInfo(bob.userId)).follower_count === 1 && (await userInfo(alice.userId)).follow_count === 1,
      "counters",
    );
  });

  it("keeps state and counters exact when actions repeat, and unfollows cleanly", async () => {
    const alice = await register();
    const bob = await register();
    for (let i = 0; i < 3; i++) assert.equal((await act(alice.token, bob.userId, 1)).body.status_code, 0);
    await eventually(async () => (await userInfo(bob.userId)).follower_count === 1, "one follower");
    for (let i = 0; i < 3; i++) assert.equal((await act(alice.token, bob.userId, 2)).body.status_code, 0);
    const following = await legacy(stack, "/douyin/relation/follow/list/", { user_id: alice.userId });
    assert.deepEqual(following.body.user_list, []);
    await eventually(
      async () => (await userInfo(bob.userId)).follower_count === 0 && (await userInfo(alice.userId)).follow_count === 0,
      "zero",
    );
  });

  it("refuses following yourself, unknown users, bad parameters and a missing token", async () => {
    const alice = await register();
    const self = await act(alice.token, alice.userId, 1);
    assert.notEqual(self.body.status_code, 0);
    assert.match(self.body.status_msg, /yourself/);
    const unknown = await act(alice.token, 4242424242, 1);
    assert.equal(unknown.body.status_code, 404);
    assert.match((await act(alice.token, "abc", 1)).body.status_msg, /to_user_id/);
    assert.match((await act(alice.token, 5, 3)).body.status_msg, /action_type must be 1 \(follow\) or 2 \(unfollow\)/);
    assert.match((await act(alice.token, 5, "")).body.status_msg, /action_type is required/);
    assert.equal((await act("", 5, 1)).body.status_code, 401);
    const following = await legacy(stack, "/douyin/relation/follow/list/", { user_id: alice.userId });
    assert.deepEqual(following.body.user_list, [], "nothing was written");
    assert.notEqual((await legacy(stack, "/douyin/relation/follow/list/", { user_id: 987654321 })).body.status_code, 0);
  });

  it("ends a concurrent follow/unfollow storm with counters equal to the rows", async () => {
    const target = await register();
    const fans = await Promise.all(Array.from({ length: 12 }, () => register()));
    await Promise.all(fans.flatMap((fan) => Array.from({ length: 6 }, () => act(fan.token, target.userId, Math.random() < 0.5 ? 1 : 2))));
    const followers = await legacy(stack, "/douyin/relation/follower/list/", { user_id: target.userId });
    const rows = followers.body.user_list.length;
    await eventually(async () => (await userInfo(target.userId)).follower_count === rows, `follower_count to equal ${rows}`);
    for (const fan of fans) {
      const follows = (await legacy(stack, "/douyin/relation/follow/list/", { user_id: fan.userId })).body.user_list.length;
      await eventually(async () => (await userInfo(fan.userId)).follow_count === follows, `a fan's follow_count to equal ${follows}`);
    }
  });
});

describe("follows over GraphQL", () => {
  it("follows, pages following/followers with a cursor, and unfollows", async () => {
    const fan = await register();
    const idols = await Promise.all(Array.from({ length: 5 }, () => register()));
    for (const idol of idols) {
      const answer = await graphql(
        stack.graphqlUrl,
        `
          mutation ($id: ID!) {
            follow(userId: $id) {
              id
              name
              isFollow
            }
          }
        `,
        { id: String(idol.userId) },
        { token: fan.token },
      );
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      assert.equal(answer.data.follow.isFollow, true);
    }
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await graphql(
        stack.graphqlUrl,
        `
          query ($id: ID!, $after: String) {
            user(id: $id) {
              following(first: 2, after: $after) {
                nodes {
                  id
                  name
                }
                nextCursor
                hasMore
              }
            }
          }
        `,
        { id: String(fan.userId), after },
      );
      assert.equal(page.errors, undefined, JSON.stringify(page.errors));
      seen.push(...page.data.user.following.nodes.map((n: { id: string }) => n.id));
      after = page.data.user.following.nextCursor;
    } while (after);
    assert.deepEqual(seen, idols.map((i) => String(i.userId)).reverse(), "most recent first, each once");

    const followers = await graphql(
      stack.graphqlUrl,
      `
        query ($id: ID!) {
          user(id: $id) {
            followers {
              nodes {
                id
              }
            }
          }
        }
      `,
      { id: String(idols[0]!.userId) },
    );
    assert.deepEqual(followers.data.user.followers.nodes, [{ id: String(fan.userId) }]);
    const unfollow = await graphql(
      stack.graphqlUrl,
      `
        mutation ($id: ID!) {
          unfollow(userId: $id) {
            isFollow
          }
        }
      `,
      { id: String(idols[0]!.userId) },
      { token: fan.token },
    );
    assert.equal(unfollow.data.unfollow.isFollow, false);
    const self = await graphql(
      stack.graphqlUrl,
      `
        mutation ($id: ID!) {
          follow(userId: $id) {
            id
          }
        }
      `,
      { id: String(fan.userId) },
      { token: fan.token },
    );
    assert.equal(self.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const anonymous = await graphql(
      stack.graphqlUrl,
      `
        mutation ($id: ID!) {
          follow(userId: $id) {
            id
          }
        }
      `,
      { id: String(fan.userId) },
    );
    assert.equal(anonymous.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });
});

describe("friends and messages", () => {
  const send = (token: string, to: number, content: string) =>
    legacy(stack, "/douyin/message/action/", { token, to_user_id: to, action_type: 1, content }, { method: "POST", body: "form" });
  const chat = (token: string, to: number, preMsgTime?: number) =>
    legacy(
      stack,
      "/douyin/message/chat/",
      preMsgTime === undefined ? { token, to_user_id: to } : { token, to_user_id: to, pre_msg_time: preMsgTime },
    );
  const friends = (token: string) => legacy(stack, "/douyin/relation/friend/list/", { token });

  it("lists friends only while both follow, with the latest message and who sent it", async () => {
    const ann = await register();
    const ben = await register();
    await act(ann.token, ben.userId, 1);
    assert.deepEqual((await friends(ann.token)).body.user_list, [], "one-way follow is no friendship");
    await act(ben.token, ann.userId, 1);
    const list = (await friends(ann.token)).body.user_list;
    assert.equal(list.length, 1);
    assert.equal(list[0].id, ben.userId);
    assert.equal(list[0].message, "");
    assert.equal(list[0].is_follow, true);

    assert.equal((await send(ann.token, ben.userId, "hi ben")).body.status_code, 0);
    let friend = (await friends(ann.token)).body.user_list[0];
    assert.deepEqual([friend.message, friend.msgType], ["hi ben", 1]);
    assert.equal((await send(ben.token, ann.userId, "hello ann")).body.status_code, 0);
    friend = (await friends(ann.token)).body.user_list[0];
    assert.deepEqual([friend.message, friend.msgType], ["hello ann", 0]);

    const viaGraphQL = await graphql(
      stack.graphqlUrl,
      `
        {
          me {
            friends {
              nodes {
                user {
                  id
                  name
                }
                latestMessage {
                  content
                  fromUserId
                }
              }
            }
          }
        }
      `,
      {},
      { token: ben.token },
    );
    assert.equal(viaGraphQL.data.me.friends.nodes[0].user.id, String(ann.userId));
    assert.equal(viaGraphQL.data.me.friends.nodes[0].latestMessage.fromUserId, String(ben.userId));
    const someoneElses = await legacy(stack, "/douyin/relation/friend/list/", { token: ben.token, user_id: ann.userId });
    assert.equal(someoneElses.body.status_code, 403);

    await act(ben.token, ann.userId, 2);
    assert.deepEqual((await friends(ann.token)).body.user_list, [], "gone after an unfollow");
  });

  it("returns each message exactly once when polling with pre_msg_time, also across a Redis flush", async () => {
    const ann = await register();
    const ben = await register();
    const received: { id: number; content: string; create_time: number; from_user_id: number }[] = [];
    let cursor: number | undefined;
    const poll = async () => {
      const answer = await chat(ann.token, ben.userId, cursor);
      assert.equal(answer.body.status_code, 0, answer.text);
      for (const m of answer.body.message_list) received.push(m);
      if (answer.body.message_list.length > 0) cursor = answer.body.message_list.at(-1).create_time;
    };
    const sent: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3; i++) {
        const [from, to] = (round + i) % 2 === 0 ? [ann, ben] : [ben, ann];
        const content = `round ${round} message ${i}`;
        assert.equal((await send(from.token, to.userId, content)).body.status_code, 0);
        sent.push(content);
      }
      if (round === 3) await deleteChatCache();
      await poll();
    }
    await poll();
    assert.deepEqual(
      received.map((m) => m.content),
      sent,
      "every message once, oldest first",
    );
    // A full read fills the conversation's cache; polls after it are answered from Redis alone.
    await chat(ann.token, ben.userId);
    const before = await settledMetric(stack.metricsUrl("relation"), "db_statements_total", { database: "relation" });
    assert.deepEqual((await chat(ann.token, ben.userId, cursor)).body.message_list, []);
    assert.equal(
      (await readMetric(stack.metricsUrl("relation"), "db_statements_total", { database: "relation" })) - before,
      0,
      "a poll costs no SQL",
    );
    assert.equal(new Set(received.map((m) => m.id)).size, sent.length);
    for (let i = 1; i < received.length; i++) assert.ok(received[i]!.create_time > received[i - 1]!.create_time);
    assert.ok(
      received.every((m) => m.create_time > 1e12),
      "create_time in milliseconds",
    );
    // Both directions, seen from the other side too.
    const all = await chat(ben.token, ann.userId);
    assert.deepEqual(
      all.body.message_list.map((m: { content: string }) => m.content),
      sent,
    );
    const graph = await graphql(
      stack.graphqlUrl,
      `
        query ($id: ID!, $after: DateTime) {
          chat(withUserId: $id, after: $after) {
            content
            createdAt
          }
        }
      `,
      {
        id: String(ben.userId),
        after: new Date(received[9]!.create_time).toISOString(),
      },
      { token: ann.token },
    );
    assert.deepEqual(
      graph.data.chat.map((m: { content: string }) => m.content),
      sent.slice(10),
    );
  });

  it("refuses empty, oversized and self-addressed messages and unknown users; masks sensitive words", async () => {
    const ann = await register();
    const ben = await register();
    assert.match((await send(ann.token, ben.userId, "")).body.status_msg, /content/);
    assert.match((await send(ann.token, ben.userId, "长".repeat(1001))).body.status_msg, /content is too long/);
    assert.match((await send(ann.token, ann.userId, "me")).body.status_msg, /yourself/);
    assert.equal((await send(ann.token, 4242424242, "anyone?")).body.status_code, 404);
    assert.match(
      (
        await legacy(
          stack,
          "/douyin/message/action/",
          { token: ann.token, to_user_id: ben.userId, action_type: 2, content: "x" },
          { method: "POST", body: "form" },
        )
      ).body.status_msg,
      /action_type/,
    );
    assert.equal((await chat("", ben.userId)).body.status_code, 401);
    assert.match((await chat(ann.token, ben.userId, "soon" as unknown as number)).body.status_msg, /pre_msg_time/);
    assert.equal((await send(ann.token, ben.userId, "别赌博")).body.status_code, 0);
    assert.deepEqual(
      (await chat(ben.token, ann.userId)).body.message_list.map((m: { content: string }) => m.content),
      ["别**"],
    );
    const viaGraphQL = await graphql(
      stack.graphqlUrl,
      `
        mutation ($to: ID!) {
          sendMessage(toUserId: $to, content: "ok") {
            fromUserId
            toUserId
            content
            createdAt
          }
        }
      `,
      { to: String(ben.userId) },
      { token: ann.token },
    );
    assert.deepEqual(
      { ...viaGraphQL.data.sendMessage, createdAt: undefined },
      { fromUserId: String(ann.userId), toUserId: String(ben.userId), content: "ok", createdAt: undefined },
    );
  });
});

const deleteChatCache = () => deleteRedisKeys(`${stack.config.redis.prefix}:chat`);

describe("npm run reconcile", () => {
  it("recomputes counters from the rows and reports what it fixed", async () => {
    const ann = await register();
    const ben = await register();
    await act(ann.token, ben.userId, 1);
    await eventually(async () => (await userInfo(ben.userId)).follower_count === 1, "the follow to be counted");
    const corrupt = (database: "relation" | "video", sql: string, params: unknown[]) =>
      withDatabase(stack, database, (client) => client.query(sql, params));
    await corrupt("relation", "UPDATE user_stats SET follower_count = 7 WHERE user_id = $1", [ben.userId]);
    await corrupt("relation", "INSERT INTO user_stats (user_id, follow_count) VALUES ($1, 3)", [987654321]);
    await corrupt("video", "INSERT INTO user_stats (user_id, work_count) VALUES ($1, 5)", [ann.userId]);
    // The stack caches counters; rows changed behind its back are only seen once it forgets them.
    await dropCached(stack, "relation:follow-counters", [ben.userId]);
    await dropCached(stack, "video:user-counters", [ann.userId]);
    assert.equal((await userInfo(ben.userId)).follower_count, 7);

    assert.deepEqual(await reconcile(stack.config), { workCount: 1, videoCounts: 0, likeCounts: 0, followCounts: 2 });
    assert.equal((await userInfo(ben.userId)).follower_count, 1);
    assert.equal((await userInfo(ann.userId)).work_count, 0);
    assert.deepEqual(
      await reconcile(stack.config),
      { workCount: 0, videoCounts: 0, likeCounts: 0, followCounts: 0 },
      "nothing left to fix",
    );
  });
});

describe("follow counters", () => {
  it("apply nothing of a drain that fails, and every change once when drains succeed again", async () => {
    const [ann, ben, cat] = [await register(), await register(), await register()];
    const unblock = await blockCounters(stack, "relation");
    try {
      await act(ben.token, ann.userId, 1);
      await act(cat.token, ann.userId, 1);
      await act(cat.token, ann.userId, 2);
      await act(cat.token, ann.userId, 1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(await pendingCounterChanges(stack, "relation"), 4, "the changes wait, counted nowhere yet");
      assert.equal((await userInfo(ann.userId)).follower_count, 0);
    } finally {
      await unblock();
    }
    await eventually(async () => (await pendingCounterChanges(stack, "relation")) === 0, "the outbox to drain");
    await eventually(async () => (await userInfo(ann.userId)).follower_count === 2, "follower_count 2");
    assert.equal((await userInfo(cat.userId)).follow_count, 1, "each change applied once");
  });
});
