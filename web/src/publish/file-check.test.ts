// What is refused before uploading, and how progress reads.
import { describe, expect, it } from "vitest";
import { percent, problemWithFile } from "./file-check";

describe("problemWithFile", () => {
  it("refuses nothing chosen, an empty file and a file the browser knows is not a video", () => {
    expect(problemWithFile(null)).toBe("Choose a video file.");
    expect(problemWithFile({ name: "a.mp4", size: 0, type: "video/mp4" })).toBe("That file is empty.");
    expect(problemWithFile({ name: "cat.png", size: 10, type: "image/png" })).toMatch(/“cat.png” is not a video/);
  });

  it("leaves the rest to the server, which probes the file", () => {
    expect(problemWithFile({ name: "clip.mp4", size: 10, type: "video/mp4" })).toBeNull();
    expect(problemWithFile({ name: "clip.weird", size: 10, type: "" })).toBeNull();
  });
});

describe("percent", () => {
  it("rounds down and knows nothing before the size is known", () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(999, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
  });
});
