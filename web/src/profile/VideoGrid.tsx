// A user's videos or liked videos as a grid of covers, paged as it scrolls.
import { useQuery } from "@apollo/client/react";
import { GRID_PAGE_SIZE } from "../config";
import { graphql } from "../gql";
import type { GridVideoFragment } from "../gql/graphql";
import { Link, paths } from "../router";
import { compactCount } from "../time";
import { ErrorMessage } from "../ui/ErrorMessage";
import { HeartIcon } from "../ui/icons";
import { LoadMore } from "../ui/LoadMore";
import { Spinner } from "../ui/Spinner";
import { usePager } from "../ui/use-pager";

graphql(`
  fragment GridVideo on Video {
    id
    title
    coverUrl
    favoriteCount
  }
`);

export const UserVideosDocument = graphql(`
  query UserVideos($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id
      videos(first: $first, after: $after) {
        nodes {
          ...GridVideo
        }
        nextCursor
        hasMore
      }
    }
  }
`);

const LikedVideosDocument = graphql(`
  query LikedVideos($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id
      likedVideos(first: $first, after: $after) {
        nodes {
          ...GridVideo
        }
        nextCursor
        hasMore
      }
    }
  }
`);

export function VideoGrid({ userId, kind }: { userId: string; kind: "videos" | "liked" }) {
  const published = useQuery(UserVideosDocument, {
    variables: { id: userId, first: GRID_PAGE_SIZE },
    skip: kind !== "videos",
    fetchPolicy: "cache-and-network",
  });
  const liked = useQuery(LikedVideosDocument, {
    variables: { id: userId, first: GRID_PAGE_SIZE },
    skip: kind !== "liked",
    fetchPolicy: "cache-and-network",
  });
  const result = kind === "videos" ? published : liked;
  const connection = kind === "videos" ? published.data?.user?.videos : liked.data?.user?.likedVideos;
  const pager = usePager(connection, (after) => result.fetchMore({ variables: { after } }));

  if (!connection) {
    return result.error ? <ErrorMessage error={result.error} onRetry={() => void result.refetch().catch(() => undefined)} /> : <Spinner />;
  }
  if (connection.nodes.length === 0)
    return <p className="muted list-empty">{kind === "videos" ? "No videos yet." : "No liked videos yet."}</p>;
  return (
    <>
      <ul className="grid" aria-label={kind === "videos" ? "Videos" : "Liked videos"}>
        {connection.nodes.map((video: GridVideoFragment) => (
          <li key={video.id}>
            <Link className="grid-item" to={paths.video(video.id)} aria-label={video.title}>
              <img src={video.coverUrl} alt="" loading="lazy" />
              <span className="grid-likes">
                <HeartIcon width={14} height={14} /> {compactCount(video.favoriteCount)}
              </span>
            </Link>
          </li>
        ))}
      </ul>
      <LoadMore {...pager} />
    </>
  );
}
