// What a screen shows of a video wherever one is played (feed, a single video page, just published).
import { graphql } from "../gql";

export const VideoCardFragment = graphql(`
  fragment VideoCard on Video {
    id
    title
    playUrl
    coverUrl
    favoriteCount
    commentCount
    isFavorite
    createdAt
    author {
      id
      name
      avatar
    }
  }
`);
