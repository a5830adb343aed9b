// Resolvers of the video subgraph: parse, authorise, call the data module.
import { parseId } from "../../common/ids";
import type { Resolvers } from "../../generated/graphql/video";

export const resolvers: Resolvers = {
  User: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.userStats.load(id);
    },
    id: (user) => String(user.id),
  },
};
