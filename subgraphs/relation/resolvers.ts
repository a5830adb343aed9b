// Resolvers of the relation subgraph: parse, authorise, call the data module.
import { parseId } from "../../common/ids";
import type { Resolvers } from "../../generated/graphql/relation";

export const resolvers: Resolvers = {
  User: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.userRelation.load(id);
    },
    id: (user) => String(user.id),
  },
};
