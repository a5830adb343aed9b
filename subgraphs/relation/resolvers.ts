// Resolvers of the relation subgraph: parse, authorise, call the data module.
import { badInput } from "../../common/errors";
import { parseId } from "../../common/ids";
import { pageSize } from "../../common/scalars";
import { requireViewer } from "../../common/subgraph-host";
import type { Resolvers } from "../../generated/graphql/relation";

function requireUserId(value: unknown): number {
  const id = parseId(value);
  if (id === undefined) throw badInput("invalid user id");
  return id;
}

export const resolvers: Resolvers = {
  Mutation: {
    follow: async (_parent, { userId }, context) => {
      const followeeId = requireUserId(userId);
      await context.relations.follow(requireViewer(context).userId, followeeId);
      return context.loaders.userRelation.load(followeeId);
    },
    unfollow: async (_parent, { userId }, context) => {
      const followeeId = requireUserId(userId);
      await context.relations.unfollow(requireViewer(context).userId, followeeId);
      return context.loaders.userRelation.load(followeeId);
    },
  },
  User: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.userRelation.load(id);
    },
    id: (user) => String(user.id),
    following: (user, { first, after }, context) =>
      context.relations.listFollows("following", user.id, pageSize(first, context.limits), after ?? null),
    followers: (user, { first, after }, context) =>
      context.relations.listFollows("followers", user.id, pageSize(first, context.limits), after ?? null),
  },
  UserConnection: {
    nodes: (connection, _args, context) => context.loaders.userRelation.loadMany(connection.nodes.map((node) => node.id)) as never,
  },
};
