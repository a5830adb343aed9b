// docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading:
// every service the stack derives from supergraph.yaml has a container running it through the
// one entry point, every variable is one the configuration knows, worker ids are distinct,
// and the ports agree with the documented defaults.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { CONFIG_VARIABLES, loadConfig, projectRoot, refuseDevelopmentParts, SECRETS } from "../platform/config";
import { needsOfService, stackServices } from "../server/stack";
import { compose, composeEnvironment, stackContainers } from "./compose";

describe("docker-compose.yml", () => {
  it("runs every service of the stack, each through the one entry point", () => {
    const composeConfig = loadConfig(composeEnvironment(compose.services.gateway?.environment ?? {}));
    assert.ok(!composeConfig.storage.embedded, "MinIO, not the embedded storage");
    const expected = stackServices().filter((spec) => spec.enabled(composeConfig));
    for (const spec of expected) {
      const service = compose.services[spec.name];
      assert.ok(service, `${spec.name} has a container`);
      assert.deepEqual(service.command, ["node", "dist/server/main.js", spec.name], `${spec.name} runs \`main.js ${spec.name}\``);
    }
    assert.ok(fs.existsSync(path.join(projectRoot, "dist", "server", "main.js")), "the entry point exists after the build");
    const migrate = compose.services.migrate?.command?.[1];
    assert.ok(migrate && fs.existsSync(path.join(projectRoot, migrate)), "the migrate container's script exists after the build");
  });

  it("sets only variables the configuration reads, and a configuration that validates", () => {
    const ids = new Set<string>();
    for (const [name, service] of stackContainers) {
      const env = service.environment ?? {};
      for (const key of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(key), `${name}: ${key} is a known variable`);
      assert.doesNotThrow(() => loadConfig(composeEnvironment(env)), name);
      const spec = stackServices().find((candidate) => candidate.name === name);
      if (spec) {
        assert.doesNotThrow(
          () => refuseDevelopmentParts(loadConfig(composeEnvironment(env)), needsOfService(spec)),
          `${name}: production accepts its parts`,
        );
      }
      if (env.ID_WORKER_ID) {
        assert.ok(!ids.has(env.ID_WORKER_ID), `${name}: worker id ${env.ID_WORKER_ID} is unique`);
        ids.add(env.ID_WORKER_ID);
      }
    }
  });

  it("gives each container only the secrets its process uses, and every one it uses", () => {
    for (const [name, service] of stackContainers) {
      const spec = stackServices().find((candidate) => candidate.name === name);
      // The migrate container (not a service) opens its databases and nothing else.
      const uses = spec ? needsOfService(spec).secrets : [];
      const given = SECRETS.filter((secret) => secret in (service.environment ?? {}));
      assert.deepEqual([...given].sort(), [...uses].sort(), `${name}: ${uses.join(", ") || "no secret"}`);
    }
  });

  it("publishes the documented ports", () => {
    const defaults = loadConfig({}).ports;
    const published = (name: string) => compose.services[name]?.ports?.[0];
    assert.equal(published("gateway"), `${defaults.gateway}:${defaults.gateway}`);
    assert.equal(published("rest-adapter"), `${defaults.rest}:${defaults.rest}`);
  });
});
