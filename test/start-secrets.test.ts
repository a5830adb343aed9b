// `npm start -- --split` as a developer runs it, without setting a secret: the launcher makes
// the stack's edge and internal secrets at start and gives each service it starts the ones it
// uses, so they believe each other, and nobody else, not even a caller holding the value every
// checkout once shared.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { graphql, legacy, uniqueName } from "./client";
import { createTestDatabases, deleteRedisKeys, dropTestDatabases, SERVER_ENTRY, TEST_REDIS_URL } from "./stack";
import { SECRETS } from "../platform/config";
import { SUBGRAPHS } from "../platform/registry";
import { needsOfService, stackServices } from "../server/stack";
import { freePortRun } from "../scripts/ports";

/** What the subgraphs believed before the secrets became random per start (public: in every checkout). */
const OLD_DEVELOPMENT_SECRET = "development-only-internal-secret";
const READY_TIMEOUT_MS = 120_000;
/** More than the processes the split launcher starts (storage, and each subgraph with its workers, and the two edges). */
const METRICS_PORTS = 16;

describe("the split launcher's secrets", () => {
  const tag = `start${Date.now().toString(36)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `douyin-${tag}-`));
  let launcher: ChildProcess;
  let restUrl: string;
  let userSubgraphUrl: string;

  before(async () => {
    const databases = await createTestDatabases(tag);
    // Ports in a row: the launcher gives each of its processes the next metrics port after the first.
    const base = await freePortRun(3 + SUBGRAPHS.length + METRICS_PORTS);
    const ports = { rest: base, gateway: base + 1, storage: base + 2, metrics: base + 3 + SUBGRAPHS.length };
    const subgraphPorts = Object.fromEntries(SUBGRAPHS.map((entry, index) => [entry.name, base + 3 + index]));
    restUrl = `http://127.0.0.1:${ports.rest}`;
    userSubgraphUrl = `http://127.0.0.1:${subgraphPorts.user}/graphql`;
    // No EDGE_SECRET, no INTERNAL_SECRET: only what the machine and the test databases need.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `test-${tag}`,
      DATA_DIR: dataDir,
      DATABASE_MIGRATE_ON_START: "true",
      DATABASE_POOL_SIZE: "3",
      ARGON2_MEMORY_KIB: "4096",
      ARGON2_TIME_COST: "1",
      REST_PORT: String(ports.rest),
      GATEWAY_PORT: String(ports.gateway),
      S3_PORT: String(ports.storage),
      METRICS_PORT: String(ports.metrics),
      ...Object.fromEntries(
        SUBGRAPHS.flatMap((entry) => [
          [`${entry.envPrefix}_DATABASE_URL`, databases[entry.name]!],
          [`${entry.envPrefix}_PORT`, String(subgraphPorts[entry.name])],
        ]),
      ),
    };
    launcher = spawn(process.execPath, [SERVER_ENTRY, "--split"], { env, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(
        () => reject(new Error(`the split stack was not ready after ${READY_TIMEOUT_MS / 1000} s: ${output}`)),
        READY_TIMEOUT_MS,
      );
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes("Douyin supergraph ready")) return;
        clearTimeout(timer);
        resolve();
      };
      launcher.stdout!.on("data", read);
      launcher.stderr!.on("data", read);
      launcher.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the launcher exited during start-up (${code}): ${output}`));
      });
    });
  });

  after(async () => {
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      const exited = new Promise((resolve) => launcher.once("exit", resolve));
      launcher.kill("SIGTERM");
      await exited;
    }
    await dropTestDatabases(tag);
    await deleteRedisKeys(`test-${tag}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("gives every service the same ones: a legacy request crosses the REST adapter, the gateway and the subgraphs", async () => {
    const registered = await legacy(
      { restUrl },
      "/douyin/user/register/",
      { username: uniqueName("start"), password: "pw" },
      { method: "POST" },
    );
    assert.equal(registered.body.status_code, 0, registered.text);
    const user = await legacy({ restUrl }, "/douyin/user/", { user_id: registered.body.user_id, token: registered.body.token });
    assert.equal(user.body.status_code, 0, user.text);
    assert.equal(user.body.user.id, registered.body.user_id);
  });

  it("gives each service only the ones it uses, as a deployment does, each the same in every service", () => {
    const children = fs
      .readdirSync("/proc")
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return new RegExp(`^PPid:\\s+${launcher.pid}$`, "m").test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
        } catch {
          return false; // ended while we looked
        }
      });
    const seen = new Map<string, Set<string>>();
    const services = stackServices();
    for (const pid of children) {
      const service = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).at(-1)!;
      const spec = services.find((candidate) => candidate.name === service);
      assert.ok(spec, `the launcher's child ${pid} runs a service (${service})`);
      const environ = new Map(
        fs
          .readFileSync(`/proc/${pid}/environ`, "utf8")
          .split("\0")
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
      );
      // The launcher makes the header secrets (JWT_SECRET keeps its development value unless set).
      const uses = needsOfService(spec).secrets.filter((name) => name !== "JWT_SECRET");
      const given = SECRETS.filter((name) => environ.has(name));
      assert.deepEqual(given, uses, `${service} gets ${uses.join(", ") || "no secret"}`);
      for (const name of given) seen.set(name, (seen.get(name) ?? new Set()).add(environ.get(name)!));
    }
    assert.ok(children.length >= 3 + SUBGRAPHS.length, `every service is a child of the launcher (${children.length})`);
    assert.deepEqual([...seen.keys()].sort(), ["EDGE_SECRET", "INTERNAL_SECRET"]);
    for (const [name, values] of seen) assert.equal(values.size, 1, `${name} is the same in every service that has it`);
  });

  it("refuses a caller naming a viewer with the old public development secret", async () => {
    const forged = await graphql(
      userSubgraphUrl,
      "{ me { id } }",
      {},
      { headers: { "x-internal-secret": OLD_DEVELOPMENT_SECRET, "x-viewer-id": "1", "x-session-id": "s" } },
    );
    assert.equal(forged.httpStatus, 403);
    assert.equal(forged.data, undefined);
  });
});
