// Accounts through both front doors: register, login, user info, sessions and their refusal
// cases, against the real stack (PostgreSQL, Redis, HTTP between every hop).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import jwt from "jsonwebtoken";
import { graphql, legacy, readMetric, settledMetric, subgraphCall, uniqueName } from "./client";
import { createLogger } from "../platform/logger";
import { startRestService } from "../server/stack";
import { stackModes, startStack, type Stack } from "./stack";

const LEGACY_USER_FIELDS = [
  "id",
  "name",
  "follow_count",
  "follower_count",
  "is_follow",
  "avatar",
  "background_image",
  "signature",
  "total_favorited",
  "work_count",
  "favorite_count",
].sort();

const USER_FIELDS = "id name avatar backgroundImage signature workCount favoriteCount totalFavorited followCount followerCount isFollow";

let stack: Stack;

async function registerLegacy(username = uniqueName(), password = "pa55word") {
  const answer = await legacy(stack, "/douyin/user/register/", { username, password }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { username, password, userId: answer.body.user_id as number, token: answer.body.token as string };
}

for (const mode of stackModes(["colocated", "split"])) {
  describe(`${mode} stack`, () => {
    before(async () => {
      stack = await startStack({}, mode);
    });
    after(() => stack?.close());

    describe("legacy REST accounts", () => {
      it("registers, logs in and shows the user with all eleven legacy fields", async () => {
        const { username, password, userId, token } = await registerLegacy();
        assert.ok(Number.isSafeInteger(userId) && userId > 0);
        assert.equal(typeof token, "string");

        const login = await legacy(stack, "/douyin/user/login/", { username, password }, { method: "POST" });
        assert.equal(login.body.status_code, 0);
        assert.equal(login.body.user_id, userId);
        // Ids are plain JSON integers, never strings or floats.
        assert.match(login.text, new RegExp(`"user_id":${userId}[,}]`));

        const info = await legacy(stack, "/douyin/user/", { user_id: userId, token: login.body.token });
        assert.equal(info.body.status_code, 0, info.text);
        assert.deepEqual(Object.keys(info.body.user).sort(), LEGACY_USER_FIELDS);
        assert.deepEqual(info.body.user, {
          id: userId,
          name: username,
          follow_count: 0,
          follower_count: 0,
          is_follow: false,
          avatar: "",
          background_image: "",
          signature: "",
          total_favorited: 0,
          work_count: 0,
          favorite_count: 0,
        });

        // Without user_id the token names the user.
        const me = await legacy(stack, "/douyin/user/", { token });
        assert.equal(me.body.user.id, userId);
      });

      it("reads parameters from the query string, urlencoded bodies and multipart fields", async () => {
        for (const body of ["query", "form", "multipart"] as const) {
          const username = uniqueName(body);
          const answer = await legacy(stack, "/douyin/user/register/", { username, password: "secret" }, { method: "POST", body });
          assert.equal(answer.body.status_code, 0, `${body}: ${answer.text}`);
          const login = await legacy(stack, "/douyin/user/login/", { username, password: "secret" }, { method: "POST", body });
          assert.equal(login.body.user_id, answer.body.user_id, body);
        }
      });

      it("refuses a username that is taken", async () => {
        const { username } = await registerLegacy();
        const again = await legacy(stack, "/douyin/user/register/", { username, password: "other" }, { method: "POST" });
        assert.notEqual(again.body.status_code, 0);
        assert.match(again.body.status_msg, /taken/);
      });

      it("lets exactly one of two concurrent registrations of one name win", async () => {
        const username = uniqueName("race");
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            legacy(stack, "/douyin/user/register/", { username, password: `pw${i}` }, { method: "POST" }),
          ),
        );
        const winners = answers.filter((a) => a.body.status_code === 0);
        assert.equal(winners.length, 1, answers.map((a) => a.text).join("\n"));
        for (const loser of answers.filter((a) => a.body.status_code !== 0)) assert.match(loser.body.status_msg, /taken/);
      });

      it("refuses a wrong password and an unknown user with the same message", async () => {
        const { username } = await registerLegacy();
        const wrong = await legacy(stack, "/douyin/user/login/", { username, password: "nope" }, { method: "POST" });
        const unknown = await legacy(stack, "/douyin/user/login/", { username: uniqueName("ghost"), password: "nope" }, { method: "POST" });
        assert.notEqual(wrong.body.status_code, 0);
        assert.equal(wrong.body.status_msg, "wrong username or password");
        assert.deepEqual(unknown.body, wrong.body);
        assert.equal(wrong.body.token, undefined);
      });

      it("validates usernames and passwords in characters, with clear messages", async () => {
        const cases: [Record<string, string>, RegExp][] = [
          [{ password: "x" }, /username is required/],
          [{ username: uniqueName() }, /password is required/],
          [{ username: "", password: "x" }, /username must not be empty/],
          [{ username: "a".repeat(33), password: "x" }, /username is too long/],
          [{ username: uniqueName(), password: "p".repeat(33) }, /password is too long/],
        ];
        for (const [params, message] of cases) {
          const answer = await legacy(stack, "/douyin/user/register/", params, { method: "POST" });
          assert.equal(answer.httpStatus, 200);
          assert.notEqual(answer.body.status_code, 0);
          assert.match(answer.body.status_msg, message, JSON.stringify(params));
        }
        // 32 CJK characters are 32 characters, not 96 bytes.
        const cjk = `用户${"名".repeat(24)}${Date.now().toString().slice(-6)}`;
        const ok = await legacy(stack, "/douyin/user/register/", { username: cjk, password: "密码" }, { method: "POST" });
        assert.equal(ok.body.status_code, 0, ok.text);
      });

      it("answers bad user ids with a failure envelope", async () => {
        for (const userId of ["abc", "-5", "0", "1.5", "99999999999999999999", "9007199254740993"]) {
          const answer = await legacy(stack, "/douyin/user/", { user_id: userId });
          assert.equal(answer.httpStatus, 200);
          assert.notEqual(answer.body.status_code, 0, userId);
          assert.match(answer.body.status_msg, /user_id/);
        }
        const unknown = await legacy(stack, "/douyin/user/", { user_id: 123456789 });
        assert.notEqual(unknown.body.status_code, 0);
        assert.match(unknown.body.status_msg, /not found/);
      });

      it("refuses missing, forged, tampered, expired and logged-out tokens where a caller is needed", async () => {
        const { userId, token } = await registerLegacy();
        const other = await registerLegacy();
        const { sid } = jwt.decode(token) as { sid: string };
        const secret = stack.config.auth.jwtSecret;
        const options = { issuer: "douyin-supergraph", algorithm: "HS256" as const };
        const forged = jwt.sign({ sid }, "someone-elses-secret-value", { ...options, subject: String(userId) });
        const [header, , signature] = token.split(".");
        const tamperedPayload = Buffer.from(JSON.stringify({ ...(jwt.decode(token) as object), sub: String(other.userId) })).toString(
          "base64url",
        );
        const tampered = `${header}.${tamperedPayload}.${signature}`;
        const expired = jwt.sign({ sid, exp: Math.floor(Date.now() / 1000) - 60 }, secret, { ...options, subject: String(userId) });

        const refusals: [string | undefined, RegExp][] = [
          [undefined, /user_id or a valid token/],
          ["not-a-jwt", /invalid token/],
          [forged, /invalid token/],
          [tampered, /invalid token/],
          [expired, /expired/],
        ];
        for (const [candidate, message] of refusals) {
          const answer = await legacy(stack, "/douyin/user/", candidate ? { token: candidate } : {});
          assert.notEqual(answer.body.status_code, 0, String(candidate));
          assert.match(answer.body.status_msg, message);
          const me = await graphql(stack.graphqlUrl, "{ me { id } }", {}, { token: candidate });
          if (candidate) assert.equal(me.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
          else assert.equal(me.data?.me, null);
        }

        // The session works until logout, then the same token is refused everywhere.
        assert.equal((await legacy(stack, "/douyin/user/", { token })).body.status_code, 0);
        const logout = await graphql(stack.graphqlUrl, "mutation { logout }", {}, { token });
        assert.equal(logout.data?.logout, true);
        const afterLogout = await legacy(stack, "/douyin/user/", { token });
        assert.notEqual(afterLogout.body.status_code, 0);
        assert.match(afterLogout.body.status_msg, /session ended/);
        const again = await graphql(stack.graphqlUrl, "mutation { logout }", {}, { token });
        assert.equal(again.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");

        // On a public route an unusable token is ignored, not an error.
        const publicView = await legacy(stack, "/douyin/user/", { user_id: userId, token: forged });
        assert.equal(publicView.body.status_code, 0);
        assert.equal(publicView.body.user.is_follow, false);
      });

      it("answers an unknown route with the envelope, never a 404 page", async () => {
        const unknown = await legacy(stack, "/douyin/nothing/here/", {});
        assert.notEqual(unknown.body.status_code, 0);
        assert.match(unknown.body.status_msg, /no route/);
      });

      it("answers an oversized query string with the envelope, not a bare 431", async () => {
        const response = await fetch(`${stack.restUrl}/douyin/user/register/?username=${"x".repeat(200_000)}&password=p`, {
          method: "POST",
        });
        assert.notEqual(response.status, 431);
        const body = (await response.json()) as { status_code: number; status_msg: string };
        assert.notEqual(body.status_code, 0);
        // A long value that still fits is judged by the text limits.
        const long = await legacy(stack, "/douyin/user/register/", { username: "y".repeat(5000), password: "p" }, { method: "POST" });
        assert.match(long.body.status_msg, /too long/);
      });

      it("answers malformed bodies with the envelope", async () => {
        const response = await fetch(`${stack.restUrl}/douyin/user/login/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{not json",
        });
        assert.equal(response.status, 200);
        const body = (await response.json()) as { status_code: number };
        assert.notEqual(body.status_code, 0);
        const multipart = await fetch(`${stack.restUrl}/douyin/user/register/`, {
          method: "POST",
          headers: { "content-type": "multipart/form-data; boundary=xx" },
          body: '--xx\r\nContent-Disposition: form-data; name="username"\r\n\r\ncut short',
        });
        assert.equal(multipart.status, 200);
        const multipartBody = (await multipart.json()) as { status_code: number; status_msg: string };
        assert.equal(multipartBody.status_code, 400);
        assert.match(multipartBody.status_msg, /malformed request/);
      });

      it("answers with a retryable envelope when the gateway is down", async () => {
        const orphan = await startRestService(stack.config, createLogger(stack.config, "orphan"), 0, "http://127.0.0.1:9/graphql");
        try {
          const answer = await legacy({ restUrl: orphan.url }, "/douyin/user/", { user_id: 1 });
          assert.equal(answer.httpStatus, 200);
          assert.equal(answer.body.status_code, 503);
          assert.match(answer.body.status_msg, /temporarily unavailable/);
        } finally {
          await orphan.close();
        }
      });
    });

    describe("GraphQL accounts through the gateway", () => {
      it("registers, logs in and reads the user with fields from all three subgraphs", async () => {
        const username = uniqueName("gql");
        const registered = await graphql(
          stack.graphqlUrl,
          `mutation ($u: String!, $p: String!) { register(username: $u, password: $p) { token user { ${USER_FIELDS} } } }`,
          { u: username, p: "pw" },
        );
        assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
        const user = registered.data.register.user;
        assert.equal(user.name, username);
        assert.equal(typeof user.id, "string");
        assert.deepEqual(
          [user.workCount, user.favoriteCount, user.totalFavorited, user.followCount, user.followerCount, user.isFollow],
          [0, 0, 0, 0, 0, false],
        );

        const login = await graphql(
          stack.graphqlUrl,
          `
            mutation ($u: String!, $p: String!) {
              login(username: $u, password: $p) {
                token
                user {
                  id
                }
              }
            }
          `,
          {
            u: username,
            p: "pw",
          },
        );
        assert.equal(login.data.login.user.id, user.id);
        const me = await graphql(stack.graphqlUrl, `{ me { ${USER_FIELDS} } }`, {}, { token: login.data.login.token });
        assert.deepEqual(me.data.me, user);
        const byId = await graphql(
          stack.graphqlUrl,
          `
            query ($id: ID!) {
              user(id: $id) {
                id
                name
              }
            }
          `,
          { id: user.id },
        );
        assert.deepEqual(byId.data.user, { id: user.id, name: username });
        // The REST door sees the same account.
        const rest = await legacy(stack, "/douyin/user/", { user_id: user.id });
        assert.equal(rest.body.user.name, username);
      });

      it("gives errors a code", async () => {
        const wrong = await graphql(
          stack.graphqlUrl,
          `
            mutation {
              login(username: "nobody-at-all", password: "x") {
                token
              }
            }
          `,
        );
        assert.equal(wrong.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
        const bad = await graphql(
          stack.graphqlUrl,
          `
            {
              user(id: "-3") {
                id
              }
            }
          `,
        );
        assert.equal(bad.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
        const missing = await graphql(
          stack.graphqlUrl,
          `
            {
              user(id: "42") {
                id
              }
            }
          `,
        );
        assert.equal(missing.errors, undefined);
        assert.equal(missing.data.user, null);
      });

      it("hides federation internals and refuses queries past the depth and alias limits", async () => {
        const entities = await graphql(
          stack.graphqlUrl,
          `
            {
              _entities(representations: []) {
                __typename
              }
            }
          `,
        );
        assert.equal(entities.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
        const service = await graphql(
          stack.graphqlUrl,
          `
            {
              _service {
                sdl
              }
            }
          `,
        );
        assert.equal(service.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");

        const deep = `{ me { ${"...on User { ".repeat(20)} id ${"}".repeat(20)} } }`;
        const tooDeep = await graphql(stack.graphqlUrl, `query { __typename ${deep.slice(1, -1)} }`);
        assert.ok(
          tooDeep.errors?.some((e) => /depth/i.test(e.message)),
          JSON.stringify(tooDeep.errors),
        );
        const aliases = Array.from({ length: 60 }, (_, i) => `a${i}: me { id }`).join(" ");
        const tooMany = await graphql(stack.graphqlUrl, `{ ${aliases} }`);
        assert.ok(
          tooMany.errors?.some((e) => /alias/i.test(e.message)),
          JSON.stringify(tooMany.errors),
        );
        // The gateway is still serving.
        assert.equal((await graphql(stack.graphqlUrl, "{ __typename }")).data.__typename, "Query");
      });

      it("resolves 30 user references in one batch per subgraph, and from the caches the next time", async () => {
        const users = await Promise.all(Array.from({ length: 30 }, () => registerLegacy(uniqueName("batch"))));
        const names = ["user", "video", "relation"] as const;
        const statements = () =>
          Promise.all(names.map((name) => readMetric(stack.metricsUrl(name), "db_statements_total", { database: name })));
        // Registration events are still being consumed in the background; let them finish first.
        await Promise.all(names.map((name) => settledMetric(stack.metricsUrl(name), "db_statements_total", { database: name })));
        const lookUp = async () => {
          const statementsBefore = await statements();
          const fetchesBefore = await readMetric(stack.metricsUrl("gateway"), "subgraph_fetches_total");
          const answer = await graphql(
            stack.graphqlUrl,
            `
              query ($ids: [ID!]!) {
                users(ids: $ids) {
                  id
                  name
                  workCount
                  totalFavorited
                  followCount
                  isFollow
                }
              }
            `,
            { ids: users.map((u) => String(u.userId)) },
            { token: users[0]!.token },
          );
          assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
          assert.deepEqual(
            answer.data.users.map((u: { id: string }) => u.id),
            users.map((u) => String(u.userId)),
          );
          assert.equal(
            (await readMetric(stack.metricsUrl("gateway"), "subgraph_fetches_total")) - fetchesBefore,
            3,
            "one fetch per subgraph",
          );
          return (await statements()).map((count, i) => count - statementsBefore[i]!);
        };
        // The first time: one statement per kind of thing asked (the relation subgraph also reads
        // whom the caller follows), never one per user.
        const cold = await lookUp();
        assert.ok(
          cold.every((count) => count >= 1 && count <= 2),
          `statements per subgraph: ${cold}`,
        );
        assert.deepEqual(await lookUp(), [0, 0, 0], "the second time, all from the caches");

        if (stack.mode === "colocated") return;
        // The entity entry point each subgraph offers the gateway, for users it has not cached.
        const others = await Promise.all(Array.from({ length: 30 }, () => registerLegacy(uniqueName("entity"))));
        const representations = others.map((u) => ({ __typename: "User", id: String(u.userId) }));
        for (const [name, field] of [
          ["video", "workCount"],
          ["relation", "followCount"],
        ] as const) {
          const before = await settledMetric(stack.metricsUrl(name), "db_statements_total");
          const entities = await subgraphCall(
            stack,
            stack.subgraphUrls[name]!,
            `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id ${field} } } }`,
            { r: representations },
          );
          assert.equal(entities.data._entities.length, 30);
          assert.equal((await readMetric(stack.metricsUrl(name), "db_statements_total")) - before, 1, name);
        }
      });

      it(
        "subgraphs refuse requests without the internal secret",
        { skip: mode === "colocated" && "co-located subgraphs have no port" },
        async () => {
          for (const url of Object.values(stack.subgraphUrls)) {
            const answer = await graphql(url, "{ __typename }");
            assert.equal(answer.httpStatus, 403);
            assert.equal(answer.data, undefined);
            const wrongSecret = await graphql(url, "{ __typename }", {}, { headers: { "x-internal-secret": "guess-guess-guess" } });
            assert.equal(wrongSecret.httpStatus, 403);
          }
          // And a forged caller header is worthless without the secret.
          const forgedViewer = await graphql(
            stack.subgraphUrls.user!,
            "{ me { id } }",
            {},
            { headers: { "x-viewer-id": "1", "x-session-id": "s" } },
          );
          assert.equal(forgedViewer.httpStatus, 403);
        },
      );

      it(
        "subgraphs refuse a forged viewer with the old public development secret, or with the edge secret",
        { skip: mode === "colocated" && "co-located subgraphs have no port" },
        async () => {
          const viewer = { "x-viewer-id": "1", "x-session-id": "s" };
          const edgeSecret = stack.config.auth.edgeSecret;
          const secrets: Record<string, string>[] = [
            // The constant every checkout shared until the secrets became random per start.
            { "x-internal-secret": "development-only-internal-secret" },
            // The edge secret lets an edge name the client's address to the gateway, nothing more.
            { "x-edge-secret": edgeSecret },
            { "x-internal-secret": edgeSecret },
          ];
          for (const secret of secrets) {
            const forged = await graphql(stack.subgraphUrls.user!, "{ me { id } }", {}, { headers: { ...secret, ...viewer } });
            assert.equal(forged.httpStatus, 403, JSON.stringify(secret));
            assert.equal(forged.data, undefined);
          }
          // While the internal secret names a viewer (who, without a session, is nobody signed in).
          const gateway = await subgraphCall(stack, stack.subgraphUrls.user!, "{ __typename }");
          assert.equal(gateway.httpStatus, 200);
        },
      );

      it("serves Apollo Sandbox on GET /graphql outside production", async () => {
        const response = await fetch(stack.graphqlUrl, { headers: { accept: "text/html" } });
        assert.equal(response.status, 200);
        assert.match(await response.text(), /sandbox/i);
      });
    });
  });
}
