// Resolvers of the user subgraph: parse, authorise, call the data module.
import { badInput, unauthenticated } from "../../common/errors";
import { parseId } from "../../common/ids";
import { requireViewer } from "../../common/subgraph-host";
import { describeTokenFailure } from "../../common/tokens";
import type { Resolvers } from "../../generated/graphql/user";
import type { UserRecord } from "./data";

export function requireUserId(value: unknown): number {
  const id = parseId(value);
  if (id === undefined) throw badInput("invalid user id");
  return id;
}

export const resolvers: Resolvers = {
  Query: {
    me: (_parent, _args, context) => {
      // A token that was sent but is unusable is an error worth explaining, not an anonymous call.
      if (!context.viewer && context.authFailure) throw unauthenticated(describeTokenFailure(context.authFailure));
      return context.viewer ? context.loaders.userById.load(context.viewer.userId) : null;
    },
    user: (_parent, { id }, context) => context.loaders.userById.load(requireUserId(id)),
    users: (_parent, { ids }, context) => {
      if (ids.length > context.limits.listMax) throw badInput(`at most ${context.limits.listMax} ids at once`);
      return context.loaders.userById.loadMany(ids.map(requireUserId)) as Promise<(UserRecord | null)[]>;
    },
  },
  Mutation: {
    register: (_parent, { username, password }, context) => context.users.register(username, password),
    login: (_parent, { username, password }, context) => context.users.login(username, password),
    logout: (_parent, _args, context) => context.users.logout(requireViewer(context)),
  },
  User: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.userById.load(id);
    },
    id: (user) => String(user.id),
    name: (user) => user.username,
  },
};
