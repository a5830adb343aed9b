// Custom scalars shared by the subgraphs.
import { GraphQLScalarType, Kind } from "graphql";
import { badInput } from "./errors";

function toDate(value: unknown): Date {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw badInput("DateTime must be an ISO-8601 string");
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput(`invalid DateTime ${JSON.stringify(value)}`);
  return date;
}

/**
 * The same rules for an edge that forwards values as they came (the gateway): a malformed
 * DateTime is refused there, before planning, and a good one passes on unchanged.
 */
export function checkDateTimeInput(type: GraphQLScalarType): void {
  type.parseValue = (value) => {
    toDate(value);
    return value;
  };
  type.parseLiteral = (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput("DateTime must be an ISO-8601 string");
    toDate(ast.value);
    return ast.value;
  };
}

/** ISO-8601 with milliseconds on the way out; a Date on the way in. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: toDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput("DateTime must be an ISO-8601 string");
    return toDate(ast.value);
  },
});
