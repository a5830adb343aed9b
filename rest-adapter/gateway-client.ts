// The REST adapter's only way to the data: GraphQL operations on the gateway, through one
// interface with two implementations: over HTTP (a keep-alive pool; split mode) or by a call
// into the gateway in the same process (co-located mode, no HTTP and no JSON re-encoding).
// Either carries the caller's token and the request id.
import fs from "node:fs";
import { Upload, type FileUpload } from "graphql-upload-minimal";
import type { Agent } from "undici";
import type { Config } from "../platform/config";
import type { Deadline } from "../platform/deadline";
import { CLIENT_IP_HEADER, EDGE_SECRET_HEADER, REQUEST_ID_HEADER } from "../platform/headers";
import type { Logger } from "../platform/logger";
import { createGraphQLAgent, postGraphQL } from "../framework/graphql-client";
import type { Gateway } from "../gateway/server";
import { extractFiles, SpooledFile } from "./files";
import type { Operation } from "./routes";

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

export interface GatewayResult<Data> {
  data: Data | null;
  errors: GraphQLErrorShape[];
}

export interface CallOptions {
  token?: string;
  requestId: string;
  log: Logger;
  /** The app's address, for the gateway's per-address rate limits. */
  clientIp: string;
  /** When the app stops waiting (it went away, or the request's time is up). */
  deadline: Deadline;
}

export interface GatewayExecutor {
  execute<Data>(operation: Operation<Data>, options: CallOptions): Promise<GatewayResult<Data>>;
  close(): Promise<void>;
}

export class GatewayUnavailableError extends Error {
  override name = "GatewayUnavailableError";
}

export class HttpGatewayExecutor implements GatewayExecutor {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    private readonly config: Config,
  ) {
    this.agent = createGraphQLAgent(config);
  }

  async execute<Data>(operation: Operation<Data>, options: CallOptions): Promise<GatewayResult<Data>> {
    const query = operation.document.toString();
    const headers: Record<string, string> = {
      [REQUEST_ID_HEADER]: options.requestId,
      // The gateway limits per address: it believes ours only with the edge secret.
      [CLIENT_IP_HEADER]: options.clientIp,
      [EDGE_SECRET_HEADER]: this.config.auth.edgeSecret,
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const { variables, files } = extractFiles(operation.variables);
    let statusCode: number;
    let text: string;
    try {
      ({ statusCode, text } = await postGraphQL(this.agent, this.url, {
        operation: { query, variables },
        files,
        headers,
        signal: options.deadline.signal,
      }));
    } catch (error) {
      if (options.deadline.expired) throw new GatewayUnavailableError("the gateway did not answer in time");
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

/** A file received on disk, as the Upload the GraphQL multipart spec would have produced. */
function uploadOf(file: SpooledFile): Upload {
  const upload = new Upload();
  const received: FileUpload = {
    filename: file.filename || "upload",
    mimetype: file.mimetype,
    encoding: "7bit",
    fieldName: "file",
    createReadStream: () => fs.createReadStream(file.file),
  };
  // `resolve` is how graphql-upload-minimal's own parser completes an Upload (untyped).
  (upload as Upload & { resolve(file: FileUpload): void }).resolve(received);
  return upload;
}

export class LocalGatewayExecutor implements GatewayExecutor {
  constructor(private readonly gateway: Gateway) {}

  async execute<Data>(operation: Operation<Data>, options: CallOptions): Promise<GatewayResult<Data>> {
    const variables = Object.fromEntries(
      Object.entries(operation.variables).map(([key, value]) => [key, value instanceof SpooledFile ? uploadOf(value) : value]),
    );
    const contextValue = await this.gateway.context({
      authorization: options.token ? `Bearer ${options.token}` : undefined,
      requestId: options.requestId,
      log: options.log,
      clientIp: options.clientIp,
      deadline: options.deadline,
    });
    const response = await this.gateway.apollo.executeOperation<Data>(
      { query: operation.document.toString(), variables },
      { contextValue },
    );
    if (response.body.kind !== "single") throw new Error("the gateway answered an incremental result to a legacy operation");
    const { data, errors } = response.body.singleResult;
    return { data: (data ?? null) as Data | null, errors: (errors ?? []) as GraphQLErrorShape[] };
  }

  async close(): Promise<void> {}
}
