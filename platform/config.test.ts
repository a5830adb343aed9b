import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from "./config";

describe("loadConfig", () => {
  it("has working defaults: the documented ports and embedded databases", () => {
    const config = loadConfig({});
    assert.deepEqual(config.ports, { rest: 8080, gateway: 4000, metrics: 9464 });
    assert.equal(config.host, "127.0.0.1", "only this machine, unless HOST says otherwise");
    assert.deepEqual(
      Object.fromEntries(Object.entries(config.subgraphs).map(([name, subgraph]) => [name, subgraph.port])),
      { user: 4001, video: 4002, relation: 4003 },
      "each subgraph's port comes from its routing_url in supergraph.yaml",
    );
    assert.equal(config.subgraphs.user!.database.kind, "embedded");
    assert.equal(config.subgraphs.video!.url, "http://127.0.0.1:4002/graphql");
    assert.equal(config.graphql.sandbox, true);
  });

  it("names the variable that is wrong", () => {
    assert.throws(
      () => loadConfig({ GATEWAY_PORT: "eighty" }),
      (error: Error) => error instanceof ConfigError && /GATEWAY_PORT/.test(error.message),
    );
    assert.throws(() => loadConfig({ USER_DATABASE_URL: "not a url" }), /USER_DATABASE_URL/);
    assert.throws(() => loadConfig({ ID_WORKER_ID: "40" }), /ID_WORKER_ID/);
    assert.throws(() => loadConfig({ JWT_SECRET: "short" }), /JWT_SECRET/);
  });

  it("refuses the development secrets in production", () => {
    assert.throws(() => loadConfig({ NODE_ENV: "production" }), /JWT_SECRET/);
    assert.throws(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: DEVELOPMENT_JWT_SECRET }), /JWT_SECRET/);
    assert.throws(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40) }), /INTERNAL_SECRET/);
    assert.throws(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(31), INTERNAL_SECRET: "y".repeat(40) }), /32 bytes/);
    const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), INTERNAL_SECRET: "y".repeat(40) });
    assert.equal(config.graphql.sandbox, false, "no Sandbox in production");
  });

  it("has production defaults for rate limits and passwords, and development ones a test suite fits in", () => {
    const secrets = { JWT_SECRET: "x".repeat(40), INTERNAL_SECRET: "y".repeat(40) };
    const production = loadConfig({ NODE_ENV: "production", ...secrets });
    const development = loadConfig({});
    assert.equal(production.limits.passwordMin, 8);
    assert.equal(development.limits.passwordMin, 1);
    assert.ok(production.rateLimits.loginPerIpPerMinute <= 60);
    assert.ok(development.rateLimits.registerPerIpPerHour >= 1000 && development.rateLimits.writesPerUserPerMinute >= 5000);
    // Guessing one account's password is limited in every mode.
    assert.equal(development.rateLimits.loginFailuresPerAccount, production.rateLimits.loginFailuresPerAccount);
    assert.ok(development.rateLimits.loginFailuresPerAccount <= 50);
    assert.equal(loadConfig({ NODE_ENV: "production", PASSWORD_MIN_LENGTH: "12", ...secrets }).limits.passwordMin, 12);
    assert.deepEqual(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy, ["10.0.0.0/8", "127.0.0.1"]);
  });

  it("uses PostgreSQL when a database URL is given", () => {
    const config = loadConfig({ VIDEO_DATABASE_URL: "postgresql://u@db:5432/video" });
    assert.deepEqual(config.subgraphs.video!.database, { kind: "postgres", url: "postgresql://u@db:5432/video" });
    assert.equal(config.subgraphs.user!.database.kind, "embedded");
  });
});
