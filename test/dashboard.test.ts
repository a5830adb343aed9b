// The Grafana dashboard of docker-compose charts only what the stack exports. Its PromQL is
// parsed (a small parser for the subset dashboards use; anything else is refused, never
// skipped), and after real traffic through the split stack (one process per service, as in
// compose) every metric a query names must be in some service's /metrics, and every label it
// groups by, matches on or shows in a legend must be one those series carry, with matchers that
// match a value the stack really writes. Prometheus must scrape every app container of
// docker-compose.yml on its METRICS_PORT, and Grafana's provisioned data sources must be the
// ones the dashboard names.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { loadConfig, projectRoot } from "../platform/config";
import { SUBGRAPHS } from "../platform/registry";
import { eventually, graphql, legacy, readMetric, uniqueName } from "./client";
import { compose, composeEnvironment, type ComposeService } from "./compose";
import { startStack, type Stack } from "./stack";

const OBSERVABILITY = path.join(projectRoot, "deploy", "observability");
const DASHBOARD_FILE = path.join(OBSERVABILITY, "grafana", "dashboards", "douyin.json");
const PROMETHEUS_FILE = path.join(OBSERVABILITY, "prometheus.yml");
const DATASOURCES_FILE = path.join(OBSERVABILITY, "grafana", "provisioning", "datasources", "datasources.yml");
const PROVIDERS_FILE = path.join(OBSERVABILITY, "grafana", "provisioning", "dashboards", "dashboards.yml");

const readYaml = (file: string) => YAML.parse(fs.readFileSync(file, "utf8"), { merge: true });

// ---------------------------------------------------------------------------------------------
// What the services export: the `# TYPE` lines and, per sample name, the labels and values seen.

interface Exposition {
  /** Metric family → type (counter, gauge, histogram, summary). */
  types: Map<string, string>;
  /** Sample name (a histogram's `_bucket`, `_sum`, `_count`) → label → values seen. */
  samples: Map<string, Map<string, Set<string>>>;
}

const emptyExposition = (): Exposition => ({ types: new Map(), samples: new Map() });

const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Reads a Prometheus text exposition into `into` (several services' expositions add up). */
function parseExposition(text: string, into: Exposition = emptyExposition()): Exposition {
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice("# TYPE ".length).trim().split(/\s+/);
      if (name && type) into.types.set(name, type);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`unreadable exposition line: ${line}`);
    const labels = into.samples.get(name) ?? new Map<string, Set<string>>();
    into.samples.set(name, labels);
    if (line[name.length] !== "{") continue;
    LABEL.lastIndex = name.length + 1;
    for (let match = LABEL.exec(line); match; match = LABEL.exec(line)) {
      const value = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      const values = labels.get(match[1]!) ?? new Set<string>();
      values.add(value);
      labels.set(match[1]!, values);
      if (line[LABEL.lastIndex] === "}") break;
    }
    if (line[LABEL.lastIndex] !== "}") throw new Error(`unreadable labels in exposition line: ${line}`);
  }
  return into;
}

/** Labels Prometheus adds to every scraped series (its target labels). */
const TARGET_LABELS = ["job", "instance"];
/** Series Prometheus writes itself for every target, with the labels they carry. */
const SYNTHETIC: Record<string, string[]> = { up: TARGET_LABELS };

// ---------------------------------------------------------------------------------------------
// PromQL: tokens, a parse tree, and what each expression yields (its type and its labels).

interface Token {
  kind: "ident" | "number" | "string" | "range" | "punct";
  text: string;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const string = /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/.exec(rest);
    if (string) {
      const raw = string[0];
      tokens.push({ kind: "string", text: raw[0] === "`" ? raw.slice(1, -1) : raw.slice(1, -1).replace(/\\(.)/g, "$1") });
      i += raw.length;
      continue;
    }
    const range = /^\[([^\]]*)\]/.exec(rest);
    if (range) {
      if (!/^\s*(\d+[smhdwy]|\$__rate_interval|\$__interval|\$__range)(\s*:\s*(\d+[smhdwy])?)?\s*$/.test(range[1]!)) {
        throw new Error(`unknown range [${range[1]}]`);
      }
      tokens.push({ kind: "range", text: range[1]! });
      i += range[0].length;
      continue;
    }
    const number = /^(?:0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][-+]?\d+)?)(?![a-zA-Z_:])/.exec(rest);
    if (number) {
      tokens.push({ kind: "number", text: number[0] });
      i += number[0].length;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const punct = /^(?:==|!=|<=|>=|=~|!~|[-+*/%^<>=(){},])/.exec(rest);
    if (punct) {
      tokens.push({ kind: "punct", text: punct[0] });
      i += punct[0].length;
      continue;
    }
    throw new Error(`cannot read PromQL at "${rest.slice(0, 20)}"`);
  }
  return tokens;
}

interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

type Node =
  | { kind: "selector"; metric: string; matchers: Matcher[] }
  | { kind: "range"; of: Node; subquery: boolean }
  | { kind: "aggregate"; op: string; grouping: { mode: "by" | "without"; labels: string[] } | undefined; param?: Node; arg: Node }
  | { kind: "call"; fn: string; args: Node[] }
  | { kind: "binary"; op: string; lhs: Node; rhs: Node }
  | { kind: "negate"; of: Node }
  | { kind: "number" }
  | { kind: "string" };

const AGGREGATIONS = new Set(["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile"]);
const AGGREGATIONS_WITH_PARAMETER = new Set(["topk", "bottomk", "quantile"]);
const PRECEDENCE: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  "==": 3,
  "!=": 3,
  "<=": 3,
  "<": 3,
  ">=": 3,
  ">": 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  atan2: 5,
  "^": 6,
};
/** Vector matching this parser does not model: a query using it is refused until the test learns it. */
const UNSUPPORTED_MODIFIERS = new Set(["on", "ignoring", "group_left", "group_right", "bool", "offset", "@"]);

function parsePromQL(expr: string): Node {
  const tokens = tokenize(expr);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (!token) throw new Error(`unexpected end of "${expr}"`);
    return token;
  };
  const expect = (text: string) => {
    const token = next();
    if (token.text !== text || token.kind === "string") throw new Error(`expected "${text}", found "${token.text}" in "${expr}"`);
  };
  const labelList = () => {
    expect("(");
    const labels: string[] = [];
    while (peek()?.text !== ")") {
      const token = next();
      if (token.kind !== "ident") throw new Error(`expected a label name, found "${token.text}" in "${expr}"`);
      labels.push(token.text);
      if (peek()?.text === ",") next();
    }
    expect(")");
    return labels;
  };
  const grouping = () => {
    const token = peek();
    if (token?.kind === "ident" && (token.text === "by" || token.text === "without")) {
      next();
      return { mode: token.text as "by" | "without", labels: labelList() };
    }
    return undefined;
  };

  const parseExpr = (minPrecedence: number): Node => {
    let lhs = parseUnary();
    for (;;) {
      const token = peek();
      if (!token || token.kind === "string") break;
      const precedence = PRECEDENCE[token.text];
      if (precedence === undefined || precedence < minPrecedence) break;
      next();
      const modifier = peek();
      if (modifier && UNSUPPORTED_MODIFIERS.has(modifier.text)) {
        throw new Error(`"${modifier.text}" is not understood by this test (teach parsePromQL first): "${expr}"`);
      }
      const rhs = parseExpr(token.text === "^" ? precedence : precedence + 1);
      lhs = { kind: "binary", op: token.text, lhs, rhs };
    }
    return lhs;
  };

  const parseUnary = (): Node => {
    if (peek()?.text === "-" || peek()?.text === "+") {
      const sign = next().text;
      const of = parseUnary();
      return sign === "-" ? { kind: "negate", of } : of;
    }
    let node = parsePrimary();
    while (peek()?.kind === "range") {
      node = { kind: "range", of: node, subquery: next().text.includes(":") };
    }
    const modifier = peek();
    if (modifier && UNSUPPORTED_MODIFIERS.has(modifier.text)) {
      throw new Error(`"${modifier.text}" is not understood by this test (teach parsePromQL first): "${expr}"`);
    }
    return node;
  };

  const parseArgs = (): Node[] => {
    expect("(");
    const args: Node[] = [];
    while (peek()?.text !== ")") {
      args.push(parseExpr(0));
      if (peek()?.text === ",") next();
      else break;
    }
    expect(")");
    return args;
  };

  const parseMatchers = (): Matcher[] => {
    expect("{");
    const matchers: Matcher[] = [];
    while (peek()?.text !== "}") {
      const label = next();
      const op = next();
      const value = next();
      if (label.kind !== "ident" || !["=", "!=", "=~", "!~"].includes(op.text) || value.kind !== "string") {
        throw new Error(`unreadable label matcher near "${label.text}" in "${expr}"`);
      }
      matchers.push({ label: label.text, op: op.text as Matcher["op"], value: value.text });
      if (peek()?.text === ",") next();
    }
    expect("}");
    return matchers;
  };

  const parsePrimary = (): Node => {
    const token = next();
    if (token.kind === "number") return { kind: "number" };
    if (token.kind === "string") return { kind: "string" };
    if (token.text === "(") {
      const inner = parseExpr(0);
      expect(")");
      return inner;
    }
    if (token.text === "{") throw new Error(`a selector without a metric name is not checkable: "${expr}"`);
    if (token.kind !== "ident") throw new Error(`unexpected "${token.text}" in "${expr}"`);
    if (token.text === "Inf" || token.text === "NaN") return { kind: "number" };
    if (AGGREGATIONS.has(token.text)) {
      let group = grouping();
      const args = parseArgs();
      group ??= grouping();
      const withParameter = AGGREGATIONS_WITH_PARAMETER.has(token.text);
      if (args.length !== (withParameter ? 2 : 1)) throw new Error(`${token.text}() takes ${withParameter ? 2 : 1} arguments: "${expr}"`);
      return withParameter
        ? { kind: "aggregate", op: token.text, grouping: group, param: args[0]!, arg: args[1]! }
        : { kind: "aggregate", op: token.text, grouping: group, arg: args[0]! };
    }
    if (peek()?.text === "(") return { kind: "call", fn: token.text, args: parseArgs() };
    if (["by", "without", "and", "or", "unless"].includes(token.text)) throw new Error(`misplaced "${token.text}" in "${expr}"`);
    return { kind: "selector", metric: token.text, matchers: peek()?.text === "{" ? parseMatchers() : [] };
  };

  const tree = parseExpr(0);
  if (at !== tokens.length) throw new Error(`unexpected "${tokens[at]!.text}" in "${expr}"`);
  return tree;
}

interface Yield {
  type: "vector" | "matrix" | "scalar" | "string";
  /** Label names the resulting series may carry. */
  labels: Set<string>;
}

type FunctionSpec = { args: Yield["type"][]; yields: (args: Yield[]) => Yield };
const sameLabels =
  (type: Yield["type"]) =>
  (args: Yield[]): Yield => ({ type, labels: args[0]!.labels });
/** Functions the dashboard may call: argument types and what they yield. */
const FUNCTIONS: Record<string, FunctionSpec> = {
  ...Object.fromEntries(
    ["rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes"].map((fn) => [
      fn,
      { args: ["matrix"], yields: sameLabels("vector") },
    ]),
  ),
  ...Object.fromEntries(
    ["avg", "min", "max", "sum", "count", "last"].map((agg) => [`${agg}_over_time`, { args: ["matrix"], yields: sameLabels("vector") }]),
  ),
  ...Object.fromEntries(
    ["abs", "ceil", "floor", "round", "sqrt", "exp", "ln", "log2", "log10"].map((fn) => [
      fn,
      { args: ["vector"], yields: sameLabels("vector") },
    ]),
  ),
  clamp_min: { args: ["vector", "scalar"], yields: sameLabels("vector") },
  clamp_max: { args: ["vector", "scalar"], yields: sameLabels("vector") },
  scalar: { args: ["vector"], yields: () => ({ type: "scalar", labels: new Set() }) },
  vector: { args: ["scalar"], yields: () => ({ type: "vector", labels: new Set() }) },
  histogram_quantile: {
    args: ["scalar", "vector"],
    yields: (args) => ({ type: "vector", labels: new Set([...args[1]!.labels].filter((label) => label !== "le")) }),
  },
};

/**
 * Checks one PromQL expression against what the stack exports; returns what it yields and
 * pushes every problem (unknown metrics, labels the series do not carry, matchers that match
 * nothing) onto `problems`.
 */
function checkExpression(expr: string, exported: Exposition, problems: string[], metricsSeen: Set<string> = new Set()): Yield {
  const complain = (problem: string) => problems.push(`${problem} — in: ${expr}`);
  const visit = (node: Node): Yield => {
    switch (node.kind) {
      case "number":
        return { type: "scalar", labels: new Set() };
      case "string":
        return { type: "string", labels: new Set() };
      case "negate":
        return visit(node.of);
      case "selector": {
        const { metric } = node;
        let family: string | undefined;
        let carried: Map<string, Set<string>> | undefined;
        if (SYNTHETIC[metric]) {
          family = metric;
          carried = new Map(SYNTHETIC[metric].map((label) => [label, new Set<string>()]));
        } else if (exported.types.has(metric)) {
          const type = exported.types.get(metric);
          if (type === "histogram" || type === "summary") {
            complain(`${metric} is a ${type}: its series are ${metric}_bucket, _sum and _count`);
            return { type: "vector", labels: new Set() };
          }
          family = metric;
        } else {
          const suffix = /_(bucket|sum|count)$/.exec(metric);
          const base = suffix ? metric.slice(0, -suffix[0].length) : undefined;
          const type = base ? exported.types.get(base) : undefined;
          if (base && (type === "histogram" || (type === "summary" && suffix![1] !== "bucket"))) family = base;
        }
        if (!family) {
          complain(`${metric} is exported by no service (no "# TYPE ${metric.replace(/_(bucket|sum|count)$/, "")}")`);
          return { type: "vector", labels: new Set() };
        }
        metricsSeen.add(family);
        carried ??= exported.samples.get(metric);
        if (!carried) {
          complain(`${metric} has no samples after the traffic, so its labels cannot be checked`);
          return { type: "vector", labels: new Set() };
        }
        const labels = new Set([...carried.keys(), ...TARGET_LABELS]);
        for (const matcher of node.matchers) {
          if (matcher.label === "__name__") {
            complain(`${metric}: matching on __name__ is not checkable`);
            continue;
          }
          if (!labels.has(matcher.label)) {
            complain(`${metric} carries no label "${matcher.label}" (it has: ${[...carried.keys()].join(", ") || "none"})`);
            continue;
          }
          const values = carried.get(matcher.label);
          if (!values || matcher.op === "!=" || matcher.op === "!~") continue; // a target label, or a negative matcher
          const matches =
            matcher.op === "="
              ? (value: string) => value === matcher.value
              : (value: string) => new RegExp(`^(?:${matcher.value})$`).test(value);
          if (![...values].some(matches)) {
            complain(
              `${metric}{${matcher.label}${matcher.op}"${matcher.value}"} matches none of the values written: ${[...values].join(", ")}`,
            );
          }
        }
        return { type: "vector", labels };
      }
      case "range": {
        const of = visit(node.of);
        if (of.type !== "vector") complain(`a range of a ${of.type}`);
        if (!node.subquery && node.of.kind !== "selector") complain("a range needs a selector (or a subquery)");
        return { type: "matrix", labels: of.labels };
      }
      case "call": {
        const spec = FUNCTIONS[node.fn];
        if (!spec) throw new Error(`function ${node.fn}() is not understood by this test (add it to FUNCTIONS): "${expr}"`);
        const args = node.args.map(visit);
        if (args.length !== spec.args.length || args.some((arg, i) => arg.type !== spec.args[i])) {
          complain(`${node.fn}() takes (${spec.args.join(", ")}), not (${args.map((arg) => arg.type).join(", ")})`);
        }
        if (node.fn === "histogram_quantile" && args[1] && !args[1].labels.has("le")) {
          complain('histogram_quantile() over series without an "le" label (aggregate `by (le, ...)` over a _bucket)');
        }
        return spec.yields(args);
      }
      case "aggregate": {
        if (node.param) visit(node.param);
        const arg = visit(node.arg);
        if (arg.type !== "vector") complain(`${node.op}() over a ${arg.type}`);
        const group = node.grouping;
        for (const label of group?.labels ?? []) {
          if (!arg.labels.has(label)) {
            complain(
              `${node.op} ${group!.mode} (${label}): the series aggregated do not carry "${label}" (they have: ${[...arg.labels].join(", ")})`,
            );
          }
        }
        if (node.op === "topk" || node.op === "bottomk") return arg;
        if (!group) return { type: "vector", labels: new Set() };
        if (group.mode === "by") return { type: "vector", labels: new Set(group.labels) };
        return { type: "vector", labels: new Set([...arg.labels].filter((label) => !group.labels.includes(label))) };
      }
      case "binary": {
        const lhs = visit(node.lhs);
        const rhs = visit(node.rhs);
        if (lhs.type === "vector" && rhs.type === "vector" && !["and", "or", "unless"].includes(node.op)) {
          // One-to-one matching: series pair up only when their label sets are the same.
          const same = lhs.labels.size === rhs.labels.size && [...lhs.labels].every((label) => rhs.labels.has(label));
          if (!same)
            complain(
              `"${node.op}" between series labelled (${[...lhs.labels].join(", ")}) and (${[...rhs.labels].join(", ")}) never matches`,
            );
          return lhs;
        }
        if (lhs.type === "vector") return lhs;
        if (rhs.type === "vector") return rhs;
        return { type: "scalar", labels: new Set() };
      }
    }
  };
  let result: Yield;
  try {
    result = visit(parsePromQL(expr));
  } catch (error) {
    complain((error as Error).message);
    return { type: "vector", labels: new Set() };
  }
  if (result.type !== "vector" && result.type !== "scalar") complain(`a panel query must yield series, not a ${result.type}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The dashboard: its panels, their queries, and the whole check.

interface Target {
  datasource?: { type?: string; uid?: string };
  expr?: string;
  legendFormat?: string;
  refId?: string;
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels: Panel[];
}

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);

/** Every problem of the dashboard against what the stack exported; empty when it is honest. */
function checkDashboard(dashboard: Dashboard, exported: Exposition, datasources: { uid: string; type: string }[]) {
  const problems: string[] = [];
  const metrics = new Set<string>();
  const uids = new Map(datasources.map((source) => [source.uid, source.type]));
  for (const panel of allPanels(dashboard.panels)) {
    if (panel.type === "row") continue;
    const where = `panel "${panel.title}"`;
    if (!panel.targets?.length) problems.push(`${where} has no queries`);
    const sources = [panel.datasource, ...(panel.targets ?? []).map((target) => target.datasource)];
    for (const source of sources) {
      if (!source?.uid || uids.get(source.uid) !== source.type) {
        problems.push(`${where} names data source ${JSON.stringify(source)}, which Grafana is not provisioned with`);
      }
    }
    for (const target of panel.targets ?? []) {
      if (target.datasource?.type !== "prometheus") continue;
      if (!target.expr) {
        problems.push(`${where} query ${target.refId} has no expression`);
        continue;
      }
      const before = problems.length;
      const result = checkExpression(target.expr, exported, problems, metrics);
      for (const [, label] of (target.legendFormat ?? "").matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
        if (!result.labels.has(label!))
          problems.push(`the legend {{${label}}} names a label the query does not yield — in: ${target.expr}`);
      }
      for (let i = before; i < problems.length; i++) problems[i] = `${where}: ${problems[i]}`;
    }
  }
  return { problems, metrics };
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
const provisioned = readYaml(DATASOURCES_FILE) as { datasources: { uid: string; type: string; url: string }[] };

// ---------------------------------------------------------------------------------------------

describe("the dashboard against the running stack", () => {
  let stack: Stack;
  const exported = emptyExposition();
  const perService = new Map<string, Exposition>();

  before(async () => {
    // Split, as docker-compose runs it: each service's numbers on its own metrics port. One
    // login per minute and client address, so the second login below is refused.
    stack = await startStack({ RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: "1" }, "split");

    // Legacy REST through the adapter: register, user info (twice: the second is a cache hit), feed.
    const username = uniqueName("dash");
    const registered = await legacy(stack, "/douyin/user/register/", { username, password: "secret1" }, { method: "POST" });
    assert.equal(registered.body.status_code, 0, registered.text);
    const { user_id: userId, token } = registered.body as unknown as { user_id: number; token: string };
    for (let i = 0; i < 2; i++) {
      const info = await legacy(stack, "/douyin/user/", { user_id: userId, token });
      assert.equal(info.body.status_code, 0, info.text);
    }
    const feed = await legacy(stack, "/douyin/feed/");
    assert.equal(feed.body.status_code, 0, feed.text);
    // A follow: a counter change the relation subgraph's drainer applies in the background.
    const other = await legacy(stack, "/douyin/user/register/", { username: uniqueName("dash"), password: "secret1" }, { method: "POST" });
    assert.equal(other.body.status_code, 0, other.text);
    const follow = await legacy(
      stack,
      "/douyin/relation/action/",
      { token, to_user_id: other.body.user_id as number, action_type: 1 },
      { method: "POST", body: "form" },
    );
    assert.equal(follow.body.status_code, 0, follow.text);
    // A legacy failure (HTTP 200, status_code 401): what the legacy failures panel charts.
    const legacyRefused = await legacy(
      stack,
      "/douyin/favorite/action/",
      { token: "not-a-token", video_id: 1, action_type: 1 },
      { method: "POST" },
    );
    assert.equal(legacyRefused.body.status_code, 401, legacyRefused.text);
    await eventually(
      async () => (await readMetric(stack.metricsUrl("relation"), "counter_changes_applied_total", { subgraph: "relation" })) > 0,
      "the follow's counter changes to be applied",
    );

    // GraphQL through the gateway: a named query, an invalid one, a wrong password (an error a
    // subgraph answers) and a login over the limit (refused by the gateway).
    const me = await graphql(stack.graphqlUrl, "query DashboardMe { me { id name followCount workCount } }", {}, { token });
    assert.equal(me.errors, undefined, JSON.stringify(me.errors));
    const invalid = await graphql(stack.graphqlUrl, "query DashboardInvalid { me { password } }");
    assert.equal(invalid.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
    const LOGIN = "mutation DashboardLogin($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    const wrong = await graphql(stack.graphqlUrl, LOGIN, { u: username, p: "not-the-password" });
    assert.equal(wrong.errors?.[0]?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(wrong.errors));
    const refused = await graphql(stack.graphqlUrl, LOGIN, { u: username, p: "secret1" });
    assert.equal(refused.errors?.[0]?.extensions?.code, "RATE_LIMITED", JSON.stringify(refused.errors));

    // Every service the split stack runs serves its own /metrics.
    for (const service of ["gateway", "rest-adapter", ...SUBGRAPHS.map((entry) => entry.name)]) {
      const response = await fetch(new URL("/metrics", stack.metricsUrl(service)));
      assert.equal(response.status, 200, `${service} /metrics`);
      const text = await response.text();
      perService.set(service, parseExposition(text));
      parseExposition(text, exported);
    }
  });
  after(async () => {
    await stack?.close();
  });

  it("queries only metrics the services export, grouped, matched and labelled by labels they carry", () => {
    const { problems, metrics } = checkDashboard(dashboard, exported, provisioned.datasources);
    assert.deepEqual(problems, []);
    // The dashboard charts what the brief asks for (and so, by the check above, what is exported).
    for (const metric of [
      "http_requests_total",
      "http_request_duration_seconds",
      "graphql_operation_duration_seconds",
      "graphql_operation_errors_total",
      "subgraph_fetches_total",
      "subgraph_fetch_duration_seconds",
      "subgraph_fetch_errors_total",
      "db_statements_total",
      "cache_lookups_total",
      "queue_jobs",
      "counter_changes_pending",
      "outbox_events_pending",
      "rate_limit_refusals_total",
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
    ]) {
      assert.ok(metrics.has(metric), `the dashboard charts ${metric}`);
    }
  });

  it("finds the legacy routes' numbers on the REST adapter and the operations' on the gateway", () => {
    const routes = perService.get("rest-adapter")!.samples.get("http_requests_total")?.get("route") ?? new Set();
    for (const route of ["/douyin/user/register/", "/douyin/user/", "/douyin/feed/"]) assert.ok(routes.has(route), `${route} is counted`);
    const operations = perService.get("gateway")!.samples.get("graphql_operation_duration_seconds_count")?.get("operation");
    assert.ok(operations?.has("DashboardMe"), "the named GraphQL operation is counted by name");
  });

  it("fails for a metric or a label the stack does not export (the check can fail)", () => {
    const broken: Dashboard = JSON.parse(JSON.stringify(dashboard));
    const panel = allPanels(broken.panels).find((candidate) => candidate.type !== "row")!;
    const target = panel.targets![0]!;
    const uid = target.datasource!.uid;
    panel.targets = [
      { ...target, expr: "sum(rate(http_requests_totl[5m]))", legendFormat: "" },
      { ...target, refId: "B", expr: "sum by (rout) (rate(http_requests_total[5m]))", legendFormat: "" },
      { ...target, refId: "C", expr: 'sum(rate(http_requests_total{route="/douyin/nowhere/"}[5m]))', legendFormat: "" },
      { ...target, refId: "D", expr: "sum by (route) (rate(http_requests_total[5m]))", legendFormat: "{{operation}}" },
      { ...target, refId: "E", expr: "histogram_quantile(0.99, sum by (route) (rate(http_request_duration_seconds_bucket[5m])))" },
      { ...target, refId: "F", expr: "sum by (route) (rate(http_requests_total[5m])) / sum by (cache) (rate(cache_lookups_total[5m]))" },
      { ...target, refId: "G", expr: "rate(http_request_duration_seconds[5m])" },
      { ...target, refId: "H", expr: "label_replace(up, 'a', 'b', 'c', 'd')" },
      { ...target, refId: "I", datasource: { type: "prometheus", uid: `${uid}-elsewhere` }, expr: "up" },
    ];
    const { problems } = checkDashboard(broken, exported, provisioned.datasources);
    for (const expected of [
      /http_requests_totl is exported by no service/,
      /sum by \(rout\)/,
      /matches none of the values written/,
      /the legend \{\{operation\}\}/,
      /histogram_quantile\(\) over series without an "le" label/,
      /never matches/,
      /http_request_duration_seconds is a histogram/,
      /label_replace\(\) is not understood/,
      /which Grafana is not provisioned with/,
    ]) {
      assert.ok(
        problems.some((problem) => expected.test(problem)),
        `${expected} among:\n${problems.join("\n")}`,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** The container path a host path of the repository is mounted at in a compose service. */
const mountOf = (service: ComposeService | undefined, hostPath: string) =>
  service?.volumes
    ?.map((volume) => volume.split(":"))
    .find(([source]) => source && path.resolve(projectRoot, source) === path.resolve(projectRoot, hostPath))?.[1];

describe("observability wiring in docker-compose", () => {
  const services = compose.services;
  /** The containers running the app's long-lived processes (not the one-shot `migrate`). */
  const apps = Object.entries(services).filter(
    ([, service]) => service.image === "douyin-supergraph" && service.command?.[1] === "dist/server/main.js",
  );
  const prometheus = readYaml(PROMETHEUS_FILE) as {
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      scheme?: string;
      static_configs?: { targets: string[] }[];
      dns_sd_configs?: { names: string[]; type?: string; port: number }[];
    }[];
  };

  it("has Prometheus scrape every app container on its METRICS_PORT", () => {
    assert.ok(apps.length >= 5, `app services found: ${apps.map(([name]) => name).join(", ")}`);
    const scraped = new Map<string, string>(); // "host:port" → job
    for (const job of prometheus.scrape_configs) {
      assert.equal(job.metrics_path ?? "/metrics", "/metrics", job.job_name);
      assert.equal(job.scheme ?? "http", "http", job.job_name);
      for (const target of (job.static_configs ?? []).flatMap((config) => config.targets)) scraped.set(target, job.job_name);
      for (const config of job.dns_sd_configs ?? []) {
        assert.ok((config.type ?? "SRV") === "A", `${job.job_name}: compose names resolve to A records`);
        for (const name of config.names) scraped.set(`${name}:${config.port}`, job.job_name);
      }
    }
    for (const [name, service] of apps) {
      const port = loadConfig(composeEnvironment(service.environment)).ports.metrics;
      assert.ok(scraped.has(`${name}:${port}`), `Prometheus scrapes ${name}:${port}`);
      assert.equal(scraped.get(`${name}:${port}`), name, `the job scraping ${name} is named after it`);
    }
    for (const target of scraped.keys()) {
      const host = target.split(":")[0]!;
      assert.ok(
        apps.some(([name]) => name === host),
        `scrape target ${target} is an app service of docker-compose.yml`,
      );
    }
  });

  it("runs Prometheus, Grafana and Jaeger from pinned images, published on 127.0.0.1 only", () => {
    for (const [name, image] of [
      ["prometheus", /^prom\/prometheus:v\d+\.\d+\.\d+$/],
      ["grafana", /^grafana\/grafana:\d+\.\d+\.\d+$/],
      ["jaeger", /^jaegertracing\/all-in-one:1\.\d+\.\d+$/],
    ] as const) {
      const service = services[name];
      assert.match(service?.image ?? "", image, `${name} image`);
      for (const port of service?.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port} on this machine only`);
    }
    assert.deepEqual(services.prometheus!.ports, ["127.0.0.1:9090:9090"]);
    assert.deepEqual(services.grafana!.ports, ["127.0.0.1:3000:3000"]);
    assert.deepEqual(services.jaeger!.ports, ["127.0.0.1:16686:16686"]);
    assert.equal(services.jaeger!.environment?.COLLECTOR_OTLP_ENABLED, "true");
  });

  it("mounts the Prometheus configuration and Grafana's provisioning where they are read", () => {
    const prometheusConfig = mountOf(services.prometheus, "deploy/observability/prometheus.yml");
    assert.ok(prometheusConfig, "prometheus.yml is mounted");
    const command = services.prometheus!.command ?? [];
    assert.ok(command.includes(`--config.file=${prometheusConfig}`), "Prometheus reads the mounted file");
    assert.equal(mountOf(services.grafana, "deploy/observability/grafana/provisioning"), "/etc/grafana/provisioning");
    const dashboards = mountOf(services.grafana, "deploy/observability/grafana/dashboards");
    const providers = (readYaml(PROVIDERS_FILE) as { providers: { type: string; options: { path: string } }[] }).providers;
    assert.ok(
      providers.some((provider) => provider.type === "file" && provider.options.path === dashboards),
      `a dashboards provider reads ${dashboards}`,
    );
    // Nothing secret in the files: the admin password comes from the environment.
    const password = services.grafana!.environment?.GF_SECURITY_ADMIN_PASSWORD ?? "";
    assert.match(password, /^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$/);
  });

  it("provisions the Prometheus and Jaeger data sources the dashboard names, at their compose services", () => {
    const byType = (type: string) => provisioned.datasources.filter((source) => source.type === type);
    assert.equal(byType("prometheus").length, 1);
    assert.equal(byType("jaeger").length, 1);
    for (const source of provisioned.datasources) {
      const url = new URL(source.url);
      assert.ok(services[url.hostname], `${source.uid} points at compose service ${url.hostname}`);
    }
    assert.equal(new URL(byType("prometheus")[0]!.url).port, "9090");
    assert.equal(new URL(byType("jaeger")[0]!.url).port, "16686");
    const used = new Set(
      allPanels(dashboard.panels).flatMap((panel) => [
        panel.datasource?.uid,
        ...(panel.targets ?? []).map((target) => target.datasource?.uid),
      ]),
    );
    used.delete(undefined);
    for (const uid of used)
      assert.ok(
        provisioned.datasources.some((source) => source.uid === uid),
        `data source ${uid} is provisioned`,
      );
    assert.ok(used.has(byType("prometheus")[0]!.uid), "the dashboard reads the provisioned Prometheus");
  });

  it("is a dashboard Grafana loads: a uid, a schema version, unique panel ids, panels inside the grid", () => {
    assert.equal(dashboard.uid, "douyin-supergraph");
    assert.equal(dashboard.title, "Douyin supergraph");
    assert.ok(typeof dashboard.schemaVersion === "number" && dashboard.schemaVersion >= 36, "schemaVersion");
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    for (const panel of panels) {
      assert.ok(typeof panel.id === "number", `${panel.title} has an id`);
      const grid = panel.gridPos;
      assert.ok(grid && grid.x >= 0 && grid.w > 0 && grid.x + grid.w <= 24 && grid.h > 0, `${panel.title} fits the 24-column grid`);
    }
  });

  it("sends every app container's traces to Jaeger over OTLP/HTTP", () => {
    for (const [name, service] of apps) {
      const endpoint = composeEnvironment(service.environment).OTEL_EXPORTER_OTLP_ENDPOINT;
      assert.ok(endpoint, `${name} sets OTEL_EXPORTER_OTLP_ENDPOINT`);
      const url = new URL(endpoint);
      assert.equal(url.hostname, "jaeger", name);
      assert.equal(url.port, "4318", name);
    }
    assert.ok(services.jaeger!.expose?.includes("4318"), "Jaeger's OTLP/HTTP port is open inside the compose network");
  });
});
