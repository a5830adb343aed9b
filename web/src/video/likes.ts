// Liking and unliking: the heart and the count change at once (optimistic), then the answer
// decides. The answer's own favoriteCount is not used: the server counts asynchronously, so
// the mutation answers with the count from before this like (see the counter model in docs/architecture.md).
import type { ApolloCache } from "@apollo/client";
import { useApolloClient } from "@apollo/client/react";
import { useCallback } from "react";
import { graphql } from "../gql";

const LikeDocument = graphql(`
  mutation LikeVideo($videoId: ID!) {
    likeVideo(videoId: $videoId) {
      id
      isFavorite
    }
  }
`);

const UnlikeDocument = graphql(`
  mutation UnlikeVideo($videoId: ID!) {
    unlikeVideo(videoId: $videoId) {
      id
      isFavorite
    }
  }
`);

export interface LikeState {
  isFavorite: boolean;
  favoriteCount: number;
}

/** The count after a like or unlike whose answer says `nowFavorite`: it moves only if the state did. */
export function countAfter(before: LikeState, nowFavorite: boolean): number {
  if (before.isFavorite === nowFavorite) return before.favoriteCount;
  return Math.max(0, before.favoriteCount + (nowFavorite ? 1 : -1));
}

export function useToggleLike() {
  const client = useApolloClient();
  return useCallback(
    async (video: LikeState & { id: string }, viewerId: string | undefined) => {
      const before = { isFavorite: video.isFavorite, favoriteCount: video.favoriteCount };
      const like = !before.isFavorite;
      const videoRef = client.cache.identify({ __typename: "Video", id: video.id });
      // Runs twice: on the optimistic layer (dropped if the mutation fails), then with the answer.
      const settle = (cache: ApolloCache, nowFavorite: boolean) => {
        cache.modify({ id: videoRef, fields: { favoriteCount: () => countAfter(before, nowFavorite) } });
        if (viewerId && nowFavorite !== before.isFavorite) {
          cache.modify({
            id: cache.identify({ __typename: "User", id: viewerId }),
            fields: {
              favoriteCount: (count: number) => Math.max(0, count + (nowFavorite ? 1 : -1)),
              // The liked grid changes order and length: ask again when it is next shown.
              likedVideos: (_value, { DELETE }) => DELETE,
            },
          });
        }
      };
      if (like) {
        await client.mutate({
          mutation: LikeDocument,
          variables: { videoId: video.id },
          optimisticResponse: { likeVideo: { __typename: "Video", id: video.id, isFavorite: true } },
          update: (cache, { data }) => data && settle(cache, data.likeVideo.isFavorite),
        });
      } else {
        await client.mutate({
          mutation: UnlikeDocument,
          variables: { videoId: video.id },
          optimisticResponse: { unlikeVideo: { __typename: "Video", id: video.id, isFavorite: false } },
          update: (cache, { data }) => data && settle(cache, data.unlikeVideo.isFavorite),
        });
      }
    },
    [client],
  );
}
