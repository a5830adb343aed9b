// The user subgraph on its own schema (fast tier): accounts, logins, sessions and the User
// entity as other subgraphs reference it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { USER_REGISTERED_QUEUE, userRegisteredJobId } from "../../lib/events";
import { SessionStore } from "../../platform/sessions";
import { Viewer } from "../../framework/viewer";
import { startInProcess, type InProcessStack } from "../../test/in-process";

let stack: InProcessStack;
const user = () => stack.subgraph("user");

before(async () => {
  stack = await startInProcess({ subgraphs: ["user"] });
});
after(() => stack.close());

const REGISTER = `mutation ($u: String!, $p: String!) { register(username: $u, password: $p) { token user { id name } } }`;
const LOGIN = `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { token user { id } } }`;

async function register(username: string, password = "secret1") {
  const result = await user().execute<{ register: { token: string; user: { id: string; name: string } } }>(REGISTER, {
    u: username,
    p: password,
  });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data!.register;
}

/** The viewer the gateway would establish from a token (the session store is the gateway's check). */
async function viewerOf(token: string): Promise<Viewer> {
  const check = await new SessionStore(stack.config, stack.platform.kv).check(token);
  return check.ok ? new Viewer({ userId: check.userId, sessionId: check.sessionId }) : new Viewer(null, check.reason);
}

describe("user subgraph", () => {
  it("registers a user, announces it to the other subgraphs, and opens a session", async () => {
    const { token, user: created } = await register("alice");
    assert.equal(created.name, "alice");
    assert.ok(Number(created.id) > 0);
    assert.ok(
      await stack.platform.queues.queue(USER_REGISTERED_QUEUE).has(userRegisteredJobId(Number(created.id))),
      "user-registered event published",
    );
    const me = await user().execute<{ me: { id: string; name: string } }>(`{ me { id name } }`, {}, await viewerOf(token));
    assert.deepEqual(me.data?.me, { id: created.id, name: "alice" });
  });

  it("refuses a taken username, and bad text, with BAD_USER_INPUT", async () => {
    await register("bob");
    const again = await user().execute(REGISTER, { u: "bob", p: "other12" });
    assert.equal(again.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.match(again.errors![0]!.message, /already taken/);
    for (const [u, p] of [
      ["", "pw"],
      ["x".repeat(33), "pw"],
      ["ok", ""],
      ["line\nbreak", "pw"],
    ]) {
      const bad = await user().execute(REGISTER, { u, p });
      assert.equal(bad.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `${JSON.stringify(u)} / ${JSON.stringify(p)}`);
    }
  });

  it("logs in with the right password only, with one message for unknown users and wrong passwords", async () => {
    const { user: carol } = await register("carol", "right-pw");
    const ok = await user().execute<{ login: { token: string; user: { id: string } } }>(LOGIN, { u: "carol", p: "right-pw" });
    assert.equal(ok.data?.login.user.id, carol.id);
    const wrong = await user().execute(LOGIN, { u: "carol", p: "wrong-pw" });
    const unknown = await user().execute(LOGIN, { u: "nobody-here", p: "wrong-pw" });
    assert.equal(wrong.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
    assert.equal(unknown.errors?.[0]?.message, wrong.errors?.[0]?.message);
  });

  it("ends the session on logout, and explains a token that cannot be used", async () => {
    const { token } = await register("dave");
    const viewer = await viewerOf(token);
    assert.equal((await user().execute(`mutation { logout }`, {}, viewer)).data?.logout, true);
    const after = await viewerOf(token);
    assert.equal(after.tokenFailure, "revoked");
    const me = await user().execute(`{ me { id } }`, {}, after);
    assert.equal(me.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
    assert.match(me.errors![0]!.message, /session ended/);
    assert.equal((await user().execute(`{ me { id } }`)).data?.me, null, "no token at all is just nobody");
    assert.equal((await user().execute(`mutation { logout }`)).errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });

  it("looks users up by id, in order, and resolves references from other subgraphs in one batch", async () => {
    const [a, b] = [await register("erin"), await register("frank")];
    const users = await user().execute<{ users: ({ name: string } | null)[] }>(`query ($ids: [ID!]!) { users(ids: $ids) { name } }`, {
      ids: [b.user.id, "999", a.user.id],
    });
    assert.deepEqual(users.data?.users, [{ name: "frank" }, null, { name: "erin" }]);
    assert.equal((await user().execute(`{ user(id: "abc") { id } }`)).errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    // References from other subgraphs: fresh users in one statement, then from memory.
    const [c, d] = [await register("gina"), await register("hugo")];
    const statements = () => stack.metric("db_statements_total", { database: "user" });
    const resolve = () =>
      user().execute<{ _entities: ({ name: string } | null)[] }>(
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { name } } }`,
        {
          r: [
            { __typename: "User", id: c.user.id },
            { __typename: "User", id: d.user.id },
            { __typename: "User", id: "not-an-id" },
          ],
        },
      );
    let before = await statements();
    assert.deepEqual((await resolve()).data?._entities, [{ name: "gina" }, { name: "hugo" }, null]);
    assert.equal((await statements()) - before, 1, "one statement for the whole batch");
    before = await statements();
    assert.deepEqual((await resolve()).data?._entities, [{ name: "gina" }, { name: "hugo" }, null]);
    assert.equal((await statements()) - before, 0, "profiles are cached: none the second time");
  });
});
