// The Kubernetes manifests (deploy/kubernetes) cannot be applied here (no cluster), so they are
// checked by reading, against the code they run: every manifest validates against the
// Kubernetes schemas (kubernetes-models); each Deployment's environment, built as the kubelet
// would build it, passes the production configuration (loadConfig) with nothing but known
// variables; probes ask paths that the code serves on the ports the configuration gives;
// images, commands, ports and variables agree with docker-compose.yml; every service of
// the split stack has a Deployment; network policies, resources, replicas and shutdown
// times agree with what the code needs. The base is read file by file; the overlays are
// built with `kubectl kustomize` where kubectl exists, and their patches checked otherwise.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import * as models from "kubernetes-models";
import { Registry } from "prom-client";
import YAML from "yaml";
import { WORKER_BITS } from "../lib/ids";
import { CONFIG_VARIABLES, loadConfig, projectRoot, refuseDevelopmentParts, type Config } from "../platform/config";
import { healthRoutes } from "../platform/health";
import { createLogger } from "../platform/logger";
import { startMetricsServer, type MetricsServer } from "../platform/metrics-server";
import { SUBGRAPH_NAMES } from "../platform/registry";
import { compose, composeValue, stackContainers } from "./compose";
import { needsOf, stackServices, workersInSubgraphProcess, type ServiceKind, type ServiceSpec } from "../server/stack";

/** A manifest as parsed from YAML: loosely shaped (tests may use `any`). */
type Manifest = any;

const K8S = path.join(projectRoot, "deploy", "kubernetes");
const OVERLAYS = ["small", "production"] as const;
const NAMESPACE = "douyin";
const SECRET_NAME = "douyin-secrets";

/** What the Secret holds (deploy/kubernetes/README.md creates it), with stand-ins shaped like real values. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  JWT_SECRET: "j".repeat(48),
  INTERNAL_SECRET: "i".repeat(32),
  S3_ACCESS_KEY: "placeholder-access-key",
  S3_SECRET_KEY: "placeholder-secret-key",
  ...Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_DATABASE_URL`, `postgresql://douyin:pw@douyin-${name}-rw:5432/douyin_${name}`]),
  ),
};
const SECRET_VARIABLES = new Set(Object.keys(SECRET_PLACEHOLDERS));

/**
 * Measured per process (base/kustomization.yaml has the whole table and how): idle and peak
 * RSS in MiB. Requests must cover the idle size and limits leave half again over the peak.
 */
const MEASURED_MIB: Record<string, { idle: number; peak: number }> = {
  "rest-adapter": { idle: 119, peak: 198 },
  gateway: { idle: 119, peak: 383 },
  user: { idle: 182, peak: 278 },
  video: { idle: 195, peak: 245 },
  relation: { idle: 197, peak: 208 },
  "video-workers": { idle: 195, peak: 197 },
  "relation-workers": { idle: 181, peak: 172 },
  migrate: { idle: 75, peak: 75 },
};
/**
 * Memory a concurrent upload holds in the video subgraph, per byte uploaded: 1.66 while the
 * storage client buffered whole files; since uploads stream through a presigned URL, four
 * concurrent 107 MiB publishes raised the process by 64 MiB (0.15).
 */
const UPLOAD_MEMORY_FACTOR = 0.2;
/** Readiness checks give up after this long (platform/health.ts CHECK_TIMEOUT_MS): the probe must wait longer. */
const READINESS_CHECK_TIMEOUT_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// Reading manifests

function parseDocuments(text: string, where: string): Manifest[] {
  return YAML.parseAllDocuments(text)
    .map((document) => {
      assert.deepEqual(document.errors, [], `${where} parses as YAML`);
      return document.toJS() as Manifest;
    })
    .filter((document) => document !== null && document !== undefined);
}

const readDocuments = (file: string) => parseDocuments(fs.readFileSync(file, "utf8"), path.relative(projectRoot, file));

function readKustomization(dir: string): Manifest {
  const [kustomization] = readDocuments(path.join(dir, "kustomization.yaml"));
  assert.equal(kustomization.kind, "Kustomization", `${dir} has a kustomization.yaml`);
  return kustomization;
}

/** The base's resources as its files hold them (namespace and labels are added by kustomize). */
function baseManifests(): Manifest[] {
  const dir = path.join(K8S, "base");
  return (readKustomization(dir).resources as string[]).flatMap((file) => readDocuments(path.join(dir, file)));
}

const kubectl: string | undefined = (process.env.PATH ?? "")
  .split(path.delimiter)
  .map((dir) => path.join(dir, "kubectl"))
  .find((candidate) => fs.existsSync(candidate));
const NO_KUBECTL = "kubectl not found on PATH: the overlays' merged builds are not checked (their patches are)";

function kustomize(overlay: string): Manifest[] {
  const output = execFileSync(kubectl!, ["kustomize", path.join(K8S, "overlays", overlay)], { encoding: "utf8" });
  return parseDocuments(output, `kubectl kustomize overlays/${overlay}`);
}

/** The kubernetes-models class of an apiVersion and kind (`networking.k8s.io/v1` is `networkingK8sIo.v1`). */
function modelClass(apiVersion: string, kind: string): (new (data: Manifest) => { validate(): void }) | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const key = group ? group.split(".").map((part, index) => (index === 0 ? part : part[0]!.toUpperCase() + part.slice(1))) : [];
  const module = (group ? (models as any)[key.join("")] : models)?.[version!];
  return module?.[kind];
}

function validateAgainstSchema(manifest: Manifest, where: string): void {
  const Model = modelClass(manifest.apiVersion, manifest.kind);
  assert.ok(Model, `${where}: ${manifest.apiVersion} ${manifest.kind} is a Kubernetes kind`);
  assert.doesNotThrow(() => new Model(manifest).validate(), `${where}: ${manifest.kind} ${manifest.metadata?.name} validates`);
}

// ---------------------------------------------------------------------------------------------
// What a Deployment's containers get

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const named = (manifests: Manifest[], kind: string, name: string) =>
  manifests.find((manifest) => manifest.kind === kind && manifest.metadata?.name === name);

function selects(selector: Manifest, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const matchLabels = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).every(([key, value]) => labels[key] === value);
  const matchExpressions = ((selector.matchExpressions ?? []) as Manifest[]).every((expression) => {
    const value = labels[expression.key];
    switch (expression.operator) {
      case "In":
        return value !== undefined && expression.values.includes(value);
      case "NotIn":
        return value === undefined || !expression.values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${expression.operator}`);
    }
  });
  return matchLabels && matchExpressions;
}

/** The variables a Service would put in every pod of the namespace with enableServiceLinks left on. */
function serviceLinkVariables(manifests: Manifest[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of byKind(manifests, "Service")) {
    const name = String(service.metadata.name).toUpperCase().replaceAll("-", "_");
    const [first] = service.spec.ports as Manifest[];
    env[`${name}_SERVICE_HOST`] = "10.0.0.1";
    env[`${name}_SERVICE_PORT`] = String(first.port);
    env[`${name}_PORT`] = `tcp://10.0.0.1:${first.port}`;
  }
  return env;
}

interface ContainerEnv {
  env: Record<string, string>;
  /** Variable name -> Secret key, for the variables that come from a Secret. */
  fromSecret: Record<string, string>;
  /** Every variable name the manifests set for this container (ConfigMap and env). */
  names: string[];
}

/** The environment the kubelet would give `container` of `deployment`, secrets as placeholders. */
function containerEnv(manifests: Manifest[], deployment: Manifest, container: Manifest): ContainerEnv {
  const where = `${deployment.metadata.name}/${container.name}`;
  const env: Record<string, string> = deployment.spec.template.spec.enableServiceLinks === false ? {} : serviceLinkVariables(manifests);
  const fromSecret: Record<string, string> = {};
  const names: string[] = [];
  for (const source of (container.envFrom ?? []) as Manifest[]) {
    assert.ok(source.configMapRef && !source.prefix, `${where}: envFrom names only ConfigMaps, unprefixed`);
    const configMap = named(manifests, "ConfigMap", source.configMapRef.name);
    assert.ok(configMap, `${where}: ConfigMap ${source.configMapRef.name} exists`);
    for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
      env[key] = value;
      names.push(key);
    }
  }
  const own = new Set<string>();
  for (const variable of (container.env ?? []) as Manifest[]) {
    assert.ok(!own.has(variable.name), `${where}: ${variable.name} is set once`);
    own.add(variable.name);
    names.push(variable.name);
    if (variable.valueFrom) {
      const ref = variable.valueFrom.secretKeyRef;
      assert.ok(ref, `${where}: ${variable.name} comes from a Secret if not from a value`);
      assert.equal(ref.name, SECRET_NAME, `${where}: ${variable.name} comes from the Secret ${SECRET_NAME}`);
      assert.ok(ref.key in SECRET_PLACEHOLDERS, `${where}: ${ref.key} is a documented key of ${SECRET_NAME}`);
      env[variable.name] = SECRET_PLACEHOLDERS[ref.key]!;
      fromSecret[variable.name] = ref.key;
    } else {
      assert.equal(typeof variable.value, "string", `${where}: ${variable.name} has a string value`);
      env[variable.name] = variable.value;
    }
  }
  return { env, fromSecret, names };
}

interface Workload {
  deployment: Manifest;
  name: string;
  spec: ServiceSpec;
  kind: ServiceKind;
  /** The subgraph it serves or works for. */
  subgraph?: string;
  main: Manifest;
  mainEnv: ContainerEnv;
  config: Config;
  podLabels: Record<string, string>;
}

const SPECS = stackServices();

function workloads(manifests: Manifest[]): Workload[] {
  return byKind(manifests, "Deployment").map((deployment): Workload => {
    const name = deployment.metadata.name as string;
    const spec = SPECS.find((candidate) => candidate.name === name);
    assert.ok(spec, `Deployment ${name} runs a service of the stack (${SPECS.map((s) => s.name).join(", ")})`);
    const containers = deployment.spec.template.spec.containers as Manifest[];
    assert.equal(containers.length, 1, `${name} has one container`);
    const main = containers[0];
    const mainEnv = containerEnv(manifests, deployment, main);
    let config: Config;
    try {
      config = loadConfig(mainEnv.env);
    } catch (error) {
      throw new Error(`Deployment ${name}: ${(error as Error).message}`, { cause: error });
    }
    return {
      deployment,
      name,
      spec,
      kind: spec.kind,
      subgraph: spec.subgraph?.entry.name,
      main,
      mainEnv,
      config,
      podLabels: deployment.spec.template.metadata.labels,
    };
  });
}

const allContainers = (workload: Workload): Manifest[] => [
  ...((workload.deployment.spec.template.spec.initContainers ?? []) as Manifest[]),
  workload.main,
];

/** The container port a probe or Service names (by name or number). */
function containerPort(container: Manifest, port: string | number): number | undefined {
  const ports = (container.ports ?? []) as Manifest[];
  return typeof port === "number"
    ? ports.find((p) => p.containerPort === port)?.containerPort
    : ports.find((p) => p.name === port)?.containerPort;
}

/** The port the code serves its HTTP service on, from the configuration this Deployment gets. */
function servicePort(workload: Workload): number | undefined {
  switch (workload.kind) {
    case "rest-adapter":
      return workload.config.ports.rest;
    case "gateway":
      return workload.config.ports.gateway;
    case "subgraph":
      return workload.config.subgraphs[workload.subgraph!]!.port;
    default:
      return undefined;
  }
}

/** Secrets a container of this workload needs, and no more: the secrets the process checks, its own database, storage credentials where storage is used. */
function neededSecrets(workload: Workload): Set<string> {
  const needed = new Set(["JWT_SECRET", "INTERNAL_SECRET"]);
  if (workload.subgraph) needed.add(`${workload.subgraph.toUpperCase()}_DATABASE_URL`);
  if (workload.subgraph === "video") ["S3_ACCESS_KEY", "S3_SECRET_KEY"].forEach((key) => needed.add(key));
  return needed;
}

const cpuCores = (quantity: string | number) =>
  typeof quantity === "number" ? quantity : quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
function memoryMiB(quantity: string | number): number {
  const units: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, k: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  assert.ok(match, `memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] ? units[match[2]]! : 1 / 2 ** 20);
}

// ---------------------------------------------------------------------------------------------
// Network policies, evaluated as the API describes them (ingress only; this stack sets no egress rules)

interface Peer {
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
}

function ingressAllowed(manifests: Manifest[], target: Workload, source: Peer, port: number): boolean {
  const policies = byKind(manifests, "NetworkPolicy").filter(
    (policy) =>
      ((policy.spec.policyTypes ?? ["Ingress"]) as string[]).includes("Ingress") &&
      (policy.metadata.namespace ?? NAMESPACE) === NAMESPACE &&
      selects(policy.spec.podSelector, target.podLabels),
  );
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    ((policy.spec.ingress ?? []) as Manifest[]).some((rule) => {
      const ports = (rule.ports ?? []) as Manifest[];
      const portMatches = ports.length === 0 || ports.some((p) => p.port === undefined || containerPort(target.main, p.port) === port);
      const from = (rule.from ?? []) as Manifest[];
      const peerMatches =
        from.length === 0 ||
        from.some((peer) => {
          if (peer.ipBlock) return false;
          const namespaceOk = peer.namespaceSelector
            ? selects(peer.namespaceSelector, source.namespaceLabels)
            : source.namespace === (policy.metadata.namespace ?? NAMESPACE);
          return namespaceOk && (peer.podSelector ? selects(peer.podSelector, source.labels) : true);
        });
      return portMatches && peerMatches;
    }),
  );
}

const inNamespace = (labels: Record<string, string>): Peer => ({
  namespace: NAMESPACE,
  namespaceLabels: { "kubernetes.io/metadata.name": NAMESPACE },
  labels,
});
const PROMETHEUS: Peer = {
  namespace: "monitoring",
  namespaceLabels: { "kubernetes.io/metadata.name": "monitoring" },
  labels: { "app.kubernetes.io/name": "prometheus" },
};
const ELSEWHERE: Peer = { namespace: "other", namespaceLabels: { "kubernetes.io/metadata.name": "other" }, labels: { app: "other" } };

// ---------------------------------------------------------------------------------------------
// docker-compose.yml (test/compose.ts)

/** Where the cluster's own endpoints differ from compose's by design (external services). */
const EXTERNAL_ENDPOINTS = new Set(["REDIS_URL", "S3_ENDPOINT", "MEDIA_PUBLIC_BASE_URL"]);
/** Compose ships its own Jaeger; in a cluster the collector is the operator's (commented in the ConfigMap). */
const OPTIONAL_IN_CLUSTER = new Set(["OTEL_EXPORTER_OTLP_ENDPOINT"]);

/** `registry/path/name:tag` -> `name`. */
const imageName = (image: string) =>
  image
    .replace(/@.*$/, "")
    .replace(/:[^/]*$/, "")
    .split("/")
    .pop();

// ---------------------------------------------------------------------------------------------
// The checks every stack passes: the base as written and each overlay as built

function checkStack(label: string, load: () => Manifest[], options: { skip?: string | false; built: boolean }): void {
  describe(label, { skip: options.skip }, () => {
    let manifests: Manifest[] = [];
    let stack: Workload[] = [];
    let health: FastifyInstance;
    let metricsServer: MetricsServer;

    /** Whether the dependency behind the health routes' one readiness check answers. */
    let dependencyUp = true;

    before(async () => {
      manifests = load();
      stack = workloads(manifests);
      // What every service port serves (platform/http.ts): health routes with its readiness checks.
      health = Fastify();
      healthRoutes(health, () => ({ dependency: async () => assert.ok(dependencyUp, "down") }));
      const quiet = loadConfig({ LOG_LEVEL: "silent" });
      // What a worker's metrics port serves (server/stack.ts): metrics, and its probes.
      metricsServer = await startMetricsServer(
        new Registry(),
        { host: "127.0.0.1", ports: quiet.ports },
        createLogger(quiet, "test"),
        0,
        () => ({
          dependency: async () => assert.ok(dependencyUp, "down"),
        }),
      );
    });
    after(async () => {
      await health?.close();
      await metricsServer?.close();
    });

    it("every manifest validates against the Kubernetes schemas", () => {
      assert.ok(manifests.length > 0);
      for (const manifest of manifests) validateAgainstSchema(manifest, label);
      const names = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`);
      assert.equal(new Set(names).size, names.length, "no resource is defined twice");
      if (options.built) {
        for (const manifest of manifests.filter((m) => m.kind !== "Namespace")) {
          assert.equal(manifest.metadata.namespace, NAMESPACE, `${manifest.kind}/${manifest.metadata.name} lands in ${NAMESPACE}`);
        }
      }
    });

    it("has a Deployment for every service of the split stack, each running it through the one entry point", () => {
      const deployed = new Set(stack.map((workload) => workload.name));
      for (const workload of stack) {
        assert.ok(!workload.config.storage.embedded, `${workload.name}: object storage is external (S3_ENDPOINT), not the embedded one`);
        assert.deepEqual(
          workload.main.command,
          ["node", "dist/server/main.js", workload.name],
          `${workload.name} runs main.js ${workload.name}`,
        );
        assert.equal(workload.main.args, undefined, `${workload.name}: no args after the command`);
      }
      for (const spec of SPECS) {
        if (spec.kind === "storage") {
          assert.ok(!deployed.has(spec.name), "no embedded storage");
          continue;
        }
        if (spec.kind === "workers") {
          // Workers run apart exactly when their subgraph's Deployment does not run them.
          const server = stack.find((workload) => workload.name === spec.subgraph!.entry.name);
          assert.ok(server, `${spec.subgraph!.entry.name} is deployed`);
          const apart = !workersInSubgraphProcess(server.config, spec.subgraph!);
          assert.equal(
            deployed.has(spec.name),
            apart,
            `${spec.name} is deployed exactly when ${spec.subgraph!.entry.name} leaves its workers to it`,
          );
          continue;
        }
        assert.ok(deployed.has(spec.name), `${spec.name} has a Deployment`);
      }
      assert.ok(fs.existsSync(path.join(projectRoot, "dist", "server", "main.js")), "the entry point exists after the build");
    });

    it("gives every container a production configuration that loads, from known variables only", () => {
      for (const workload of stack) {
        for (const container of allContainers(workload)) {
          const where = `${workload.name}/${container.name}`;
          const { env, names } = containerEnv(manifests, workload.deployment, container);
          for (const name of names) assert.ok(CONFIG_VARIABLES.includes(name), `${where}: ${name} is a variable the configuration reads`);
          let config: Config | undefined;
          assert.doesNotThrow(() => (config = loadConfig(env)), `${where}: the configuration loads`);
          assert.equal(config!.production, true, `${where}: NODE_ENV=production`);
          assert.equal(config!.host, "0.0.0.0", `${where}: binds every interface of the pod`);
          if (workload.subgraph) {
            assert.equal(
              config!.subgraphs[workload.subgraph]!.database.kind,
              "postgres",
              `${where}: ${workload.subgraph} has its PostgreSQL database`,
            );
          }
          // What production refuses at start (a development stand-in the service would use).
          if (container === workload.main) {
            assert.doesNotThrow(
              () => refuseDevelopmentParts(config!, needsOf(workload.spec.subgraph ? [workload.spec.subgraph] : [])),
              `${where}: production accepts its parts`,
            );
          }
        }
      }
    });

    it("would not load with Kubernetes' service links in the environment, so every pod turns them off", () => {
      // e.g. USER_PORT=tcp://10.0.0.1:4001 from the Service `user`, where USER_PORT is the subgraph's port number.
      const user = stack.find((workload) => workload.name === "user")!;
      assert.throws(() => loadConfig({ ...serviceLinkVariables(manifests), ...user.mainEnv.env }), /(USER|VIDEO|RELATION|GATEWAY)_PORT/);
      for (const workload of stack) assert.equal(workload.deployment.spec.template.spec.enableServiceLinks, false, workload.name);
    });

    it("takes every secret from the Secret, and gives each container only the secrets it needs", () => {
      for (const configMap of byKind(manifests, "ConfigMap")) {
        for (const key of Object.keys(configMap.data ?? {})) assert.ok(!SECRET_VARIABLES.has(key), `${key} is not in a ConfigMap`);
      }
      assert.equal(byKind(manifests, "Secret").length, 0, "no Secret is in the manifests: the operator creates it");
      for (const workload of stack) {
        for (const container of allContainers(workload)) {
          const where = `${workload.name}/${container.name}`;
          const { fromSecret, names } = containerEnv(manifests, workload.deployment, container);
          for (const name of names.filter((n) => SECRET_VARIABLES.has(n))) {
            assert.equal(fromSecret[name], name, `${where}: ${name} comes from the Secret's key of that name`);
          }
          const needed = neededSecrets(workload);
          const given = new Set(Object.keys(fromSecret));
          for (const name of given) assert.ok(needed.has(name), `${where}: does not get ${name}, which it does not use`);
          const mainNeeds = container === workload.main ? needed : new Set([...needed].filter((n) => !n.startsWith("S3_")));
          for (const name of mainNeeds) assert.ok(given.has(name), `${where}: gets ${name}`);
        }
        if (workload.subgraph === "video") {
          assert.ok(!workload.config.storage.embedded, `${workload.name} uses the external object storage`);
          assert.equal(
            workload.config.storage.accessKey,
            SECRET_PLACEHOLDERS.S3_ACCESS_KEY,
            `${workload.name}: storage credentials from the Secret`,
          );
        }
      }
    });

    it("probes paths the code serves, on the ports the configuration gives each service", async () => {
      for (const workload of stack) {
        const where = workload.name;
        const probes = {
          startup: workload.main.startupProbe,
          liveness: workload.main.livenessProbe,
          readiness: workload.main.readinessProbe,
        };
        assert.ok(probes.startup && probes.liveness, `${where} has startup and liveness probes`);
        const port = servicePort(workload);
        if (port !== undefined) {
          assert.ok(probes.readiness, `${where} has a readiness probe`);
          for (const [kind, probe] of Object.entries(probes)) {
            assert.equal(containerPort(workload.main, probe.httpGet.port), port, `${where}: ${kind} probe on the service's port ${port}`);
          }
          assert.equal(probes.liveness.httpGet.path, "/healthz", `${where}: liveness on /healthz`);
          assert.equal(probes.readiness.httpGet.path, "/readyz", `${where}: readiness on /readyz`);
          // What platform/health.ts serves on every service port: liveness always, readiness only while ready.
          for (const probe of [probes.startup, probes.liveness]) {
            dependencyUp = false;
            assert.equal(
              (await health.inject({ method: "GET", url: probe.httpGet.path })).statusCode,
              200,
              `${where}: ${probe.httpGet.path} answers while alive`,
            );
          }
          dependencyUp = true;
          assert.equal((await health.inject({ method: "GET", url: probes.readiness.httpGet.path })).statusCode, 200, `${where}: ready`);
          dependencyUp = false;
          assert.equal((await health.inject({ method: "GET", url: probes.readiness.httpGet.path })).statusCode, 503, `${where}: not ready`);
          assert.ok(
            probes.readiness.timeoutSeconds * 1000 > READINESS_CHECK_TIMEOUT_MS,
            `${where}: readiness waits longer than its checks`,
          );
        } else {
          // A worker serves no HTTP port but its metrics and probes (server/stack.ts startWorkersService).
          assert.ok(probes.readiness, `${where}: rollouts wait until a new worker can work`);
          for (const [kind, probe] of Object.entries(probes)) {
            assert.equal(
              containerPort(workload.main, probe.httpGet.port),
              workload.config.ports.metrics,
              `${where}: ${kind} probe on METRICS_PORT`,
            );
          }
          assert.equal(probes.liveness.httpGet.path, "/healthz", `${where}: liveness on /healthz`);
          assert.equal(probes.readiness.httpGet.path, "/readyz", `${where}: readiness on /readyz`);
          const status = async (probe: Manifest) => (await fetch(new URL(probe.httpGet.path, metricsServer.url))).status;
          dependencyUp = false;
          for (const probe of [probes.startup, probes.liveness]) {
            assert.equal(await status(probe), 200, `${where}: the metrics port answers ${probe.httpGet.path} while alive`);
          }
          assert.equal(await status(probes.readiness), 503, `${where}: not ready while what it works with is down`);
          dependencyUp = true;
          assert.equal(await status(probes.readiness), 200, `${where}: ready`);
        }
      }
    });

    it("has a Service for every server on its port, and the URLs the services call name those Services", () => {
      for (const workload of stack) {
        const port = servicePort(workload);
        const services = byKind(manifests, "Service").filter((service) =>
          selects({ matchLabels: service.spec.selector }, workload.podLabels),
        );
        if (port === undefined) {
          assert.equal(services.length, 0, `${workload.name} has no Service`);
          continue;
        }
        assert.equal(services.length, 1, `${workload.name} has one Service`);
        const service = services[0];
        assert.equal(service.metadata.name, workload.name, `the Service is named ${workload.name}`);
        assert.equal(service.spec.type ?? "ClusterIP", "ClusterIP", `${workload.name}: ClusterIP`);
        const [servicePortSpec] = service.spec.ports as Manifest[];
        assert.equal(servicePortSpec.port, port, `${workload.name}: the Service listens on ${port}`);
        assert.equal(
          containerPort(workload.main, servicePortSpec.targetPort),
          port,
          `${workload.name}: the Service reaches the container's port`,
        );
        const matching = stack.filter((other) => selects({ matchLabels: service.spec.selector }, other.podLabels));
        assert.equal(matching.length, 1, `Service ${workload.name} selects only its own pods`);
      }
      const serviceAt = (url: string) => {
        const { hostname, port } = new URL(url);
        const service = named(manifests, "Service", hostname);
        assert.ok(service, `${url} names a Service`);
        assert.equal(service.spec.ports[0].port, Number(port), `${url}: the Service's port`);
        return service.metadata.name as string;
      };
      for (const workload of stack) {
        if (workload.kind === "rest-adapter")
          assert.equal(serviceAt(workload.config.gatewayUrl), "gateway", "the REST adapter calls the gateway");
        if (workload.kind === "gateway") {
          for (const [name, subgraph] of Object.entries(workload.config.subgraphs))
            assert.equal(serviceAt(subgraph.url), name, `the gateway calls ${name}`);
        }
      }
    });

    it("agrees with docker-compose.yml on image, commands, ports and variables", () => {
      assert.ok(stackContainers.length > 0, "compose has the stack's containers");
      const images = new Set(stack.flatMap((workload) => allContainers(workload).map((container) => container.image as string)));
      assert.equal(images.size, 1, `one image for every container (${[...images].join(", ")})`);
      const [image] = images;
      assert.equal(imageName(image!), "douyin-supergraph", "the compose image");
      // The base names it as compose does; kustomize's `images` gives it a registry and a tag.
      if (options.built) assert.ok(!/:latest$/.test(image!) && /:[^/]+$/.test(image!), `${image} has a pinned tag`);
      else assert.equal(image, "douyin-supergraph", "the base names the image as compose does");
      for (const [name, service] of stackContainers) {
        const command = service.command ?? [];
        if (command[1] === "dist/server/migrate.js") {
          // The one-off migrate container is, here, an init container of every pod using a database.
          for (const workload of stack.filter((w) => w.subgraph)) {
            const migrate = ((workload.deployment.spec.template.spec.initContainers ?? []) as Manifest[]).find((c) => c.name === "migrate");
            assert.ok(migrate, `${workload.name} migrates its database before it starts`);
            assert.deepEqual(
              migrate.command,
              [...command, workload.subgraph],
              `${workload.name}: compose's migrate command, for ${workload.subgraph}`,
            );
            assert.ok(fs.existsSync(path.join(projectRoot, command[1])), "the migrate script exists after the build");
          }
          continue;
        }
        const workload = stack.find((w) => w.name === name);
        assert.ok(workload, `compose's ${name} has a Deployment`);
        assert.deepEqual(workload.main.command, command, `${name}: the command of compose`);
        for (const [key, value] of Object.entries(service.environment ?? {})) {
          if (SECRET_VARIABLES.has(key)) {
            if (neededSecrets(workload).has(key)) assert.ok(workload.mainEnv.fromSecret[key], `${name}: ${key} from the Secret`);
            continue;
          }
          if (OPTIONAL_IN_CLUSTER.has(key)) continue;
          assert.ok(key in workload.mainEnv.env, `${name}: ${key} is set as in compose`);
          if (!EXTERNAL_ENDPOINTS.has(key)) assert.equal(workload.mainEnv.env[key], composeValue(value), `${name}: ${key} as in compose`);
        }
        const published = service.ports?.[0]?.split(":").pop();
        if (published) assert.equal(servicePort(workload), Number(published), `${name}: the port compose publishes`);
      }
      for (const workload of stack) assert.ok(compose.services[workload.name], `${workload.name} is also a compose service`);
    });

    it("lets subgraphs hear only the gateway, workers only Prometheus, and Prometheus scrape every pod", () => {
      const gateway = stack.find((w) => w.kind === "gateway")!;
      const rest = stack.find((w) => w.kind === "rest-adapter")!;
      const stranger = inNamespace({ app: "something-else" });
      for (const workload of stack) {
        const metrics = workload.config.ports.metrics;
        const annotations = workload.deployment.spec.template.metadata.annotations ?? {};
        assert.equal(annotations["prometheus.io/scrape"], "true", `${workload.name} is scraped`);
        assert.equal(annotations["prometheus.io/port"], String(metrics), `${workload.name}: scraped on METRICS_PORT`);
        assert.equal(annotations["prometheus.io/path"], "/metrics", `${workload.name}: scraped on /metrics`);
        assert.equal(containerPort(workload.main, "metrics"), metrics, `${workload.name}: declares METRICS_PORT`);
        assert.ok(ingressAllowed(manifests, workload, PROMETHEUS, metrics), `${workload.name}: Prometheus scrapes it`);
        for (const peer of [stranger, ELSEWHERE, inNamespace(gateway.podLabels)]) {
          assert.ok(!ingressAllowed(manifests, workload, peer, metrics), `${workload.name}: metrics only for Prometheus`);
        }
        const port = servicePort(workload);
        if (workload.kind === "subgraph") {
          assert.ok(ingressAllowed(manifests, workload, inNamespace(gateway.podLabels), port!), `${workload.name}: the gateway calls it`);
          for (const peer of [inNamespace(rest.podLabels), stranger, ELSEWHERE, PROMETHEUS]) {
            assert.ok(!ingressAllowed(manifests, workload, peer, port!), `${workload.name}: nobody else calls it`);
          }
        } else if (port !== undefined) {
          for (const peer of [stranger, ELSEWHERE, inNamespace(rest.podLabels)]) {
            assert.ok(ingressAllowed(manifests, workload, peer, port), `${workload.name}: an edge takes clients`);
          }
        }
      }
    });

    it("runs as a non-root user without capabilities on a read-only root, with a writable MEDIA_TMP_DIR", () => {
      const namespace = named(manifests, "Namespace", NAMESPACE);
      assert.equal(
        namespace?.metadata.labels?.["pod-security.kubernetes.io/enforce"],
        "restricted",
        "the namespace enforces the restricted profile",
      );
      for (const workload of stack) {
        const pod = workload.deployment.spec.template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${workload.name}: runAsNonRoot`);
        assert.ok(
          Number.isInteger(pod.securityContext?.runAsUser) && pod.securityContext.runAsUser > 0,
          `${workload.name}: a numeric non-root user`,
        );
        assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault", `${workload.name}: seccomp`);
        assert.equal(pod.automountServiceAccountToken, false, `${workload.name}: no API token (it never calls the API)`);
        const emptyDirs = new Set(((pod.volumes ?? []) as Manifest[]).filter((volume) => volume.emptyDir).map((volume) => volume.name));
        for (const container of allContainers(workload)) {
          const where = `${workload.name}/${container.name}`;
          const security = container.securityContext ?? {};
          assert.equal(security.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
          assert.equal(security.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`);
          assert.deepEqual(security.capabilities?.drop, ["ALL"], `${where}: drops every capability`);
          const config = loadConfig(containerEnv(manifests, workload.deployment, container).env);
          const writable = ((container.volumeMounts ?? []) as Manifest[])
            .filter((mount) => emptyDirs.has(mount.name))
            .map((mount) => mount.mountPath);
          assert.ok(writable.includes(config.media.tmpDir), `${where}: MEDIA_TMP_DIR (${config.media.tmpDir}) is a writable emptyDir`);
        }
      }
    });

    it("sizes every container from the measurements", () => {
      for (const workload of stack) {
        for (const container of allContainers(workload)) {
          const where = `${workload.name}/${container.name}`;
          const { requests, limits } = container.resources ?? {};
          assert.ok(requests?.cpu && requests?.memory && limits?.cpu && limits?.memory, `${where}: cpu and memory requests and limits`);
          assert.ok(cpuCores(requests.cpu) <= cpuCores(limits.cpu), `${where}: cpu request within the limit`);
          assert.ok(memoryMiB(requests.memory) <= memoryMiB(limits.memory), `${where}: memory request within the limit`);
          const measured = MEASURED_MIB[container === workload.main ? workload.name : container.name];
          assert.ok(measured, `${where} was measured`);
          assert.ok(memoryMiB(requests.memory) >= measured.idle, `${where}: requests at least the measured idle ${measured.idle} MiB`);
          assert.ok(
            memoryMiB(limits.memory) >= measured.peak * 1.5,
            `${where}: a limit half again over the measured peak ${measured.peak} MiB`,
          );
        }
        if (workload.kind === "subgraph" && workload.subgraph === "video") {
          const uploads = (2 * UPLOAD_MEMORY_FACTOR * workload.config.media.maxUploadBytes) / 2 ** 20;
          const limit = memoryMiB(workload.main.resources.limits.memory);
          assert.ok(
            limit >= MEASURED_MIB.video!.peak + uploads,
            `video: room for two concurrent largest uploads (${Math.round(uploads)} MiB)`,
          );
        }
      }
    });

    it("drains before it is killed, and leaves endpoints before it drains", () => {
      for (const workload of stack) {
        const pod = workload.deployment.spec.template.spec;
        const grace = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
        const preStop = workload.main.lifecycle?.preStop;
        let pause = 0;
        if (servicePort(workload) !== undefined) {
          assert.equal(preStop?.exec?.command?.[0], "sleep", `${workload.name}: a preStop pause so endpoints go before the drain`);
          pause = Number(preStop.exec.command[1]) * 1000;
          assert.ok(pause > 0 && pause <= 10_000, `${workload.name}: a short pause`);
        }
        assert.ok(
          grace > pause + workload.config.shutdownTimeoutMs,
          `${workload.name}: grace ${grace} ms > pause ${pause} + SHUTDOWN_TIMEOUT_MS ${workload.config.shutdownTimeoutMs}`,
        );
        const rolling = workload.deployment.spec.strategy?.rollingUpdate;
        assert.equal(rolling?.maxUnavailable, 0, `${workload.name}: a rollout keeps every replica until its successor is ready`);
      }
    });

    it("autoscales and budgets disruptions for every Deployment it names, within the id-generator's worker ids", () => {
      const hpas = byKind(manifests, "HorizontalPodAutoscaler");
      for (const hpa of hpas) {
        assert.equal(hpa.spec.scaleTargetRef.kind, "Deployment");
        assert.ok(
          named(manifests, "Deployment", hpa.spec.scaleTargetRef.name),
          `HPA ${hpa.metadata.name} scales a Deployment of the stack`,
        );
        assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas, `HPA ${hpa.metadata.name}: 1 <= min <= max`);
        assert.ok(
          (hpa.spec.metrics as Manifest[]).some((metric) => metric.resource?.name === "cpu"),
          `HPA ${hpa.metadata.name} scales on CPU (the containers request it)`,
        );
      }
      const hpaOf = (workload: Workload) => hpas.find((hpa) => hpa.spec.scaleTargetRef.name === workload.name);
      for (const workload of stack) {
        const budgets = byKind(manifests, "PodDisruptionBudget").filter((pdb) => selects(pdb.spec.selector, workload.podLabels));
        assert.equal(budgets.length, 1, `${workload.name} has one PodDisruptionBudget`);
        const budget = budgets[0];
        const replicas = workload.deployment.spec.replicas ?? 1;
        assert.ok(budget.spec.maxUnavailable >= 1 || budget.spec.minAvailable < replicas, `${workload.name}: its budget lets a node drain`);
        assert.equal(
          stack.filter((other) => selects(budget.spec.selector, other.podLabels)).length,
          1,
          `${workload.name}: its budget is its own`,
        );
      }
      // Every process of a subgraph, its workers or the gateway leases a worker id (server/runtime.ts); the REST adapter does not.
      const leases = stack
        .filter((workload) => workload.kind !== "rest-adapter")
        .reduce((sum, workload) => {
          const most = hpaOf(workload)?.spec.maxReplicas ?? workload.deployment.spec.replicas ?? 1;
          return sum + most + Number(workload.deployment.spec.strategy?.rollingUpdate?.maxSurge ?? 1);
        }, 0);
      assert.ok(leases <= 2 ** WORKER_BITS, `at most ${2 ** WORKER_BITS} processes lease worker ids at once (${leases})`);
    });
  });
}

// ---------------------------------------------------------------------------------------------

describe("Kubernetes manifests", () => {
  it("are laid out as kustomize base and overlays, with every file they name", () => {
    for (const dir of ["base", ...OVERLAYS.map((overlay) => `overlays/${overlay}`)]) {
      const kustomization = readKustomization(path.join(K8S, dir));
      const files = [
        ...((kustomization.resources ?? []) as string[]),
        ...((kustomization.patches ?? []) as Manifest[]).flatMap((p) => p.path ?? []),
      ];
      for (const file of files) assert.ok(fs.existsSync(path.join(K8S, dir, file)), `${dir}: ${file} exists`);
    }
    const base = readKustomization(path.join(K8S, "base"));
    assert.equal(base.namespace, NAMESPACE);
    assert.deepEqual(
      (base.images as Manifest[]).map((image) => image.name),
      ["douyin-supergraph"],
      "the base sets the one image through kustomize's images",
    );
  });

  it("keep the overlays' patches on resources of the base, each valid YAML", () => {
    const base = baseManifests();
    for (const overlay of OVERLAYS) {
      const dir = path.join(K8S, "overlays", overlay);
      const kustomization = readKustomization(dir);
      for (const entry of (kustomization.replicas ?? []) as Manifest[]) {
        assert.ok(named(base, "Deployment", entry.name), `${overlay}: replicas of Deployment ${entry.name}`);
      }
      for (const patch of (kustomization.patches ?? []) as Manifest[]) {
        const documents = patch.path ? readDocuments(path.join(dir, patch.path)) : parseDocuments(patch.patch, `${overlay} inline patch`);
        for (const document of documents) {
          if (patch.target) {
            assert.ok(byKind(base, patch.target.kind).length > 0, `${overlay}: a patch targets ${patch.target.kind} of the base`);
            continue;
          }
          assert.ok(
            named(base, document.kind, document.metadata.name),
            `${overlay}: patches ${document.kind}/${document.metadata.name} of the base`,
          );
          assert.ok(
            modelClass(document.apiVersion, document.kind),
            `${overlay}: ${document.apiVersion} ${document.kind} is a Kubernetes kind`,
          );
        }
      }
    }
  });

  it("leave every secret to the operator, and the guide's command creates every key the Deployments read", () => {
    const guide = fs.readFileSync(path.join(K8S, "README.md"), "utf8");
    const created = new Set([...guide.matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((match) => match[1]));
    const referenced = new Set(
      baseManifests()
        .filter((manifest) => manifest.kind === "Deployment")
        .flatMap((deployment) => [...(deployment.spec.template.spec.initContainers ?? []), ...deployment.spec.template.spec.containers])
        .flatMap((container: Manifest) => (container.env ?? []) as Manifest[])
        .flatMap((variable) => variable.valueFrom?.secretKeyRef?.key ?? []),
    );
    assert.deepEqual([...referenced].sort(), [...SECRET_VARIABLES].sort(), "the Deployments read every documented secret");
    assert.deepEqual([...created].sort(), [...referenced].sort(), "deploy/kubernetes/README.md creates exactly those keys");
    for (const file of fs.readdirSync(K8S, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml"))) {
      const text = fs.readFileSync(path.join(K8S, file), "utf8");
      assert.ok(!/^kind:\s*Secret\s*$/m.test(text), `${file} holds no Secret`);
      assert.ok(!/postgres(ql)?:\/\/[^\s"]*:[^\s"@]*@/.test(text), `${file} holds no database password`);
    }
  });

  checkStack("base", baseManifests, { built: false });
  for (const overlay of OVERLAYS)
    checkStack(`overlays/${overlay} (kubectl kustomize)`, () => kustomize(overlay), { skip: kubectl ? false : NO_KUBECTL, built: true });

  it(
    "production runs at least two replicas of every service, and autoscales each server from two",
    { skip: kubectl ? false : NO_KUBECTL },
    () => {
      const manifests = kustomize("production");
      const hpas = byKind(manifests, "HorizontalPodAutoscaler");
      for (const workload of workloads(manifests)) {
        assert.ok(workload.deployment.spec.replicas >= 2, `${workload.name}: ${workload.deployment.spec.replicas} replicas`);
        const hpa = hpas.find((candidate) => candidate.spec.scaleTargetRef.name === workload.name);
        if (servicePort(workload) !== undefined) assert.ok(hpa, `${workload.name} is autoscaled`);
        if (hpa) assert.ok(hpa.spec.minReplicas >= 2, `${workload.name}: minReplicas ${hpa.spec.minReplicas}`);
      }
    },
  );

  it("small runs one replica of every service", { skip: kubectl ? false : NO_KUBECTL }, () => {
    for (const workload of workloads(kustomize("small"))) assert.equal(workload.deployment.spec.replicas, 1, workload.name);
  });
});
