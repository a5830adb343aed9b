// Who may send a file, checked before a byte of it reaches the disk: a publish without a live
// session is refused before its file is read, whatever size it claims, and the refusal is an
// answer the client reads (a little of the rest is drained, then the connection closed), never
// a reset. Uploads each caller may have in flight at once are bounded per user and per address.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { graphql, registerUser } from "./client";
import { postMultipart, postMultipartApart, type FileSource, type Part } from "./multipart-client";
import { makeVideo, removeMedia } from "./media";
import { startStack, type Stack } from "./stack";

const MIB = 1024 * 1024;
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-admission-spool-"));

let stack: Stack;
/** Every upload-* file ever created in the spool folder (inotify sees even short-lived ones), and those since `spooled.clear()`. */
const everSpooled = new Set<string>();
const spooled = new Set<string>();
let watcher: fs.FSWatcher;

before(async () => {
  // A name's first event is its creation; later ones (its removal) are not new files.
  watcher = fs.watch(spoolDir, (_event, name) => {
    if (!name?.startsWith("upload-") || everSpooled.has(name)) return;
    everSpooled.add(name);
    spooled.add(name);
  });
  stack = await startStack({ MEDIA_TMP_DIR: spoolDir, CONCURRENT_UPLOADS_PER_USER: "2", CONCURRENT_UPLOADS_PER_ADDRESS: "3" });
});
after(async () => {
  watcher?.close();
  await stack?.close();
  fs.rmSync(spoolDir, { recursive: true, force: true });
  removeMedia();
});

const publishUrl = (query = "") => `${stack.restUrl}/douyin/publish/action/${query}`;

/** The legacy publish as the app sends it: token (when given), title, then the file. */
const legacyParts = (file: FileSource, token?: string): Part[] => [
  ...(token === undefined ? [] : [{ name: "token", value: token }]),
  { name: "title", value: "a clip" },
  { name: "data", file },
];

/** publishVideo per the GraphQL multipart request spec. */
function graphqlParts(file: FileSource): Part[] {
  const query = "mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id } }";
  return [
    { name: "operations", value: JSON.stringify({ query, variables: { file: null, title: "a clip" } }) },
    { name: "map", value: JSON.stringify({ 0: ["variables.file"] }) },
    { name: "0", file },
  ];
}

const gatewayHeaders = (token?: string) => ({
  "apollo-require-preflight": "true",
  ...(token && { authorization: `Bearer ${token}` }),
});

/** A token whose session has ended (logged out): well signed, unexpired, and no longer valid. */
async function loggedOutToken(): Promise<string> {
  const { token } = await registerUser(stack, "gone");
  const answer = await graphql(stack.graphqlUrl, "mutation { logout }", {}, { token });
  assert.equal(answer.data?.logout, true, JSON.stringify(answer.errors));
  return token;
}

/** A gate a held upload waits at, and how to open it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends a refused request `rounds` times from a client of its own; every answer, and no failure. */
async function refusedEveryTime(label: string, url: string, parts: Part[], headers: Record<string, string>, rounds: number) {
  const outcomes = await postMultipartApart(url, parts, headers, rounds);
  const failures = outcomes.flatMap((outcome) => outcome.failure ?? []);
  assert.deepEqual(failures, [], `${label}: ${failures.length} of ${rounds} rounds ended without an answer`);
  return outcomes.map((outcome) => ({ status: outcome.status!, body: outcome.body! }));
}

describe("a legacy publish without a live session", () => {
  it("refuses an anonymous 40 MB upload with the envelope before any of it is written, readable every time", async () => {
    spooled.clear();
    const started = Date.now();
    const answers = await refusedEveryTime("anonymous", publishUrl(), legacyParts({ zeros: 40 * MIB }), {}, 10);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status_code, 401, JSON.stringify(answer.body));
      assert.match(answer.body.status_msg, /token is required/);
    }
    assert.deepEqual([...spooled], [], "no upload file was created");
    // Answered from the first bytes, not after reading 400 MB (generous: the machine is shared).
    assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
    const one = await postMultipart(publishUrl(), legacyParts({ zeros: 40 * MIB }));
    assert.equal(one.headers.get("connection"), "close");
  });

  it("refuses forged, logged-out and late tokens the same way, never resetting the connection", async () => {
    const cases: [string, Part[], RegExp][] = [
      ["a forged token", legacyParts({ zeros: 8 * MIB }, "not.a.token"), /invalid token/],
      ["a logged-out token", legacyParts({ zeros: 8 * MIB }, await loggedOutToken()), /session ended/],
      [
        "a token after the file",
        [...legacyParts({ zeros: 8 * MIB }), { name: "token", value: (await registerUser(stack, "late")).token }],
        /token is required/,
      ],
    ];
    spooled.clear();
    for (const [label, parts, message] of cases) {
      for (const answer of await refusedEveryTime(label, publishUrl(), parts, {}, 5)) {
        assert.equal(answer.body.status_code, 401, `${label}: ${JSON.stringify(answer.body)}`);
        assert.match(answer.body.status_msg, message, label);
      }
    }
    assert.deepEqual([...spooled], [], "no upload file was created");
  });

  it("publishes with the token in the query string", async () => {
    const { token } = await registerUser(stack, "query");
    const answer = await postMultipart(publishUrl(`?token=${encodeURIComponent(token)}`), legacyParts({ path: makeVideo("query.mp4") }));
    assert.deepEqual(answer.body, { status_code: 0, status_msg: "success" });
  });
});

describe("an anonymous GraphQL publishVideo", () => {
  it("is answered UNAUTHENTICATED, readable every time, and never spooled", async () => {
    spooled.clear();
    for (const answer of await refusedEveryTime("anonymous", stack.graphqlUrl, graphqlParts({ zeros: 8 * MIB }), gatewayHeaders(), 20)) {
      assert.equal(answer.status, 401);
      assert.equal(answer.body.errors?.[0]?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(answer.body));
    }
    assert.deepEqual([...spooled], [], "no upload file was created");
  });
});

describe("uploads in flight at once", () => {
  it("refuses a user's third upload and an address's fourth while the others go through", async () => {
    const [first, second, third] = await Promise.all([
      registerUser(stack, "busy"),
      registerUser(stack, "also"),
      registerUser(stack, "more"),
    ]);
    const held = gate();
    const video = (name: string, width: number) => ({ path: makeVideo(name, { width }), hold: held.opened });
    spooled.clear();
    // The first user's two uploads and the second user's one: three from this address.
    const holding = [
      postMultipart(publishUrl(), legacyParts(video("held-1.mp4", 320), first.token)),
      postMultipart(publishUrl(), legacyParts(video("held-2.mp4", 322), first.token)),
      postMultipart(publishUrl(), legacyParts(video("held-3.mp4", 324), second.token)),
    ];
    try {
      await waitFor(() => spooled.size === 3, "the three uploads to be spooling");
      const overUser = await postMultipart(publishUrl(), legacyParts({ path: makeVideo("over-user.mp4", { width: 326 }) }, first.token));
      assert.equal(overUser.body.status_code, 429, JSON.stringify(overUser.body));
      assert.match(overUser.body.status_msg, /uploads at once for this user/);
      assert.equal(typeof overUser.body.retry_after, "number");
      assert.equal(overUser.headers.get("retry-after"), String(overUser.body.retry_after));
      const overAddress = await postMultipart(
        publishUrl(),
        legacyParts({ path: makeVideo("over-address.mp4", { width: 328 }) }, third.token),
      );
      assert.equal(overAddress.body.status_code, 429, JSON.stringify(overAddress.body));
      assert.match(overAddress.body.status_msg, /uploads at once from this address/);
      assert.equal(spooled.size, 3, "the refused uploads were not spooled");
    } finally {
      held.open();
    }
    for (const answer of await Promise.all(holding)) assert.deepEqual(answer.body, { status_code: 0, status_msg: "success" });
    // Their slots are free again.
    const later = await postMultipart(publishUrl(), legacyParts({ path: makeVideo("later.mp4", { width: 330 }) }, first.token));
    assert.deepEqual(later.body, { status_code: 0, status_msg: "success" });
  });

  it("bounds GraphQL uploads per user the same way", async () => {
    const { token } = await registerUser(stack, "gql");
    const held = gate();
    spooled.clear();
    const holding = [332, 334].map((width) =>
      postMultipart(
        stack.graphqlUrl,
        graphqlParts({ path: makeVideo(`gql-${width}.mp4`, { width }), hold: held.opened }),
        gatewayHeaders(token),
      ),
    );
    try {
      await waitFor(() => spooled.size === 2, "the two uploads to be spooling");
      const over = await postMultipart(
        stack.graphqlUrl,
        graphqlParts({ path: makeVideo("gql-over.mp4", { width: 336 }) }),
        gatewayHeaders(token),
      );
      assert.equal(over.status, 429);
      assert.equal(over.body.errors?.[0]?.extensions?.code, "RATE_LIMITED", JSON.stringify(over.body));
      assert.match(over.body.errors[0].message, /uploads at once for this user/);
      assert.ok(Number(over.headers.get("retry-after")) >= 1);
    } finally {
      held.open();
    }
    for (const answer of await Promise.all(holding)) assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body));
  });
});
