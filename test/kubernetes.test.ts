// The Kubernetes manifests (deploy/kubernetes) cannot be applied here (no cluster), so they are
// checked by reading, against the code they run. Two shapes share a base: cells (the
// co-located process, `main.js` with no argument, every subgraph, the gateway and the REST
// adapter in one pod; workers apart) and split (one Deployment per service of stackServices()).
// Every manifest validates against the Kubernetes schemas (kubernetes-models); each
// Deployment's environment, built as the kubelet would build it, passes the production
// configuration (loadConfig) with nothing but known variables; probes ask paths that the code
// serves on the ports the configuration gives; images, commands, ports and variables agree
// with docker-compose.yml; each shape deploys every service of the stack, in a cell or a
// Deployment of its own; network policies (ingress and egress), resources, replicas and
// shutdown times agree with what the code needs. Each shape is read file by file (base and
// component); the overlays are built with `kubectl kustomize` where kubectl exists, and their
// patches checked otherwise.
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
import type { KnownSubgraph } from "../framework/subgraph";
import { KNOWN_SUBGRAPHS } from "../subgraphs";
import { compose, composeEnvironment, composeValue, stackContainers } from "./compose";
import { needsOf, stackServices, workersInSubgraphProcess, type ProcessKind, type ServiceSpec } from "../server/stack";

/** A manifest as parsed from YAML: loosely shaped (tests may use `any`). */
type Manifest = any;

const K8S = path.join(projectRoot, "deploy", "kubernetes");
/** The shapes, each a kustomize Component over the base (components/<shape>). */
const SHAPES = ["cells", "split"] as const;
type Shape = (typeof SHAPES)[number];
/** Every overlay, and the shape it deploys (the layout test fails on an overlay missing here). */
const OVERLAY_SHAPES = { small: "cells", production: "cells", "production-split": "split" } as const satisfies Record<string, Shape>;
const OVERLAYS = Object.keys(OVERLAY_SHAPES) as (keyof typeof OVERLAY_SHAPES)[];
/** The cell: the co-located process (server/main.ts without an argument, startColocated in server/stack.ts). */
const CELL = "cell";
const CELL_COMMAND = ["node", "dist/server/main.js"];
const NAMESPACE = "douyin";
const SECRET_NAME = "douyin-secrets";

/** What the Secret holds (deploy/kubernetes/README.md creates it), with stand-ins shaped like real values. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  JWT_SECRET: "j".repeat(48),
  INTERNAL_SECRET: "i".repeat(32),
  EDGE_SECRET: "e".repeat(32),
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
  cell: { idle: 255, peak: 608 },
  "user-workers": { idle: 179, peak: 179 },
  "rest-adapter": { idle: 119, peak: 198 },
  gateway: { idle: 119, peak: 383 },
  user: { idle: 182, peak: 278 },
  video: { idle: 195, peak: 245 },
  relation: { idle: 197, peak: 208 },
  "video-workers": { idle: 195, peak: 197 },
  "relation-workers": { idle: 181, peak: 172 },
  // One subgraph 75; the cell's, every database in turn, 80.
  migrate: { idle: 80, peak: 80 },
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

function readKustomization(dir: string, kind: "Kustomization" | "Component" = "Kustomization"): Manifest {
  const [kustomization] = readDocuments(path.join(dir, "kustomization.yaml"));
  assert.equal(kustomization.kind, kind, `${path.relative(K8S, dir)} has a kustomization.yaml of kind ${kind}`);
  return kustomization;
}

/** A kustomization's resources as its files hold them (namespace and labels are added by kustomize). */
function resourcesOf(dir: string, kind: "Kustomization" | "Component"): Manifest[] {
  return (readKustomization(dir, kind).resources as string[]).flatMap((file) => readDocuments(path.join(dir, file)));
}

const baseManifests = () => resourcesOf(path.join(K8S, "base"), "Kustomization");
const componentManifests = (shape: Shape) => resourcesOf(path.join(K8S, "components", shape), "Component");
/**
 * A shape as kustomize builds it from the base and its component, but for namespace and labels:
 * components only add resources (the layout test checks it), so their files are what is built.
 */
const shapeManifests = (shape: Shape) => [...baseManifests(), ...componentManifests(shape)];

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

/** What a Deployment runs: a service of stackServices(), or a cell (every subgraph, the gateway and the REST adapter). */
interface Workload {
  deployment: Manifest;
  name: string;
  kind: ProcessKind;
  /** Its service of stackServices(); a cell runs several (every one but workers and storage). */
  spec?: ServiceSpec;
  /** The subgraphs its process runs: a subgraph's server or workers its own, a cell every one. */
  hosted: readonly KnownSubgraph[];
  /** The command that runs it through the one entry point (server/main.ts). */
  command: string[];
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
    assert.ok(
      spec || name === CELL,
      `Deployment ${name} runs a service of the stack (${SPECS.map((s) => s.name).join(", ")}) or is the ${CELL} (the co-located process)`,
    );
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
      kind: spec?.kind ?? "cell",
      spec,
      hosted: spec ? (spec.subgraph ? [spec.subgraph] : []) : KNOWN_SUBGRAPHS,
      command: spec ? [...CELL_COMMAND, name] : CELL_COMMAND,
      main,
      mainEnv,
      config,
      podLabels: deployment.spec.template.metadata.labels,
    };
  });
}

const hostedNames = (workload: Workload) => workload.hosted.map((known) => known.entry.name);

const allContainers = (workload: Workload): Manifest[] => [
  ...((workload.deployment.spec.template.spec.initContainers ?? []) as Manifest[]),
  workload.main,
];

/** The container port a probe, Service or network policy names (by name or number). */
function containerPort(container: Manifest, port: string | number): number | undefined {
  const ports = (container.ports ?? []) as Manifest[];
  return typeof port === "number"
    ? ports.find((p) => p.containerPort === port)?.containerPort
    : ports.find((p) => p.name === port)?.containerPort;
}

/**
 * The HTTP doors the code serves, from the configuration this Deployment gets: Service name ->
 * port. A cell serves both edges' (REST_PORT and GATEWAY_PORT), under the edges' Service names.
 */
function doorsOf(workload: Workload): Record<string, number> {
  const { ports, subgraphs } = workload.config;
  switch (workload.kind) {
    case "rest-adapter":
      return { "rest-adapter": ports.rest };
    case "gateway":
      return { gateway: ports.gateway };
    case "subgraph":
      return { [workload.name]: subgraphs[workload.name]!.port };
    case "cell":
      return { "rest-adapter": ports.rest, gateway: ports.gateway };
    default:
      return {};
  }
}

/** The port its probes ask (its one HTTP port; a cell's REST door, whose checks are the process's), or none for workers. */
function servicePort(workload: Workload): number | undefined {
  return workload.kind === "cell" ? workload.config.ports.rest : Object.values(doorsOf(workload))[0];
}

/** The variables naming the other pods its process calls (a cell calls none: its gateway reaches the subgraphs in-process). */
function peerUrlVariables(workload: Workload): string[] {
  if (workload.kind === "rest-adapter") return ["GATEWAY_URL"];
  if (workload.kind === "gateway") return SUBGRAPH_NAMES.map((name) => `${name.toUpperCase()}_SUBGRAPH_URL`);
  return [];
}
/** The URLs it calls other pods at, as its configuration reads them. */
function peerUrls(workload: Workload): string[] {
  if (workload.kind === "rest-adapter") return [workload.config.gatewayUrl];
  if (workload.kind === "gateway") return Object.values(workload.config.subgraphs).map((subgraph) => subgraph.url);
  return [];
}
/** Every variable that names a peer: compose sets them in every container, a pod only where it calls them. */
const PEER_URL_VARIABLES = new Set(["GATEWAY_URL", ...SUBGRAPH_NAMES.map((name) => `${name.toUpperCase()}_SUBGRAPH_URL`)]);

/** Whether its process opens Redis (server/runtime.ts openPlatform): every one but the split REST adapter. */
const usesRedis = (workload: Workload) => workload.kind !== "rest-adapter";

/**
 * Secrets a container of this workload needs, and no more: its subgraphs' databases; for the main
 * container also the secrets its process uses (production refuses it without them) and storage
 * credentials where it keeps files. A migration (an init container) needs only its databases.
 */
function neededSecrets(workload: Workload, container: Manifest): Set<string> {
  const needs = needsOf(workload.kind, workload.hosted);
  const needed = new Set(needs.databases.map((name) => `${name.toUpperCase()}_DATABASE_URL`));
  if (container !== workload.main) return needed;
  for (const secret of needs.secrets) needed.add(secret);
  if (needs.objectStorage) ["S3_ACCESS_KEY", "S3_SECRET_KEY"].forEach((key) => needed.add(key));
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
// Network policies, evaluated as the API describes them

interface Peer {
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
}

/** Where a connection goes: a pod (with the container whose named ports a rule may name), or an address outside the cluster. */
type Destination = { peer: Peer; container?: Manifest } | { ip: string };

/** The policy types a policy has: as given, or Ingress, plus Egress when it has egress rules (the API's default). */
const policyTypesOf = (policy: Manifest): string[] => policy.spec.policyTypes ?? ["Ingress", ...(policy.spec.egress ? ["Egress"] : [])];

/** The policies of the namespace of `type` that select pods labelled `labels`. */
const policiesFor = (manifests: Manifest[], type: "Ingress" | "Egress", labels: Record<string, string>) =>
  byKind(manifests, "NetworkPolicy").filter(
    (policy) =>
      policyTypesOf(policy).includes(type) &&
      (policy.metadata.namespace ?? NAMESPACE) === NAMESPACE &&
      selects(policy.spec.podSelector, labels),
  );

/** Whether a rule's ports admit `port`/`protocol`; a named port is the one of `container` (the pod the connection goes to). */
function portsAdmit(rulePorts: Manifest[] | undefined, port: number, protocol: string, container: Manifest | undefined): boolean {
  const ports = rulePorts ?? [];
  return (
    ports.length === 0 ||
    ports.some((p) => {
      if ((p.protocol ?? "TCP") !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === "string") return container !== undefined && containerPort(container, p.port) === port;
      return p.endPort === undefined ? p.port === port : p.port <= port && port <= p.endPort;
    })
  );
}

/** Whether a rule's peer (from or to) is `peer`, for a policy of the stack's namespace. */
function peerMatches(rulePeer: Manifest, peer: Peer): boolean {
  if (rulePeer.ipBlock) return false;
  const namespaceOk = rulePeer.namespaceSelector ? selects(rulePeer.namespaceSelector, peer.namespaceLabels) : peer.namespace === NAMESPACE;
  return namespaceOk && (rulePeer.podSelector ? selects(rulePeer.podSelector, peer.labels) : true);
}

/** IPv4 `address` within `cidr`. */
function inCidr(cidr: string, address: string): boolean {
  const number = (ip: string) => ip.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits ?? 32));
  return Math.floor(number(address) / size) === Math.floor(number(base!) / size);
}

function ingressAllowed(manifests: Manifest[], target: Workload, source: Peer, port: number, protocol = "TCP"): boolean {
  const policies = policiesFor(manifests, "Ingress", target.podLabels);
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    ((policy.spec.ingress ?? []) as Manifest[]).some((rule) => {
      const from = (rule.from ?? []) as Manifest[];
      return portsAdmit(rule.ports, port, protocol, target.main) && (from.length === 0 || from.some((peer) => peerMatches(peer, source)));
    }),
  );
}

function egressAllowed(manifests: Manifest[], source: Workload, destination: Destination, port: number, protocol = "TCP"): boolean {
  const policies = policiesFor(manifests, "Egress", source.podLabels);
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    ((policy.spec.egress ?? []) as Manifest[]).some((rule) => {
      const to = (rule.to ?? []) as Manifest[];
      const container = "peer" in destination ? destination.container : undefined;
      const peerOk =
        to.length === 0 ||
        to.some((peer) =>
          "ip" in destination
            ? peer.ipBlock !== undefined &&
              inCidr(peer.ipBlock.cidr, destination.ip) &&
              !((peer.ipBlock.except ?? []) as string[]).some((except) => inCidr(except, destination.ip))
            : peerMatches(peer, destination.peer),
        );
      return peerOk && portsAdmit(rule.ports, port, protocol, container);
    }),
  );
}

const inNamespace = (labels: Record<string, string>): Peer => ({
  namespace: NAMESPACE,
  namespaceLabels: { "kubernetes.io/metadata.name": NAMESPACE },
  labels,
});
const elsewhere = (namespace: string, labels: Record<string, string>): Peer => ({
  namespace,
  namespaceLabels: { "kubernetes.io/metadata.name": namespace },
  labels,
});
const PROMETHEUS = elsewhere("monitoring", { "app.kubernetes.io/name": "prometheus" });
const ELSEWHERE = elsewhere("other", { app: "other" });
const KUBE_DNS = elsewhere("kube-system", { "k8s-app": "kube-dns" });
/** An address on the Internet (TEST-NET-3). */
const INTERNET = { ip: "203.0.113.7" };
/**
 * The data stores as base/network-policies.yaml's placeholders name them (deploy/kubernetes/README.md
 * tells the operator to edit them): CloudNativePG clusters in `databases` (README step 3), Redis
 * in `redis`, MinIO in `minio`, an OpenTelemetry Collector in `observability` (commented).
 */
const POSTGRESQL = Object.fromEntries(
  SUBGRAPH_NAMES.map((name) => [name, elsewhere("databases", { "cnpg.io/cluster": `douyin-${name}`, "cnpg.io/instanceRole": "primary" })]),
);
const REDIS = elsewhere("redis", { "app.kubernetes.io/name": "redis" });
const OBJECT_STORAGE = elsewhere("minio", { "app.kubernetes.io/name": "minio" });
const OTLP_COLLECTOR = elsewhere("observability", { "app.kubernetes.io/name": "opentelemetry-collector" });
const STORE_PORTS = { postgresql: 5432, redis: 6379, objectStorage: 9000, otlp: 4318 };

/** The commented `egress-otlp` policy of base/network-policies.yaml, uncommented. */
function commentedOtlpPolicy(): Manifest {
  const text = fs.readFileSync(path.join(K8S, "base", "network-policies.yaml"), "utf8");
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line === "# apiVersion: networking.k8s.io/v1");
  assert.ok(start >= 0, "base/network-policies.yaml holds the commented egress-otlp policy");
  const block = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith("#")) break;
    block.push(line.replace(/^# ?/, ""));
  }
  const [policy] = parseDocuments(block.join("\n"), "the commented egress-otlp policy");
  assert.equal(policy.metadata.name, "egress-otlp");
  validateAgainstSchema(policy, "the commented egress-otlp policy");
  return policy;
}

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

/** Whether compose's container of `known` runs its workers itself (so compose has no `<name>-workers`). */
function composeRunsWorkersInside(known: KnownSubgraph): boolean {
  const service = compose.services[known.entry.name];
  return service !== undefined && workersInSubgraphProcess(loadConfig(composeEnvironment(service.environment ?? {})), known);
}

/** The Deployments a shape has: a cell, or a server per service; workers apart where the servers leave them. */
function expectedDeployments(shape: Shape, stack: Workload[]): string[] {
  const servers = stack.filter((workload) => workload.kind !== "workers");
  return SPECS.flatMap((spec) => {
    if (spec.kind === "storage") return [];
    if (spec.kind === "workers") {
      // Workers run apart exactly when the process that serves their subgraph does not run them.
      const server = servers.find((workload) => workload.hosted.includes(spec.subgraph!));
      assert.ok(server, `${spec.subgraph!.entry.name} is served (by ${shape === "cells" ? "the cell" : "its Deployment"})`);
      return workersInSubgraphProcess(server.config, spec.subgraph!) ? [] : [spec.name];
    }
    return shape === "split" ? [spec.name] : [];
  }).concat(shape === "cells" ? [CELL] : []);
}

// ---------------------------------------------------------------------------------------------
// The checks every stack passes: each shape as written and each overlay as built

function checkStack(label: string, load: () => Manifest[], options: { skip?: string | false; built: boolean; shape: Shape }): void {
  const { shape } = options;
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
          assert.equal(
            manifest.metadata.labels?.["app.kubernetes.io/part-of"],
            "douyin-supergraph",
            `${manifest.kind}/${manifest.metadata.name} is labelled part of the stack`,
          );
        }
      }
    });

    it(`deploys the ${shape} shape: every service of the stack, each through the one entry point`, () => {
      for (const workload of stack) {
        assert.ok(!workload.config.storage.embedded, `${workload.name}: object storage is external (S3_ENDPOINT), not the embedded one`);
        assert.deepEqual(workload.main.command, workload.command, `${workload.name} runs ${workload.command.slice(1).join(" ")}`);
        assert.equal(workload.main.args, undefined, `${workload.name}: no args after the command`);
      }
      assert.deepEqual(
        stack.map((workload) => workload.name).sort(),
        expectedDeployments(shape, stack).sort(),
        shape === "cells"
          ? "a cell runs the REST adapter, the gateway and every subgraph; each subgraph's workers have a Deployment"
          : "a Deployment per service; workers apart where their subgraph leaves them",
      );
      if (shape === "cells") {
        const cell = stack.find((workload) => workload.kind === "cell")!;
        assert.equal(cell.config.workersInProcess, false, "a cell leaves every subgraph's workers to their Deployments");
        assert.deepEqual(hostedNames(cell), [...SUBGRAPH_NAMES], "a cell serves every subgraph");
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
          for (const name of needsOf(workload.kind, workload.hosted).databases) {
            assert.equal(config!.subgraphs[name]!.database.kind, "postgres", `${where}: ${name} has its PostgreSQL database`);
          }
          // What production refuses at start (a development stand-in the process would use).
          if (container === workload.main) {
            assert.doesNotThrow(
              () => refuseDevelopmentParts(config!, needsOf(workload.kind, workload.hosted)),
              `${where}: production accepts its parts`,
            );
          }
        }
      }
    });

    it("would not load with Kubernetes' service links in the environment, so every pod turns them off", () => {
      // e.g. GATEWAY_PORT=tcp://10.0.0.1:4000 from the Service `gateway`, where GATEWAY_PORT is a port number.
      for (const workload of stack) {
        assert.throws(
          () => loadConfig({ ...serviceLinkVariables(manifests), ...workload.mainEnv.env }),
          /(USER|VIDEO|RELATION|GATEWAY)_PORT/,
          `${workload.name} with service links`,
        );
        assert.equal(workload.deployment.spec.template.spec.enableServiceLinks, false, workload.name);
      }
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
          const needed = neededSecrets(workload, container);
          const given = new Set(Object.keys(fromSecret));
          for (const name of given) assert.ok(needed.has(name), `${where}: does not get ${name}, which it does not use`);
          for (const name of needed) assert.ok(given.has(name), `${where}: gets ${name}`);
        }
        if (needsOf(workload.kind, workload.hosted).objectStorage) {
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

    it("has a Service for every door on its port, the edges' under their names, and the URLs the services call name those Services", () => {
      for (const workload of stack) {
        const doors = doorsOf(workload);
        const services = byKind(manifests, "Service").filter((service) =>
          selects({ matchLabels: service.spec.selector }, workload.podLabels),
        );
        assert.deepEqual(
          services.map((service) => service.metadata.name as string).sort(),
          Object.keys(doors).sort(),
          `${workload.name}: a Service for each of its doors (${Object.keys(doors).join(", ") || "none"})`,
        );
        for (const service of services) {
          const name = service.metadata.name as string;
          assert.equal(service.spec.type ?? "ClusterIP", "ClusterIP", `${name}: ClusterIP`);
          const [servicePortSpec] = service.spec.ports as Manifest[];
          assert.equal(servicePortSpec.port, doors[name], `${name}: the Service listens on ${doors[name]}`);
          assert.equal(
            containerPort(workload.main, servicePortSpec.targetPort),
            doors[name],
            `${name}: the Service reaches ${workload.name}'s door ${doors[name]}`,
          );
          const matching = stack.filter((other) => selects({ matchLabels: service.spec.selector }, other.podLabels));
          assert.equal(matching.length, 1, `Service ${name} selects only ${workload.name}'s pods`);
        }
      }
      // Clients, Ingresses and the README's `kubectl port-forward` find the edges by these names in both shapes.
      const defaults = loadConfig({}).ports;
      assert.equal(named(manifests, "Service", "rest-adapter")?.spec.ports[0].port, defaults.rest, "the Service rest-adapter on 8080");
      assert.equal(named(manifests, "Service", "gateway")?.spec.ports[0].port, defaults.gateway, "the Service gateway on 4000");
      for (const workload of stack) {
        for (const url of peerUrls(workload)) {
          const { hostname, port } = new URL(url);
          const service = named(manifests, "Service", hostname);
          assert.ok(service, `${workload.name} calls ${url}, which names a Service`);
          assert.equal(service.spec.ports[0].port, Number(port), `${url}: the Service's port`);
        }
      }
      const rest = stack.find((workload) => workload.kind === "rest-adapter");
      if (rest) assert.equal(new URL(rest.config.gatewayUrl).hostname, "gateway", "the REST adapter calls the gateway");
      const gateway = stack.find((workload) => workload.kind === "gateway");
      if (gateway) {
        for (const [name, subgraph] of Object.entries(gateway.config.subgraphs))
          assert.equal(new URL(subgraph.url).hostname, name, `the gateway calls ${name}`);
      }
    });

    it("agrees with docker-compose.yml on image, commands, ports and variables", () => {
      assert.ok(stackContainers.length > 0, "compose has the stack's containers");
      const images = new Set(stack.flatMap((workload) => allContainers(workload).map((container) => container.image as string)));
      assert.equal(images.size, 1, `one image for every container (${[...images].join(", ")})`);
      const [image] = images;
      assert.equal(imageName(image!), "douyin-supergraph", "the compose image");
      // The files name it as compose does; kustomize's `images` gives it a registry and a tag.
      if (options.built) assert.ok(!/:latest$/.test(image!) && /:[^/]+$/.test(image!), `${image} has a pinned tag`);
      else assert.equal(image, "douyin-supergraph", "the files name the image as compose does");
      const cell = stack.find((workload) => workload.kind === "cell");
      for (const [name, service] of stackContainers) {
        const command = service.command ?? [];
        if (command[1] === "dist/server/migrate.js") {
          // The one-off migrate container is, here, an init container of every pod using a database.
          for (const workload of stack.filter((w) => needsOf(w.kind, w.hosted).databases.length > 0)) {
            const migrate = ((workload.deployment.spec.template.spec.initContainers ?? []) as Manifest[]).find((c) => c.name === "migrate");
            assert.ok(migrate, `${workload.name} migrates its databases before it starts`);
            // Compose's command migrates every database; a single subgraph's pod names its own.
            const expected = workload.kind === "cell" ? command : [...command, ...hostedNames(workload)];
            assert.deepEqual(
              migrate.command,
              expected,
              `${workload.name}: compose's migrate command, for ${hostedNames(workload).join(", ")}`,
            );
            assert.ok(fs.existsSync(path.join(projectRoot, command[1])), "the migrate script exists after the build");
          }
          continue;
        }
        const spec = SPECS.find((candidate) => candidate.name === name);
        assert.ok(spec, `compose's ${name} is a service of the stack`);
        assert.deepEqual(command, [...CELL_COMMAND, name], `compose's ${name} runs main.js ${name}`);
        // In the cells shape, compose's servers are the cell's parts (its workers have Deployments of their own).
        const workload = stack.find((w) => w.name === name) ?? (spec.kind !== "workers" ? cell : undefined);
        assert.ok(workload, `compose's ${name} has a Deployment${cell ? " or runs in the cell" : ""}`);
        if (workload !== cell) assert.deepEqual(workload.main.command, command, `${name}: the command of compose`);
        for (const [key, value] of Object.entries(service.environment ?? {})) {
          if (SECRET_VARIABLES.has(key)) {
            if (neededSecrets(workload, workload.main).has(key))
              assert.ok(workload.mainEnv.fromSecret[key], `${name}: ${key} from the Secret`);
            continue;
          }
          if (OPTIONAL_IN_CLUSTER.has(key)) continue;
          // Where workers run is each shape's choice (the shape test checks it); a cell runs none.
          if (key === "WORKERS_IN_PROCESS" && workload === cell) continue;
          if (PEER_URL_VARIABLES.has(key)) {
            const calls = peerUrlVariables(workload).includes(key);
            if (calls) assert.ok(key in workload.mainEnv.env, `${workload.name}: ${key}, which it calls, is set as in compose`);
            if (workload === cell) assert.ok(!(key in workload.mainEnv.env), `${CELL}: calls no other pod, so no ${key}`);
            if (key in workload.mainEnv.env)
              assert.equal(workload.mainEnv.env[key], composeValue(value), `${workload.name}: ${key} as in compose`);
            continue;
          }
          assert.ok(key in workload.mainEnv.env, `${workload.name}: ${key} is set as in compose's ${name}`);
          if (!EXTERNAL_ENDPOINTS.has(key)) {
            assert.equal(workload.mainEnv.env[key], composeValue(value), `${workload.name}: ${key} as in compose's ${name}`);
          }
        }
        const published = service.ports?.[0]?.split(":").pop();
        if (published) assert.equal(doorsOf(workload)[name], Number(published), `${name}: the port compose publishes`);
      }
      for (const workload of stack) {
        if (workload === cell) continue;
        const inCompose = compose.services[workload.name] !== undefined;
        const insideItsSubgraph = workload.kind === "workers" && composeRunsWorkersInside(workload.spec!.subgraph!);
        assert.ok(inCompose || insideItsSubgraph, `${workload.name} is also a compose service, or runs inside one there`);
      }
    });

    it("lets the edges take clients, subgraphs hear only the gateway, and only Prometheus scrape metrics", () => {
      const stranger = inNamespace({ app: "something-else" });
      const gateway = stack.find((w) => w.kind === "gateway");
      for (const workload of stack) {
        const others = stack.filter((other) => other !== workload).map((other) => inNamespace(other.podLabels));
        const metrics = workload.config.ports.metrics;
        const annotations = workload.deployment.spec.template.metadata.annotations ?? {};
        assert.equal(annotations["prometheus.io/scrape"], "true", `${workload.name} is scraped`);
        assert.equal(annotations["prometheus.io/port"], String(metrics), `${workload.name}: scraped on METRICS_PORT`);
        assert.equal(annotations["prometheus.io/path"], "/metrics", `${workload.name}: scraped on /metrics`);
        assert.equal(containerPort(workload.main, "metrics"), metrics, `${workload.name}: declares METRICS_PORT`);
        assert.ok(ingressAllowed(manifests, workload, PROMETHEUS, metrics), `${workload.name}: Prometheus scrapes it`);
        for (const peer of [stranger, ELSEWHERE, ...others]) {
          assert.ok(!ingressAllowed(manifests, workload, peer, metrics), `${workload.name}: metrics only for Prometheus`);
        }
        for (const [service, port] of Object.entries(doorsOf(workload))) {
          if (workload.kind === "subgraph") {
            assert.ok(gateway, "subgraphs of their own come with a gateway of its own");
            assert.ok(ingressAllowed(manifests, workload, inNamespace(gateway.podLabels), port), `${workload.name}: the gateway calls it`);
            const notGateway = stack.filter((other) => other !== gateway).map((other) => inNamespace(other.podLabels));
            for (const peer of [...notGateway, stranger, ELSEWHERE, PROMETHEUS]) {
              assert.ok(!ingressAllowed(manifests, workload, peer, port), `${workload.name}: nobody else calls it`);
            }
          } else {
            for (const peer of [stranger, ELSEWHERE, ...others]) {
              assert.ok(ingressAllowed(manifests, workload, peer, port), `${workload.name}: the ${service} door takes clients on ${port}`);
            }
          }
        }
        const served = new Set([metrics, ...Object.values(doorsOf(workload))]);
        for (const port of [80, 443, 4000, 4001, 4002, 4003, 5432, 8080].filter((p) => !served.has(p))) {
          assert.ok(
            !ingressAllowed(manifests, workload, ELSEWHERE, port),
            `${workload.name}: nothing comes in on ${port}, which it does not serve`,
          );
        }
      }
    });

    it("lets every pod out only to DNS and what its process calls", () => {
      const otlp = commentedOtlpPolicy();
      for (const workload of stack) {
        const where = workload.name;
        const needs = needsOf(workload.kind, workload.hosted);
        const allowed = (destination: Destination, port: number, protocol = "TCP") =>
          egressAllowed(manifests, workload, destination, port, protocol);
        assert.ok(policiesFor(manifests, "Egress", workload.podLabels).length > 0, `${where}: an egress policy selects it`);
        for (const port of [53, 80, 443, 5432, 6379, 9000])
          assert.ok(!allowed(INTERNET, port), `${where}: nothing out to the Internet on ${port}`);
        assert.ok(!allowed({ peer: ELSEWHERE }, 80), `${where}: nothing out to another namespace`);
        assert.ok(!allowed({ peer: PROMETHEUS }, 9090), `${where}: nothing out to Prometheus (it scrapes)`);
        // Every process resolves the names of config.yaml and the Secret.
        assert.ok(allowed({ peer: KUBE_DNS }, 53, "UDP") && allowed({ peer: KUBE_DNS }, 53, "TCP"), `${where}: DNS over UDP and TCP`);
        assert.ok(!allowed({ peer: KUBE_DNS }, 80), `${where}: of kube-dns, DNS only`);
        // The data stores, exactly where its process uses them.
        for (const [subgraph, peer] of Object.entries(POSTGRESQL)) {
          const uses = needs.databases.length > 0;
          assert.equal(
            allowed({ peer }, STORE_PORTS.postgresql),
            uses,
            `${where}: PostgreSQL (${subgraph}'s cluster) ${uses ? "reachable" : "not"}`,
          );
          assert.ok(!allowed({ peer }, STORE_PORTS.redis), `${where}: of the databases, PostgreSQL's port only`);
        }
        assert.equal(
          allowed({ peer: REDIS }, STORE_PORTS.redis),
          usesRedis(workload),
          `${where}: Redis ${usesRedis(workload) ? "reachable" : "not"}`,
        );
        assert.ok(!allowed({ peer: REDIS }, STORE_PORTS.postgresql), `${where}: of Redis, its port only`);
        assert.equal(
          allowed({ peer: OBJECT_STORAGE }, STORE_PORTS.objectStorage),
          needs.objectStorage,
          `${where}: object storage ${needs.objectStorage ? "reachable" : "not"}`,
        );
        // Tracing: off unless the ConfigMap names a collector; then every pod sends spans there.
        const tracing = workload.mainEnv.env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined;
        assert.equal(
          allowed({ peer: OTLP_COLLECTOR }, STORE_PORTS.otlp),
          tracing,
          `${where}: the OTLP collector ${tracing ? "reachable" : "not"}`,
        );
        assert.ok(
          egressAllowed(
            [...manifests, { ...otlp, metadata: { ...otlp.metadata, namespace: NAMESPACE } }],
            workload,
            { peer: OTLP_COLLECTOR },
            STORE_PORTS.otlp,
          ),
          `${where}: uncommenting egress-otlp lets it send spans`,
        );
        // Other pods of the stack: only the Services its process calls (split: REST adapter -> gateway -> subgraphs).
        const called = new Set(peerUrls(workload).map((url) => new URL(url).hostname));
        for (const target of stack.filter((other) => other !== workload)) {
          const doors = doorsOf(target);
          for (const port of new Set([...Object.values(doors), target.config.ports.metrics, 4000, 4001, 8080])) {
            const calls = Object.entries(doors).some(([service, door]) => called.has(service) && door === port);
            assert.equal(
              allowed({ peer: inNamespace(target.podLabels), container: target.main }, port),
              calls,
              `${where} -> ${target.name}:${port} ${calls ? "allowed: it calls it" : "refused"}`,
            );
            if (calls)
              assert.ok(ingressAllowed(manifests, target, inNamespace(workload.podLabels), port), `${target.name} takes ${where}'s calls`);
          }
        }
        if (workload.kind === "cell") assert.equal(called.size, 0, "a cell calls no other pod");
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
        // A process that receives uploads (the video subgraph's server, or a cell) holds part of each while it streams.
        if (needsOf(workload.kind, workload.hosted).objectStorage && workload.kind !== "workers") {
          const uploads = (2 * UPLOAD_MEMORY_FACTOR * workload.config.media.maxUploadBytes) / 2 ** 20;
          const limit = memoryMiB(workload.main.resources.limits.memory);
          const peak = MEASURED_MIB[workload.name]!.peak;
          assert.ok(limit >= peak + uploads, `${workload.name}: room for two concurrent largest uploads (${Math.round(uploads)} MiB)`);
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
      // Every process that opens the platform (server/runtime.ts) leases a worker id: a cell one
      // for all its subgraphs, each subgraph, its workers and the gateway one; the REST adapter none.
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
  it("are laid out as a kustomize base, a component per shape and overlays, with every file they name", () => {
    const dirs = [
      { dir: "base", kind: "Kustomization" as const },
      ...SHAPES.map((shape) => ({ dir: `components/${shape}`, kind: "Component" as const })),
      ...OVERLAYS.map((overlay) => ({ dir: `overlays/${overlay}`, kind: "Kustomization" as const })),
    ];
    for (const { dir, kind } of dirs) {
      const kustomization = readKustomization(path.join(K8S, dir), kind);
      const files = [
        ...((kustomization.resources ?? []) as string[]),
        ...((kustomization.components ?? []) as string[]),
        ...((kustomization.patches ?? []) as Manifest[]).flatMap((p) => p.path ?? []),
      ];
      for (const file of files) assert.ok(fs.existsSync(path.join(K8S, dir, file)), `${dir}: ${file} exists`);
    }
    assert.deepEqual(
      fs.readdirSync(path.join(K8S, "overlays")).sort(),
      [...OVERLAYS].sort(),
      "every overlay is checked here (OVERLAY_SHAPES names its shape)",
    );
    assert.deepEqual(fs.readdirSync(path.join(K8S, "components")).sort(), [...SHAPES].sort(), "a component per shape");
    const base = readKustomization(path.join(K8S, "base"));
    assert.equal(base.namespace, NAMESPACE);
    assert.deepEqual(
      (base.images as Manifest[]).map((image) => image.name),
      ["douyin-supergraph"],
      "the base sets the one image through kustomize's images",
    );
    for (const shape of SHAPES) {
      const component = readKustomization(path.join(K8S, "components", shape), "Component");
      // Reading a shape file by file (shapeManifests) is then what kustomize builds.
      const transforms = Object.keys(component).filter((key) => !["apiVersion", "kind", "resources", "namespace", "labels"].includes(key));
      assert.deepEqual(transforms, [], `components/${shape} adds resources only`);
      // kustomize applies the base's namespace and labels to the base's resources only: the component repeats them.
      assert.equal(component.namespace, base.namespace, `components/${shape} puts what it adds in the base's namespace`);
      assert.deepEqual(component.labels, base.labels, `components/${shape} labels what it adds as the base does`);
    }
    for (const overlay of OVERLAYS) {
      const kustomization = readKustomization(path.join(K8S, "overlays", overlay));
      assert.deepEqual(kustomization.resources, ["../../base"], `${overlay} builds on the base`);
      assert.deepEqual(kustomization.components, [`../../components/${OVERLAY_SHAPES[overlay]}`], `${overlay} deploys one shape`);
    }
  });

  it("keep the overlays' patches on resources of the base and their shape, each valid YAML", () => {
    for (const overlay of OVERLAYS) {
      const resources = shapeManifests(OVERLAY_SHAPES[overlay]);
      const dir = path.join(K8S, "overlays", overlay);
      const kustomization = readKustomization(dir);
      for (const entry of (kustomization.replicas ?? []) as Manifest[]) {
        assert.ok(named(resources, "Deployment", entry.name), `${overlay}: replicas of Deployment ${entry.name}`);
      }
      for (const patch of (kustomization.patches ?? []) as Manifest[]) {
        const documents = patch.path ? readDocuments(path.join(dir, patch.path)) : parseDocuments(patch.patch, `${overlay} inline patch`);
        for (const document of documents) {
          if (patch.target) {
            assert.ok(byKind(resources, patch.target.kind).length > 0, `${overlay}: a patch targets ${patch.target.kind} of its resources`);
            continue;
          }
          assert.ok(
            named(resources, document.kind, document.metadata.name),
            `${overlay}: patches ${document.kind}/${document.metadata.name} of the base or components/${OVERLAY_SHAPES[overlay]}`,
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
    // The guide's table: each Deployment and the secrets it gets ("the three `<NAME>_DATABASE_URL`" is all three).
    const tableRows = new Map(
      [...guide.matchAll(/^\| `([a-z-]+)`[^|]*\|[^|]*\|[^|]*\|[^|]*\|([^|]*)\|$/gm)].map((row) => [
        row[1]!,
        new Set(
          [...row[2]!.matchAll(/`([A-Z0-9_<>]+)`/g)].flatMap((name) =>
            name[1] === "<NAME>_DATABASE_URL" ? SUBGRAPH_NAMES.map((subgraph) => `${subgraph.toUpperCase()}_DATABASE_URL`) : [name[1]!],
          ),
        ),
      ]),
    );
    const readAnywhere = new Set<string>();
    for (const shape of SHAPES) {
      for (const deployment of byKind(shapeManifests(shape), "Deployment")) {
        const name = deployment.metadata.name as string;
        const read = new Set<string>(
          [...(deployment.spec.template.spec.initContainers ?? []), ...deployment.spec.template.spec.containers]
            .flatMap((container: Manifest) => (container.env ?? []) as Manifest[])
            .flatMap((variable) => variable.valueFrom?.secretKeyRef?.key ?? []),
        );
        for (const key of read) {
          assert.ok(SECRET_VARIABLES.has(key), `${shape}/${name}: ${key} is a documented secret`);
          readAnywhere.add(key);
        }
        assert.deepEqual([...(tableRows.get(name) ?? [])].sort(), [...read].sort(), `${name}: the guide's table names the secrets it gets`);
      }
    }
    assert.deepEqual([...readAnywhere].sort(), [...SECRET_VARIABLES].sort(), "some shape reads every documented secret");
    assert.deepEqual([...created].sort(), [...readAnywhere].sort(), "deploy/kubernetes/README.md creates exactly those keys");
    for (const file of fs.readdirSync(K8S, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml"))) {
      const text = fs.readFileSync(path.join(K8S, file), "utf8");
      assert.ok(!/^kind:\s*Secret\s*$/m.test(text), `${file} holds no Secret`);
      assert.ok(!/postgres(ql)?:\/\/[^\s"]*:[^\s"@]*@/.test(text), `${file} holds no database password`);
    }
  });

  it("tell the operator which egress placeholders to edit, each named once", () => {
    const guide = fs.readFileSync(path.join(K8S, "README.md"), "utf8");
    const text = fs.readFileSync(path.join(K8S, "base", "network-policies.yaml"), "utf8");
    const placeholders = baseManifests()
      .filter(
        (manifest) =>
          manifest.kind === "NetworkPolicy" && /^egress-/.test(manifest.metadata.name) && manifest.metadata.name !== "egress-dns",
      )
      .map((policy) => policy.metadata.name as string);
    assert.deepEqual(placeholders.sort(), ["egress-object-storage", "egress-postgresql", "egress-redis"], "a policy per data store");
    for (const name of [...placeholders, "egress-otlp"])
      assert.ok(guide.includes(`\`${name}\``), `the README says what to edit in ${name}`);
    assert.equal((text.match(/^# EDIT:/gm) ?? []).length, placeholders.length, "each data store's peer is marked EDIT once");
  });

  for (const shape of SHAPES) checkStack(`base + components/${shape}`, () => shapeManifests(shape), { built: false, shape });
  for (const overlay of OVERLAYS) {
    checkStack(`overlays/${overlay} (kubectl kustomize)`, () => kustomize(overlay), {
      skip: kubectl ? false : NO_KUBECTL,
      built: true,
      shape: OVERLAY_SHAPES[overlay],
    });
  }

  it("production deploys cells, production-split the split services, small one cell", { skip: kubectl ? false : NO_KUBECTL }, () => {
    const deployments = (overlay: string) =>
      byKind(kustomize(overlay), "Deployment")
        .map((deployment) => deployment.metadata.name as string)
        .sort();
    const workers = SPECS.filter((spec) => spec.kind === "workers").map((spec) => spec.name);
    assert.deepEqual(deployments("production"), [CELL, ...workers].sort(), "production: cells, every subgraph's workers apart");
    assert.deepEqual(deployments("small"), [CELL, ...workers].sort(), "small: a cell, every subgraph's workers apart");
    const split = deployments("production-split");
    assert.ok(!split.includes(CELL), "production-split: no cell");
    for (const spec of SPECS.filter((s) => s.kind === "subgraph" || s.kind === "gateway" || s.kind === "rest-adapter")) {
      assert.ok(split.includes(spec.name), `production-split: ${spec.name} has a Deployment of its own`);
    }
  });

  it(
    "production overlays run at least two replicas of every service, and autoscale each server from two",
    { skip: kubectl ? false : NO_KUBECTL },
    () => {
      for (const overlay of OVERLAYS.filter((name) => name.startsWith("production"))) {
        const manifests = kustomize(overlay);
        const hpas = byKind(manifests, "HorizontalPodAutoscaler");
        for (const workload of workloads(manifests)) {
          const where = `${overlay}: ${workload.name}`;
          assert.ok(workload.deployment.spec.replicas >= 2, `${where}: ${workload.deployment.spec.replicas} replicas`);
          const hpa = hpas.find((candidate) => candidate.spec.scaleTargetRef.name === workload.name);
          if (servicePort(workload) !== undefined) assert.ok(hpa, `${where} is autoscaled`);
          if (hpa) assert.ok(hpa.spec.minReplicas >= 2, `${where}: minReplicas ${hpa.spec.minReplicas}`);
        }
      }
    },
  );

  it("small runs one replica of every service", { skip: kubectl ? false : NO_KUBECTL }, () => {
    for (const workload of workloads(kustomize("small"))) assert.equal(workload.deployment.spec.replicas, 1, workload.name);
  });
});
