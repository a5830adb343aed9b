// The REST adapter's only way to the data: GraphQL operations on the gateway, over a
// keep-alive connection pool, carrying the caller's token and the request id.
import type { Readable } from "node:stream";
import { Agent, request } from "undici";
import type { Config } from "../common/config";
import { REQUEST_ID_HEADER } from "../common/headers";
import { multipartBody, type OutgoingFile } from "../common/uploads";

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

export interface GatewayResult<Data> {
  data: Data | null;
  errors: GraphQLErrorShape[];
}

export class GatewayUnavailableError extends Error {
  override name = "GatewayUnavailableError";
}

export class GatewayClient {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    config: Config,
  ) {
    this.agent = new Agent({
      connections: config.subgraphClient.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: config.subgraphClient.timeoutMs,
      bodyTimeout: config.subgraphClient.timeoutMs,
    });
  }

  async execute<Data>(
    query: string,
    variables: Record<string, unknown>,
    options: { token?: string; requestId: string; files?: OutgoingFile[] },
  ): Promise<GatewayResult<Data>> {
    const headers: Record<string, string> = { "content-type": "application/json", [REQUEST_ID_HEADER]: options.requestId };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Readable = JSON.stringify({ query, variables });
    if (options.files && options.files.length > 0) {
      const multipart = multipartBody({ query, variables }, options.files);
      headers["content-type"] = multipart.contentType;
      headers["apollo-require-preflight"] = "true";
      payload = multipart.body;
    }
    let statusCode: number;
    let text: string;
    try {
      const response = await request(this.url, {
        method: "POST",
        headers,
        body: payload,
        dispatcher: this.agent,
      });
      statusCode = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new GatewayUnavailableError(`gateway unreachable: ${(error as Error).message}`);
    }
    let body: { data?: Data | null; errors?: GraphQLErrorShape[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new GatewayUnavailableError(`gateway answered HTTP ${statusCode} without JSON`);
    }
    return { data: body.data ?? null, errors: body.errors ?? [] };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
