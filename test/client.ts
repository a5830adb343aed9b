// What a test client does: legacy REST calls the way the app makes them, and GraphQL calls.
import fs from "node:fs";
import { INTERNAL_SECRET_HEADER } from "../platform/headers";
import type { Stack } from "./stack";

export type Params = Record<string, string | number>;

export interface LegacyAnswer {
  httpStatus: number;
  body: { status_code: number; status_msg: string } & Record<string, any>;
  /** The raw JSON text, to check how ids were written. */
  text: string;
}

/** Calls a legacy route with parameters in the query string (GET) or as the app sends them. */
export async function legacy(
  stack: Pick<Stack, "restUrl">,
  path: string,
  params: Params = {},
  options: { method?: "GET" | "POST"; body?: "query" | "form" | "multipart"; headers?: Record<string, string> } = {},
): Promise<LegacyAnswer> {
  const method = options.method ?? "GET";
  const strings = Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const url = new URL(path, stack.restUrl);
  let body: URLSearchParams | FormData | undefined;
  const where = options.body ?? "query";
  if (where === "query") for (const [key, value] of Object.entries(strings)) url.searchParams.set(key, value);
  else if (where === "form") body = new URLSearchParams(strings);
  else {
    const form = new FormData();
    for (const [key, value] of Object.entries(strings)) form.set(key, value);
    body = form;
  }
  const response = await fetch(url, { method, body, headers: options.headers });
  const text = await response.text();
  return { httpStatus: response.status, body: JSON.parse(text), text };
}

export interface GraphQLAnswer<Data = any> {
  httpStatus: number;
  data: Data | null | undefined;
  errors: { message: string; extensions?: { code?: string } }[] | undefined;
}

export async function graphql<Data = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<GraphQLAnswer<Data>> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Data | null; errors?: GraphQLAnswer["errors"] };
  return { httpStatus: response.status, data: body.data, errors: body.errors };
}

/** Calls a subgraph directly, as only the gateway should. */
export function subgraphCall<Data = any>(stack: Stack, url: string, query: string, variables: Record<string, unknown> = {}) {
  return graphql<Data>(url, query, variables, { headers: { [INTERNAL_SECRET_HEADER]: stack.config.auth.internalSecret } });
}

/** Reads one counter from a service's Prometheus endpoint (sum over label sets matching `labels`). */
export async function readMetric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(new URL("/metrics", baseUrl))).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (matches) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

let counter = 0;
/** A username no other test run uses. */
export function uniqueName(prefix = "user"): string {
  counter += 1;
  return `${prefix}_${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${counter}`;
}

/**
 * Reads a counter once background work (queue workers sharing the process) has stopped moving
 * it: two equal readings a quarter second apart.
 */
export async function settledMetric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  let previous = await readMetric(baseUrl, name, labels);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const current = await readMetric(baseUrl, name, labels);
    if (current === previous) return current;
    previous = current;
  }
  throw new Error(`${name} at ${baseUrl} never settled`);
}

/** Waits until `check` holds (counters settle asynchronously), failing after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Registers a new user through the legacy route; its id and token. */
export async function registerUser(stack: Pick<Stack, "restUrl">, prefix = "user"): Promise<{ userId: number; token: string }> {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName(prefix), password: "pa55word" }, { method: "POST" });
  if (answer.body.status_code !== 0) throw new Error(`registration failed: ${answer.text}`);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

/** POST /douyin/publish/action/ the way the app does: multipart with data, title and token. */
export async function publishLegacy(stack: Pick<Stack, "restUrl">, token: string, file: string, title: string, filename = "clip.mp4") {
  const form = new FormData();
  form.set("token", token);
  form.set("title", title);
  form.set("data", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), filename);
  const response = await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form });
  return { httpStatus: response.status, body: (await response.json()) as { status_code: number; status_msg: string } };
}
