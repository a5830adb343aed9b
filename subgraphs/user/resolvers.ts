// Resolvers of the user subgraph: arguments in, one service call, result out.
import type { Resolvers } from "../../generated/graphql/user";

export const resolvers: Resolvers = {
  Query: {
    me: (_parent, _args, { service }) => service.me(),
    user: (_parent, { id }, { service }) => service.user(id),
    users: (_parent, { ids }, { service }) => service.users(ids),
  },
  Mutation: {
    register: (_parent, { username, password }, { service }) => service.register(username, password),
    login: (_parent, { username, password }, { service }) => service.login(username, password),
    logout: (_parent, _args, { service }) => service.logout(),
  },
  User: {
    __resolveReference: (reference, { service }) => service.reference(reference.id),
    id: (user) => String(user.id),
    name: (user) => user.username,
  },
};
