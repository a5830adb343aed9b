// Resolvers of the relation subgraph: arguments in, one service call, result out.
import { then } from "../../lib/maybe";
import { DateTimeScalar } from "../../lib/scalars";
import type { Resolvers } from "../../generated/graphql/relation";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    chat: (_parent, { withUserId, after }, { service }) => service.chat(withUserId, after),
  },
  Mutation: {
    sendMessage: (_parent, { toUserId, content }, { service }) => service.sendMessage(toUserId, content),
    follow: (_parent, { userId }, { service }) => service.follow(userId),
    unfollow: (_parent, { userId }, { service }) => service.unfollow(userId),
  },
  User: {
    __resolveReference: (reference, { service }) => service.reference(reference.id),
    id: (user) => String(user.id),
    followCount: (user, _args, { service }) => then(service.relationOf(user), (relation) => relation.followCount),
    followerCount: (user, _args, { service }) => then(service.relationOf(user), (relation) => relation.followerCount),
    isFollow: (user, _args, { service }) => then(service.relationOf(user), (relation) => relation.isFollow),
    following: (user, { first, after }, { service }) => service.follows("following", user, first, after),
    followers: (user, { first, after }, { service }) => service.follows("followers", user, first, after),
    friends: (user, { first, after }, { service }) => service.friends(user, first, after),
  },
  Friend: {
    user: (friend) => ({ id: friend.id }),
    latestMessage: (friend, _args, { service }) => service.latestMessage(friend),
  },
  Message: {
    id: (message) => String(message.id),
    fromUserId: (message) => String(message.fromUserId),
    toUserId: (message) => String(message.toUserId),
  },
};
