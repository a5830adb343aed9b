// How the gateway reaches a subgraph that runs in its own process (co-located mode and the
// fast tests): the same query plan and subgraph operation as over HTTP, executed by a function
// call. Like the HTTP host, it builds the subgraph's own per-request context (its viewer and
// DataLoaders) and formats errors the same way. Subgraph operations repeat (they come from
// cached query plans), so each is parsed and validated once and kept.
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { execute, parse, validate, type DocumentNode, type GraphQLFormattedError } from "graphql";
import { Deadline } from "../platform/deadline";
import { formatErrorFor } from "../framework/error-format";
import type { Logger } from "../platform/logger";
import type { BuiltSubgraph } from "../framework/subgraph";
import { Viewer } from "../framework/viewer";
import { isRequestContext, type GatewayContext } from "./auth";
import { admitFetch, type FetchMetrics } from "./data-source";

type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource["process"]>>;

/** Distinct subgraph operations kept parsed; far more than a supergraph's query plans produce. */
const DOCUMENT_CACHE_SIZE = 2000;

export class LocalSubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly documents = new Map<string, DocumentNode | readonly GraphQLFormattedError[]>();
  private readonly formatError: ReturnType<typeof formatErrorFor>;

  constructor(
    readonly subgraph: BuiltSubgraph,
    private readonly log: Logger,
    private readonly fetchMetrics: FetchMetrics,
    private readonly maxFetches: number,
  ) {
    this.formatError = formatErrorFor(log);
  }

  /** The operation parsed and validated against the subgraph's schema, or its errors. */
  private document(query: string): DocumentNode | readonly GraphQLFormattedError[] {
    const cached = this.documents.get(query);
    if (cached) return cached;
    let result: DocumentNode | readonly GraphQLFormattedError[];
    try {
      const document = parse(query);
      const errors = validate(this.subgraph.schema, document);
      result = errors.length > 0 ? errors.map((error) => error.toJSON()) : document;
    } catch (error) {
      result = [{ message: (error as Error).message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }];
    }
    if (this.documents.size >= DOCUMENT_CACHE_SIZE) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, result);
    return result;
  }

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    return this.fetchMetrics.measure(this.subgraph.name, () => this.execute(options));
  }

  private async execute({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    if (isRequestContext(context)) admitFetch(context, this.subgraph.name, this.maxFetches);
    const document = this.document(request.query!);
    if (!("kind" in document)) return { errors: document };
    // Health checks and the like run without a request context: an anonymous caller.
    const scope = isRequestContext(context)
      ? { viewer: context.viewer, requestId: context.requestId, clientIp: context.clientIp, log: context.log, deadline: context.deadline }
      : { viewer: Viewer.anonymous, requestId: "internal", clientIp: null, log: this.log, deadline: Deadline.none() };
    const result = await execute({
      schema: this.subgraph.schema,
      document,
      contextValue: this.subgraph.context(scope),
      variableValues: request.variables,
      operationName: request.operationName,
    });
    return {
      data: result.data as SubgraphResponse["data"],
      ...(result.errors && { errors: result.errors.map((error) => this.formatError(error.toJSON(), error)) }),
    };
  }
}
