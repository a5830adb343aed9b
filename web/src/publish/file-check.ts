// What can be told about a chosen file before sending it. The server has the last word (it
// probes the file and knows the size limit); this only spares an upload that cannot succeed.

export function problemWithFile(file: Pick<File, "size" | "type" | "name"> | null): string | null {
  if (!file) return "Choose a video file.";
  if (file.size === 0) return "That file is empty.";
  // An empty type means the browser does not know: let the server decide.
  if (file.type && !file.type.startsWith("video/")) return `“${file.name}” is not a video. Choose an MP4, MOV or WebM file.`;
  return null;
}

/** Upload progress as a whole percentage (0 until the size is known). */
export function percent(loaded: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
}
