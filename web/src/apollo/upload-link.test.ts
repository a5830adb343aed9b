// Files in variables become the GraphQL multipart request spec's `operations` and `map`.
import { describe, expect, it } from "vitest";
import { extractFiles, hasFiles } from "./upload-link";

describe("extractFiles", () => {
  it("replaces each file by null and maps it to where it was", () => {
    const file = new File(["bytes"], "clip.mp4", { type: "video/mp4" });
    const { variables, files } = extractFiles({ file, title: "hi", nested: { list: [1, file] } });
    expect(variables).toEqual({ file: null, title: "hi", nested: { list: [1, null] } });
    expect([...files.entries()]).toEqual([[file, ["variables.file", "variables.nested.list.1"]]]);
  });

  it("sends operations without files the ordinary way", () => {
    expect(hasFiles({ videoId: "1" })).toBe(false);
    expect(hasFiles(undefined)).toBe(false);
    expect(hasFiles({ file: new File([], "x.mp4") })).toBe(true);
  });
});
