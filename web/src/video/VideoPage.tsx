// One video on its own page (from a profile grid, or just published), played like a feed slide.
import { useQuery } from "@apollo/client/react";
import { lazy, Suspense, useState } from "react";
import { VideoSlide } from "../feed/VideoSlide";
import { graphql } from "../gql";
import { Link, paths } from "../router";
import { ErrorMessage } from "../ui/ErrorMessage";
import { Spinner } from "../ui/Spinner";

const CommentsDrawer = lazy(() => import("../comments/CommentsDrawer"));

const VideoDocument = graphql(`
  query VideoPage($id: ID!) {
    video(id: $id) {
      ...VideoCard
    }
  }
`);

export default function VideoPage({ id }: { id: string }) {
  const { data, error, refetch } = useQuery(VideoDocument, { variables: { id } });
  const [muted, setMuted] = useState(true);
  const [comments, setComments] = useState(false);
  if (!data) {
    return (
      <div className="screen-center">
        {error ? <ErrorMessage error={error} onRetry={() => void refetch().catch(() => undefined)} /> : <Spinner />}
      </div>
    );
  }
  if (!data.video) {
    return (
      <div className="screen-center empty">
        <p>This video does not exist.</p>
        <Link className="button" to={paths.feed()}>
          Back to the feed
        </Link>
      </div>
    );
  }
  return (
    <div className="feed feed-single">
      <VideoSlide
        video={data.video}
        index={0}
        active
        preload="auto"
        muted={muted}
        onToggleMute={() => setMuted((value) => !value)}
        onOpenComments={() => setComments(true)}
      />
      {comments ? (
        <Suspense fallback={null}>
          <CommentsDrawer videoId={data.video.id} onClose={() => setComments(false)} />
        </Suspense>
      ) : null}
    </div>
  );
}
