// docs/configuration.md is what `npm run docs:config` renders from platform/config.ts: a
// variable added, removed, renamed or given another default there makes this fail until the
// document is rendered again; a default that depends on NODE_ENV, which only loadConfig knows,
// is checked against loadConfig in both modes.
import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, it } from "node:test";
import { configVariables, loadConfig, type Config } from "../platform/config";
import { CONFIGURATION_DOC, renderConfigurationDoc, variableDocs } from "./config-docs";

const secrets = { JWT_SECRET: "x".repeat(40), INTERNAL_SECRET: "y".repeat(40), EDGE_SECRET: "z".repeat(40) };

/** Variables whose default differs in production, and where loadConfig puts their value. */
const BY_MODE: Record<string, (config: Config) => number | boolean> = {
  PASSWORD_MIN_LENGTH: (config) => config.limits.passwordMin,
  RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: (config) => config.rateLimits.loginPerIpPerMinute,
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: (config) => config.rateLimits.registerPerIpPerHour,
  RATE_LIMIT_READS_PER_IP_PER_MINUTE: (config) => config.rateLimits.readsPerIpPerMinute,
  RATE_LIMIT_WRITES_PER_USER_PER_MINUTE: (config) => config.rateLimits.writesPerUserPerMinute,
  RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR: (config) => config.rateLimits.publishesPerUserPerHour,
};

describe("docs/configuration.md", () => {
  it("is what platform/config.ts renders", () => {
    const current = fs.existsSync(CONFIGURATION_DOC) ? fs.readFileSync(CONFIGURATION_DOC, "utf8") : "";
    assert.ok(
      current === renderConfigurationDoc(),
      "docs/configuration.md differs from platform/config.ts: run `npm run docs:config` (and edit a variable's meaning in config.ts, not in the document)",
    );
  });

  it("lists every variable the configuration reads, once", () => {
    const { stack, subgraphs } = variableDocs();
    assert.deepEqual([...stack, ...subgraphs].map((row) => row.variable).sort(), [...configVariables()].sort());
  });

  it("states the defaults loadConfig applies in production and otherwise", () => {
    const production = loadConfig({ NODE_ENV: "production", ...secrets });
    const development = loadConfig({});
    const rows = new Map(variableDocs().stack.map((row) => [row.variable, row]));
    for (const [variable, read] of Object.entries(BY_MODE)) {
      const stated = /^`(\d+)` in production, `(\d+)` otherwise$/.exec(rows.get(variable)?.defaultText ?? "");
      assert.ok(stated, `${variable}: its default reads "\`N\` in production, \`M\` otherwise"`);
      assert.deepEqual([Number(stated[1]), Number(stated[2])], [read(production), read(development)], variable);
    }
    assert.equal(rows.get("SANDBOX_ENABLED")?.defaultText, "`true` outside production");
    assert.deepEqual([production.graphql.sandbox, development.graphql.sandbox], [false, true]);
  });
});
