// Every relative link in the repository's Markdown resolves: to a file or folder of the
// repository (tracked, or new and not ignored, so never to something only a build writes) and,
// with an #anchor into Markdown, to a heading there, slugged as GitHub does. A link may leave
// the repository only as an absolute URL, so the documents read the same on any clone.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../platform/registry";

/** What a walk skips when git cannot say which files belong to the repository. */
const NOT_SOURCES = new Set([".git", "node_modules", "dist", "generated", "data", "test-results", "coverage"]);

/** The repository's files, relative to its root with `/` separators: git's view (tracked, or untracked and not ignored). */
function repositoryFiles(): string[] {
  try {
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
      cwd: projectRoot,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    return listed.split("\0").filter((file) => file && fs.existsSync(path.join(projectRoot, file)));
  } catch {
    return fs
      .readdirSync(projectRoot, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(projectRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
      .filter((file) => !file.split("/").some((part) => NOT_SOURCES.has(part)) && !file.startsWith("web/dist/"));
  }
}

const FILES = repositoryFiles();
const FILE_SET = new Set(FILES);
const FOLDERS = new Set(
  FILES.flatMap((file) =>
    file
      .split("/")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
  ),
);
const MARKDOWN = FILES.filter((file) => file.endsWith(".md")).sort();

/** Markdown without its fenced code blocks (kept as blank lines, so line numbers hold). */
function withoutFences(markdown: string): string[] {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      return "";
    }
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
      return "";
    }
    return line;
  });
}

/** Inline code is never a link. */
const withoutInlineCode = (line: string) => line.replace(/(`+)(?:(?!\1).)+?\1/g, "");

interface Link {
  target: string;
  line: number;
}

/** Inline links and images, reference definitions, and HTML `href`/`src` attributes. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  withoutFences(markdown)
    .map(withoutInlineCode)
    .forEach((text, index) => {
      const line = index + 1;
      for (const match of text.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g))
        links.push({ target: match[1]!.replace(/^<|>$/g, ""), line });
      const definition = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
      if (definition) links.push({ target: definition[1]!.replace(/^<|>$/g, ""), line });
      for (const match of text.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/g)) links.push({ target: match[1]!, line });
    });
  return links;
}

/** A heading's anchor as GitHub makes it: the text without markup, lower case, punctuation dropped, spaces as hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "");
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a Markdown file offers: its headings' slugs (a repeated one numbered as GitHub does) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/\b(?:id|name)\s*=\s*"([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
const anchorsOfFile = (file: string) => {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(fs.readFileSync(path.join(projectRoot, file), "utf8")));
  return anchorCache.get(file)!;
};

/** What is wrong with one link of `file`, or undefined when it resolves. */
function problemOf(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    return /^(https?|mailto):/i.test(target) ? undefined : "only http(s) and mailto URLs may leave the repository";
  }
  const hash = target.indexOf("#");
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved =
    pathPart === ""
      ? file
      : path.posix.normalize(pathPart.startsWith("/") ? pathPart.slice(1) : path.posix.join(path.posix.dirname(file), pathPart));
  const relative = resolved.replace(/\/$/, "");
  if (relative === ".." || relative.startsWith("../")) return "leaves the repository (use an absolute https URL)";
  if (!FILE_SET.has(relative) && !FOLDERS.has(relative) && relative !== ".") return `no ${relative} in the repository`;
  if (anchor !== undefined && anchor !== "" && relative.endsWith(".md") && !anchorsOfFile(relative).has(anchor)) {
    return `no heading #${anchor} in ${relative}`;
  }
  return undefined;
}

describe("links in the repository's Markdown", () => {
  it("finds the documents (a check of nothing would pass)", () => {
    for (const expected of ["README.md", "docs/architecture.md", "docs/configuration.md"]) assert.ok(MARKDOWN.includes(expected), expected);
  });

  for (const file of MARKDOWN) {
    it(`${file}: every relative link resolves inside the repository`, () => {
      const problems = linksOf(fs.readFileSync(path.join(projectRoot, file), "utf8")).flatMap(({ target, line }) => {
        const problem = problemOf(file, target);
        return problem ? [`${file}:${line}: ${target}: ${problem}`] : [];
      });
      assert.deepEqual(problems, []);
    });
  }
});

describe("githubSlug", () => {
  it("makes GitHub's anchors", () => {
    assert.equal(githubSlug("Try it with curl (legacy REST)"), "try-it-with-curl-legacy-rest");
    assert.equal(githubSlug("`npm run seed:demo`"), "npm-run-seeddemo");
    assert.equal(githubSlug("Counters — the consistency model"), "counters--the-consistency-model");
    assert.equal(githubSlug("What runs where"), "what-runs-where");
    assert.equal(githubSlug("[Tracing](observability.md) and `OTEL_*`"), "tracing-and-otel_");
  });
});
