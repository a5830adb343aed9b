import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig, refuseDevelopmentParts, withStartSecrets } from "./config";

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

  it("refuses the development and short JWT secrets in production, in every process", () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", JWT_SECRET: DEVELOPMENT_JWT_SECRET }),
      /JWT_SECRET: production refuses the development secret/,
    );
    assert.throws(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(31) }), /32 bytes/);
    const config = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "x".repeat(40),
      INTERNAL_SECRET: "y".repeat(40),
      EDGE_SECRET: "z".repeat(40),
    });
    assert.equal(config.graphql.sandbox, false, "no Sandbox in production");
    assert.deepEqual(
      [config.auth.jwtSecret, config.auth.edgeSecret, config.auth.internalSecret],
      ["x".repeat(40), "z".repeat(40), "y".repeat(40)],
    );
    assert.deepEqual(config.auth.secretsSet, ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"]);
  });

  it("in production, a secret left unset is random and unknown to anyone: a process that never uses it holds nothing", () => {
    const [one, two] = [loadConfig({ NODE_ENV: "production" }), loadConfig({ NODE_ENV: "production" })];
    assert.deepEqual(one.auth.secretsSet, []);
    for (const secret of ["jwtSecret", "edgeSecret", "internalSecret"] as const) {
      assert.match(one.auth[secret], /^[0-9a-f]{64}$/, secret);
      assert.notEqual(one.auth[secret], two.auth[secret], `${secret}: two processes, two values`);
      assert.notEqual(one.auth[secret], DEVELOPMENT_JWT_SECRET);
    }
    assert.equal(loadConfig({}).auth.jwtSecret, DEVELOPMENT_JWT_SECRET, "development keeps its tokens across restarts");
  });

  it("refuses the same value for the edge and the internal secret in production, which would let either holder say both", () => {
    const same = { NODE_ENV: "production", JWT_SECRET: "x".repeat(40), INTERNAL_SECRET: "y".repeat(40), EDGE_SECRET: "y".repeat(40) };
    assert.throws(
      () => loadConfig(same),
      (error: Error) =>
        error instanceof ConfigError && /^EDGE_SECRET, INTERNAL_SECRET: production needs two different secrets/.test(error.message),
    );
    assert.throws(() => loadConfig({ ...same, EDGE_SECRET: "short" }), /EDGE_SECRET.*at least 16 characters/);
  });

  it("outside production, makes random edge and internal secrets per start where none is set", () => {
    const [first, second] = [loadConfig({}), loadConfig({ NODE_ENV: "test" })];
    const secrets = [first.auth.edgeSecret, first.auth.internalSecret, second.auth.edgeSecret, second.auth.internalSecret];
    assert.equal(new Set(secrets).size, 4, "two starts, four different secrets");
    for (const secret of secrets) assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(loadConfig({ INTERNAL_SECRET: "set-by-the-developer" }).auth.internalSecret, "set-by-the-developer");
  });

  it("withStartSecrets makes what a launcher gives the processes it starts: random where unset, never in production", () => {
    const [one, two] = [withStartSecrets({ NODE_ENV: "development" }), withStartSecrets({})];
    assert.notEqual(one.EDGE_SECRET, two.EDGE_SECRET);
    assert.notEqual(one.INTERNAL_SECRET, two.INTERNAL_SECRET);
    assert.notEqual(one.EDGE_SECRET, one.INTERNAL_SECRET);
    // Every process loading the same environment believes the same secrets.
    assert.equal(loadConfig(one).auth.internalSecret, loadConfig(one).auth.internalSecret);
    assert.equal(loadConfig(one).auth.edgeSecret, one.EDGE_SECRET);
    assert.equal(withStartSecrets({ INTERNAL_SECRET: "kept-as-it-was-set" }).INTERNAL_SECRET, "kept-as-it-was-set");
    assert.deepEqual(withStartSecrets({ NODE_ENV: "production" }), { NODE_ENV: "production" }, "production sets its own");
  });

  it("has production defaults for rate limits and passwords, and development ones a test suite fits in", () => {
    const secrets = { JWT_SECRET: "x".repeat(40), INTERNAL_SECRET: "y".repeat(40), EDGE_SECRET: "z".repeat(40) };
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

describe("production refuses the development stand-ins", () => {
  const production = { NODE_ENV: "production", JWT_SECRET: "j".repeat(40), INTERNAL_SECRET: "i".repeat(32), EDGE_SECRET: "e".repeat(32) };
  const realParts = {
    ...production,
    USER_DATABASE_URL: "postgresql://douyin@db:5432/douyin_user",
    VIDEO_DATABASE_URL: "postgresql://douyin@db:5432/douyin_video",
    RELATION_DATABASE_URL: "postgresql://douyin@db:5432/douyin_relation",
    S3_ENDPOINT: "http://minio:9000",
    S3_ACCESS_KEY: "douyin",
    S3_SECRET_KEY: "a-real-secret-key",
    MEDIA_PUBLIC_BASE_URL: "https://media.example.com/douyin-media",
  };
  const refusal = (env: Record<string, string>, needs: Parameters<typeof refuseDevelopmentParts>[1]) => {
    try {
      refuseDevelopmentParts(loadConfig(env), needs);
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message.split("\n");
    }
  };

  it("refuses the embedded database of each subgraph the process opens, one message each", () => {
    const lines = refusal(production, { databases: ["user", "video"], objectStorage: false, secrets: [] });
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^USER_DATABASE_URL: production keeps the user subgraph's rows in PostgreSQL/);
    assert.match(lines[1]!, /^VIDEO_DATABASE_URL: /);
    assert.deepEqual(refusal(production, { databases: [], objectStorage: false, secrets: [] }), [], "an edge opens no database");
  });

  it("refuses the embedded object storage, its keys and media URLs that only work on this machine", () => {
    const lines = refusal(production, { databases: [], objectStorage: true, secrets: [] });
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^S3_ENDPOINT: /);
    assert.match(lines[1]!, /^S3_ACCESS_KEY, S3_SECRET_KEY: production refuses the development storage keys/);
    assert.match(lines[2]!, /^MEDIA_PUBLIC_BASE_URL: /);
    const onlyKeys = refusal({ ...realParts, S3_SECRET_KEY: "S3RVER" }, { databases: [], objectStorage: true, secrets: [] });
    assert.equal(onlyKeys.length, 1);
    assert.match(onlyKeys[0]!, /S3_SECRET_KEY/);
  });

  it("accepts the real parts, and lets development use the stand-ins", () => {
    assert.deepEqual(
      refusal(realParts, {
        databases: ["user", "video", "relation"],
        objectStorage: true,
        secrets: ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"],
      }),
      [],
    );
    assert.deepEqual(
      refusal(
        {},
        { databases: ["user", "video", "relation"], objectStorage: true, secrets: ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"] },
      ),
      [],
    );
  });

  it("refuses a process that uses a secret it was not given, naming what it is for", () => {
    const without = (...names: string[]) => Object.fromEntries(Object.entries(realParts).filter(([name]) => !names.includes(name)));
    const withoutSecrets = without("JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET");
    const lines = refusal(withoutSecrets, {
      databases: [],
      objectStorage: false,
      secrets: ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"],
    });
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0]!, /^JWT_SECRET: production requires it here: this process signs or checks login tokens/);
    assert.match(lines[1]!, /^EDGE_SECRET: production requires it here: this process vouches for, or believes, the client address/);
    assert.match(lines[2]!, /^INTERNAL_SECRET: production requires it here: the gateway vouches for callers/);
    assert.deepEqual(
      refusal(without("EDGE_SECRET"), { databases: [], objectStorage: false, secrets: ["JWT_SECRET", "INTERNAL_SECRET"] }),
      [],
      "one it does not use may be absent",
    );
    assert.deepEqual(refusal(withoutSecrets, { databases: [], objectStorage: false, secrets: [] }), [], "workers use none");
    assert.deepEqual(refusal({}, { databases: [], objectStorage: false, secrets: ["JWT_SECRET"] }), [], "development makes its own");
  });

  it("takes proxies' addresses for TRUST_PROXY, never `true`", () => {
    assert.throws(() => loadConfig({ ...realParts, TRUST_PROXY: "true" }), /TRUST_PROXY: production takes the addresses or CIDRs/);
    assert.deepEqual(loadConfig({ ...realParts, TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy, ["10.0.0.0/8", "127.0.0.1"]);
    assert.equal(loadConfig({ TRUST_PROXY: "true" }).trustProxy, true, "development may trust any proxy");
  });
});
