// Publishing: pick a file and a title, watch the upload's progress, then see the new video with
// its cover. A refused file (too large, not a video) is explained in the server's own words.
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth/session";
import { TITLE_MAX_LENGTH } from "../config";
import { graphql } from "../gql";
import { navigate, paths } from "../router";
import { ErrorMessage } from "../ui/ErrorMessage";
import { percent, problemWithFile } from "./file-check";

const PublishDocument = graphql(`
  mutation PublishVideo($file: Upload!, $title: String!) {
    publishVideo(file: $file, title: $title) {
      ...VideoCard
    }
  }
`);

type Stage = { name: "editing" } | { name: "uploading"; percent: number } | { name: "processing" } | { name: "failed"; error: unknown };

export default function PublishPage() {
  const session = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [stage, setStage] = useState<Stage>({ name: "editing" });
  const [hint, setHint] = useState<string | null>(null);
  const [publish] = useMutation(PublishDocument);
  const busy = stage.name === "uploading" || stage.name === "processing";

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const problem = problemWithFile(file) ?? (title.trim() ? null : "Give the video a title.");
    setHint(problem);
    if (problem || !file) return;
    setStage({ name: "uploading", percent: 0 });
    try {
      const { data } = await publish({
        variables: { file, title: title.trim() },
        context: {
          onUploadProgress: (loaded: number, total: number) =>
            // Once every byte is out, the server still probes the file and cuts the cover.
            setStage(loaded >= total && total > 0 ? { name: "processing" } : { name: "uploading", percent: percent(loaded, total) }),
        },
        update(cache, { data: published }) {
          if (!published || !session.viewer) return;
          cache.modify({
            id: cache.identify({ __typename: "User", id: session.viewer.id }),
            fields: { workCount: (count: number) => count + 1, videos: (_value, { DELETE }) => DELETE },
          });
          // Newest first: the feed starts again from the top to show it.
          cache.evict({ id: "ROOT_QUERY", fieldName: "feed" });
        },
      });
      if (data) navigate(paths.video(data.publishVideo.id), { replace: true });
    } catch (error) {
      setStage({ name: "failed", error });
    }
  };

  return (
    <div className="page narrow">
      <h1>Publish a video</h1>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label className="field">
          <span>Video file</span>
          <input
            type="file"
            accept="video/*"
            disabled={busy}
            onChange={(event) => {
              const chosen = event.target.files?.[0] ?? null;
              setFile(chosen);
              setHint(chosen ? problemWithFile(chosen) : null);
              setStage({ name: "editing" });
            }}
          />
        </label>
        <label className="field">
          <span>Title</span>
          <input
            value={title}
            onChange={(event) => setTitle(event.target.value)}
            maxLength={TITLE_MAX_LENGTH}
            disabled={busy}
            placeholder="What is it about?"
          />
        </label>
        {hint ? (
          <p className="field-error" role="alert">
            {hint}
          </p>
        ) : null}
        {stage.name === "uploading" || stage.name === "processing" ? (
          <div className="upload-progress">
            <progress max={100} value={stage.name === "processing" ? 100 : stage.percent} aria-label="Upload progress" />
            <span role="status">{stage.name === "processing" ? "Processing the video…" : `Uploading ${stage.percent}%`}</span>
          </div>
        ) : null}
        {stage.name === "failed" ? <ErrorMessage error={stage.error} onRetry={() => void submit()} /> : null}
        <button type="submit" className="button button-wide" disabled={busy}>
          {busy ? "Publishing…" : "Publish"}
        </button>
      </form>
    </div>
  );
}
