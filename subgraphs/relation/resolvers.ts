// Resolvers of the relation subgraph: parse, authorise, call the data module.
import { badInput, forbidden } from "../../common/errors";
import { parseId } from "../../common/ids";
import { DateTimeScalar, pageSize } from "../../common/scalars";
import { requireViewer } from "../../common/subgraph-host";
import type { Resolvers } from "../../generated/graphql/relation";

function requireUserId(value: unknown): number {
  const id = parseId(value);
  if (id === undefined) throw badInput("invalid user id");
  return id;
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    chat: (_parent, { withUserId, after }, context) =>
      context.messages.chat(requireViewer(context).userId, requireUserId(withUserId), after ?? null),
  },
  Mutation: {
    sendMessage: (_parent, { toUserId, content }, context) =>
      context.messages.send(requireViewer(context).userId, requireUserId(toUserId), content),
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
    friends: (user, { first, after }, context) => {
      if (requireViewer(context).userId !== user.id) throw forbidden("only the user themself can see their friends");
      return context.relations.listFriends(user.id, pageSize(first, context.limits), after ?? null);
    },
  },
  Friend: {
    user: (friend, _args, context) => context.loaders.userRelation.load(friend.id),
    latestMessage: (friend, _args, context) => context.loaders.latestMessageWith.load(friend.id),
  },
  Message: {
    id: (message) => String(message.id),
    fromUserId: (message) => String(message.fromUserId),
    toUserId: (message) => String(message.toUserId),
  },
  UserConnection: {
    nodes: (connection, _args, context) => context.loaders.userRelation.loadMany(connection.nodes.map((node) => node.id)) as never,
  },
};
