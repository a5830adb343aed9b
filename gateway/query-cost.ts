// Bounds a GraphQL request before any of it runs: how many field resolutions and how many
// objects it may produce, counting every list by its effective size (a literal, a variable or
// the argument's default, capped at the list maximum) multiplied down the nesting, aliases and
// fragments included. A request over either limit is refused with QUERY_TOO_COMPLEX (HTTP 400).
import type { ApolloServerPlugin } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  isUnionType,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export interface CostLimits {
  /** Most field resolutions a request may cause. */
  maxCost: number;
  /** Most objects (entities, connections, list items) a request may return. */
  maxItems: number;
  /** Page size when none is asked for, and the largest a list can be. */
  listDefault: number;
  listMax: number;
}

export interface Cost {
  cost: number;
  items: number;
}

/** Arguments that set how many items a field returns. */
const SIZE_ARGUMENTS = ["first", "last", "limit"];

function possibleFields(type: GraphQLNamedType): Record<string, GraphQLField<unknown, unknown>> {
  if (isObjectType(type) || isInterfaceType(type)) return type.getFields();
  if (isUnionType(type)) return Object.assign({}, ...type.getTypes().map((member) => member.getFields()));
  return {};
}

/** Measures one operation with its variables; a fragment cycle or an unknown field counts as zero (validation refuses them). */
export function measure(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: CostLimits,
): Cost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const root =
    operation.operation === "mutation"
      ? schema.getMutationType()
      : operation.operation === "subscription"
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  const total: Cost = { cost: 0, items: 0 };
  if (!root) return total;

  const argument = (field: FieldNode, definition: GraphQLField<unknown, unknown>, name: string): unknown => {
    const declared = definition.args.find((arg) => arg.name === name);
    if (!declared) return undefined;
    const node = field.arguments?.find((arg) => arg.name.value === name);
    if (!node) return declared.defaultValue;
    if (node.value.kind === Kind.VARIABLE) return variables[node.value.name.value] ?? declared.defaultValue;
    return valueFromAST(node.value, declared.type, variables);
  };

  /** How many items a list field returns: its size argument, a list argument's length, or what the enclosing connection asked. */
  const listSize = (field: FieldNode, definition: GraphQLField<unknown, unknown>, pending: number | undefined): number => {
    for (const name of SIZE_ARGUMENTS) {
      const value = argument(field, definition, name);
      if (typeof value === "number") return Math.max(0, Math.min(value, limits.listMax));
      if (definition.args.some((arg) => arg.name === name)) return limits.listDefault;
    }
    const listArgument = definition.args.find((arg) => isListType(getNullableType(arg.type)));
    if (listArgument) {
      const value = argument(field, definition, listArgument.name);
      if (Array.isArray(value)) return Math.min(value.length, limits.listMax);
    }
    return pending ?? limits.listMax;
  };

  const visit = (
    selectionSet: SelectionSetNode,
    type: GraphQLNamedType,
    multiplier: number,
    pending: number | undefined,
    seen: Set<string>,
  ) => {
    const fields = possibleFields(type);
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (condition) visit(selection.selectionSet, condition, multiplier, pending, seen);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue;
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (condition) visit(fragment.selectionSet, condition, multiplier, pending, new Set([...seen, fragment.name.value]));
        continue;
      }
      const definition = fields[selection.name.value];
      if (!definition) continue;
      total.cost += multiplier;
      if (!selection.selectionSet) continue;
      const nullable = getNullableType(definition.type);
      const named = getNamedType(definition.type);
      const sized = SIZE_ARGUMENTS.some((name) => definition.args.some((arg) => arg.name === name));
      if (isListType(nullable)) {
        const count = multiplier * listSize(selection, definition, pending);
        total.items += count;
        visit(selection.selectionSet, named, count, undefined, seen);
      } else {
        // One object per parent; a connection (a sized field returning an object) hands its size to its list.
        total.items += multiplier;
        visit(selection.selectionSet, named, multiplier, sized ? listSize(selection, definition, undefined) : undefined, seen);
      }
    }
  };
  visit(operation.selectionSet, root, 1, undefined, new Set());
  return total;
}

export class QueryTooComplexError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: "QUERY_TOO_COMPLEX", http: { status: 400 } } });
  }
}

/** The Apollo Server plugin that refuses a request over the limits once its operation and variables are known. */
export function queryCostPlugin<Context extends object>(limits: CostLimits): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const { cost, items } = measure(schema, document, operation, request.variables ?? {}, limits);
          if (items > limits.maxItems) {
            throw new QueryTooComplexError(
              `the request could return ${items} objects (at most ${limits.maxItems}): ask for smaller pages or fewer nested lists`,
            );
          }
          if (cost > limits.maxCost) {
            throw new QueryTooComplexError(
              `the request costs ${cost} field resolutions (at most ${limits.maxCost}): ask for smaller pages or fewer fields`,
            );
          }
        },
      };
    },
  };
}
