// Per-operation metrics at the gateway: how long each GraphQL operation took and which errors
// it answered, by operation name. Names come from clients, so the label set is bounded: the
// first MAX_NAMES well-formed names are kept, later ones count as "other".
import type { ApolloServerPlugin } from "@apollo/server";
import type { Metrics } from "../platform/metrics";

const MAX_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const CODE = /^[A-Z][A-Z_]{0,39}$/;

export function operationMetricsPlugin<Context extends object>(
  metrics: Pick<Metrics, "graphqlDuration" | "graphqlErrors">,
): ApolloServerPlugin<Context> {
  const names = new Set<string>();
  const label = (name: string | null | undefined) => {
    if (!name) return "anonymous";
    if (!NAME.test(name)) return "other";
    if (names.has(name)) return name;
    if (names.size >= MAX_NAMES) return "other";
    names.add(name);
    return name;
  };
  return {
    async requestDidStart() {
      const stop = metrics.graphqlDuration.startTimer();
      return {
        async willSendResponse({ operationName, operation, response }) {
          const name = label(operationName ?? operation?.name?.value);
          stop({ operation: name, type: operation?.operation ?? "unknown" });
          if (response.body.kind !== "single") return;
          for (const error of response.body.singleResult.errors ?? []) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({ operation: name, code: typeof code === "string" && CODE.test(code) ? code : "OTHER" });
          }
        },
      };
    },
  };
}
