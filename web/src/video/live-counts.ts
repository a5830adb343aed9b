// A watched video's counts as they change: the server announces them once each like or comment
// is counted (a moment after the action), and the cached video takes them, so every screen
// showing it moves. Only for a signed-in viewer, on the slide in view.
import { skipToken, useSubscription } from "@apollo/client/react";
import { useSession } from "../auth/session";
import { graphql } from "../gql";

const VideoCountsDocument = graphql(`
  subscription VideoCounts($videoId: ID!) {
    videoCounts(videoId: $videoId) {
      videoId
      favoriteCount
      commentCount
    }
  }
`);

export function useLiveCounts(videoId: string, watching: boolean): void {
  const session = useSession();
  useSubscription(
    VideoCountsDocument,
    watching && session.token
      ? {
          variables: { videoId },
          ignoreResults: true,
          onData: ({ client, data }) => {
            const counts = data.data?.videoCounts;
            if (!counts) return;
            client.cache.modify({
              id: client.cache.identify({ __typename: "Video", id: counts.videoId }),
              fields: { favoriteCount: () => counts.favoriteCount, commentCount: () => counts.commentCount },
            });
          },
        }
      : skipToken,
  );
}
