// Every answer of the three public ports (gateway, REST adapter, embedded storage) carries the
// security headers, a refusal or an error as much as a success; the web client gets a CSP that
// allows only itself and the media origin, and Apollo Sandbox's page (outside production) none.
// test/web/browser.test.ts checks that the web client works under that CSP in Chromium.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let gatewayUrl: string;

before(async () => {
  stack = await startStack();
  gatewayUrl = new URL("/", stack.graphqlUrl).toString();
});
after(async () => {
  await stack?.close();
});

interface Answer {
  status: number;
  headers: Headers;
}

async function ask(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return { status: response.status, headers: response.headers };
}

/** A request line longer than the REST adapter reads: Node refuses it before any route runs. */
function oversizedRequest(baseUrl: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET /douyin/feed/?latest_time=${"1".repeat(stack.config.limits.requestUrlBytes + 10)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

function assertCommon(answer: Answer, what: string): void {
  assert.equal(answer.headers.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
  assert.equal(answer.headers.get("referrer-policy"), "no-referrer", `${what}: Referrer-Policy`);
}

const directives = (csp: string | null) =>
  new Map(
    (csp ?? "")
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!, values]),
  );

describe("security headers", () => {
  it("on every answer of the gateway, with a CSP for the web client that names the media origin", async () => {
    const mediaOrigin = new URL(stack.config.storage.publicBaseUrl).origin;
    const page = await ask(gatewayUrl);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assertCommon(page, "the web client");
    const csp = directives(page.headers.get("content-security-policy"));
    assert.deepEqual(csp.get("default-src"), ["'self'"]);
    assert.deepEqual(csp.get("script-src"), ["'self'"], "scripts from the gateway only, none inline");
    assert.deepEqual(csp.get("connect-src"), ["'self'"]);
    assert.deepEqual(csp.get("frame-ancestors"), ["'none'"]);
    assert.deepEqual(csp.get("object-src"), ["'none'"]);
    for (const directive of ["img-src", "media-src"]) {
      assert.ok(csp.get(directive)?.includes(mediaOrigin), `${directive} allows ${mediaOrigin}: ${csp.get(directive)}`);
      assert.ok(!csp.get(directive)?.includes("*"), `${directive} allows no wildcard`);
    }

    const others: [string, RequestInit, number][] = [
      [new URL("/users/1", gatewayUrl).toString(), {}, 200],
      [new URL("/assets/missing-1a2b.js", gatewayUrl).toString(), {}, 404],
      [stack.graphqlUrl, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ __typename }"}' }, 200],
      [stack.graphqlUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" }, 400],
      [new URL("/healthz", gatewayUrl).toString(), {}, 200],
    ];
    for (const [url, init, status] of others) {
      const answer = await ask(url, init);
      assert.equal(answer.status, status, url);
      assertCommon(answer, `${init.method ?? "GET"} ${url}`);
      assert.ok(answer.headers.get("content-security-policy"), `${url}: a CSP`);
    }
  });

  it("gives Apollo Sandbox's landing page no CSP (it loads the Sandbox from Apollo's CDN), but the other headers", async () => {
    const sandbox = await ask(stack.graphqlUrl, { headers: { accept: "text/html" } });
    assert.equal(sandbox.status, 200);
    assert.match(sandbox.headers.get("content-type") ?? "", /text\/html/);
    assertCommon(sandbox, "Sandbox");
    assert.equal(sandbox.headers.get("content-security-policy"), null);
    assert.equal(sandbox.headers.get("x-frame-options"), "DENY");
  });

  it("on every answer of the REST adapter, refusals included", async () => {
    const cases: [string, RequestInit, number][] = [
      [`${stack.restUrl}/douyin/feed/`, {}, 200],
      [`${stack.restUrl}/douyin/user/register/`, {}, 405],
      [`${stack.restUrl}/no/such/route`, {}, 404],
      [`${stack.restUrl}/douyin/user/login/`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" }, 200],
    ];
    for (const [url, init, status] of cases) {
      const answer = await ask(url, init);
      assert.equal(answer.status, status, url);
      assertCommon(answer, url);
      assert.deepEqual(directives(answer.headers.get("content-security-policy")).get("default-src"), ["'none'"], url);
    }
    const refused = await oversizedRequest(stack.restUrl);
    assert.match(refused, /"status_code":400/);
    assert.match(refused, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.match(refused, /\r\nreferrer-policy: no-referrer\r\n/i);
  });

  it("on every answer of the embedded storage", async () => {
    for (const [url, status] of [
      [`${stack.config.storage.publicBaseUrl}/videos/1.mp4`, 404],
      [`${stack.config.storage.publicBaseUrl}?list-type=2`, 403],
    ] as const) {
      const answer = await ask(url);
      assert.equal(answer.status, status, url);
      assertCommon(answer, url);
      assert.match(answer.headers.get("content-security-policy") ?? "", /sandbox/);
    }
  });
});
