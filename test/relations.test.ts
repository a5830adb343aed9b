// Follows through both front doors: actions, lists, isFollow, exact counters under a storm,
// and the refusals (yourself, unknown users, bad parameters).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, graphql, legacy, uniqueName } from "./client";
import { startStack, type Stack } from "./stack";

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
    assert.deepEqual(following.body.user_list.map((u: { id: number }) => u.id), [bob.userId]);
    assert.equal(following.body.user_list[0].is_follow, true);
    const followers = await legacy(stack, "/douyin/relation/follower/list/", { user_id: bob.userId });
    assert.deepEqual(followers.body.user_list.map((u: { id: number }) => u.id), [alice.userId]);
    assert.equal((await userInfo(bob.userId, alice.token)).is_follow, true);
    assert.equal((await userInfo(bob.userId, bob.token)).is_follow, false);

    await eventually(async () => (await userInfo(bob.userId)).follower_count === 1 && (await userInfo(alice.userId)).follow_count === 1, "counters");
  });

  it("keeps state and counters exact when actions repeat, and unfollows cleanly", async () => {
    const alice = await register();
    const bob = await register();
    for (let i = 0; i < 3; i++) assert.equal((await act(alice.token, bob.userId, 1)).body.status_code, 0);
    await eventually(async () => (await userInfo(bob.userId)).follower_count === 1, "one follower");
    for (let i = 0; i < 3; i++) assert.equal((await act(alice.token, bob.userId, 2)).body.status_code, 0);
    const following = await legacy(stack, "/douyin/relation/follow/list/", { user_id: alice.userId });
    assert.deepEqual(following.body.user_list, []);
    await eventually(async () => (await userInfo(bob.userId)).follower_count === 0 && (await userInfo(alice.userId)).follow_count === 0, "zero");
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
    await Promise.all(
      fans.flatMap((fan) => Array.from({ length: 6 }, () => act(fan.token, target.userId, Math.random() < 0.5 ? 1 : 2))),
    );
    const followers = await legacy(stack, "/douyin/relation/follower/list/", { user_id: target.userId });
    const rows = followers.body.user_list.length;
    await eventually(async () => (await userInfo(target.userId)).follower_count === rows, `follower_count to equal ${rows}`);
    for (const fan of fans) {
      const follows = (await legacy(stack, "/douyin/relation/follow/list/", { user_id: fan.userId })).body.user_list.length;
      assert.equal((await userInfo(fan.userId)).follow_count, follows);
    }
  });
});

describe("follows over GraphQL", () => {
  it("follows, pages following/followers with a cursor, and unfollows", async () => {
    const fan = await register();
    const idols = await Promise.all(Array.from({ length: 5 }, () => register()));
    for (const idol of idols) {
      const answer = await graphql(stack.graphqlUrl, `mutation ($id: ID!) { follow(userId: $id) { id name isFollow } }`, { id: String(idol.userId) }, { token: fan.token });
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      assert.equal(answer.data.follow.isFollow, true);
    }
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await graphql(
        stack.graphqlUrl,
        `query ($id: ID!, $after: String) { user(id: $id) { following(first: 2, after: $after) { nodes { id name } nextCursor hasMore } } }`,
        { id: String(fan.userId), after },
      );
      assert.equal(page.errors, undefined, JSON.stringify(page.errors));
      seen.push(...page.data.user.following.nodes.map((n: { id: string }) => n.id));
      after = page.data.user.following.nextCursor;
    } while (after);
    assert.deepEqual(seen, idols.map((i) => String(i.userId)).reverse(), "most recent first, each once");

    const followers = await graphql(stack.graphqlUrl, `query ($id: ID!) { user(id: $id) { followers { nodes { id } } } }`, { id: String(idols[0]!.userId) });
    assert.deepEqual(followers.data.user.followers.nodes, [{ id: String(fan.userId) }]);
    const unfollow = await graphql(stack.graphqlUrl, `mutation ($id: ID!) { unfollow(userId: $id) { isFollow } }`, { id: String(idols[0]!.userId) }, { token: fan.token });
    assert.equal(unfollow.data.unfollow.isFollow, false);
    const self = await graphql(stack.graphqlUrl, `mutation ($id: ID!) { follow(userId: $id) { id } }`, { id: String(fan.userId) }, { token: fan.token });
    assert.equal(self.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const anonymous = await graphql(stack.graphqlUrl, `mutation ($id: ID!) { follow(userId: $id) { id } }`, { id: String(fan.userId) });
    assert.equal(anonymous.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });
});
