// Following and unfollowing, shown at once (optimistic) and then as the answer says. Like likes,
// the counters are moved here by one when the state changed: the server counts asynchronously
// and answers with the counts from before this follow.
import type { ApolloCache } from "@apollo/client";
import { useApolloClient } from "@apollo/client/react";
import { useCallback } from "react";
import { graphql } from "../gql";

const FollowDocument = graphql(`
  mutation Follow($userId: ID!) {
    follow(userId: $userId) {
      id
      isFollow
    }
  }
`);

const UnfollowDocument = graphql(`
  mutation Unfollow($userId: ID!) {
    unfollow(userId: $userId) {
      id
      isFollow
    }
  }
`);

const dropList = (_value: unknown, { DELETE }: { DELETE: unknown }) => DELETE;

export function useToggleFollow() {
  const client = useApolloClient();
  return useCallback(
    async (user: { id: string; isFollow: boolean }, viewerId: string) => {
      const wasFollowing = user.isFollow;
      const settle = (cache: ApolloCache, nowFollowing: boolean) => {
        if (nowFollowing === wasFollowing) return;
        const delta = nowFollowing ? 1 : -1;
        const bump = (count: number) => Math.max(0, count + delta);
        // Their follower list and the viewer's following and friends lists change: refetch when shown.
        cache.modify({ id: cache.identify({ __typename: "User", id: user.id }), fields: { followerCount: bump, followers: dropList } });
        cache.modify({
          id: cache.identify({ __typename: "User", id: viewerId }),
          fields: { followCount: bump, following: dropList, friends: dropList },
        });
      };
      if (!wasFollowing) {
        await client.mutate({
          mutation: FollowDocument,
          variables: { userId: user.id },
          optimisticResponse: { follow: { __typename: "User", id: user.id, isFollow: true } },
          update: (cache, { data }) => data && settle(cache, data.follow.isFollow),
        });
      } else {
        await client.mutate({
          mutation: UnfollowDocument,
          variables: { userId: user.id },
          optimisticResponse: { unfollow: { __typename: "User", id: user.id, isFollow: false } },
          update: (cache, { data }) => data && settle(cache, data.unfollow.isFollow),
        });
      }
    },
    [client],
  );
}
