// Sensitive-word filter: Aho-Corasick over Unicode code points, so CJK text and overlapping
// or nested words are all found in one pass; every code point inside a match becomes '*'.
import fs from "node:fs";

interface Node {
  next: Map<string, number>;
  fail: number;
  /** Lengths (in code points) of the words that end at this node, including via fail links. */
  outputs: number[];
}

const fold = (char: string) => {
  const lower = char.toLowerCase();
  return [...lower].length === 1 ? lower : char;
};

export class SensitiveWordFilter {
  private readonly nodes: Node[] = [{ next: new Map(), fail: 0, outputs: [] }];
  readonly size: number;

  constructor(words: Iterable<string>) {
    let size = 0;
    for (const raw of words) {
      const word = [...raw.trim()].map(fold);
      if (word.length === 0) continue;
      let state = 0;
      for (const char of word) {
        let child = this.nodes[state]!.next.get(char);
        if (child === undefined) {
          child = this.nodes.push({ next: new Map(), fail: 0, outputs: [] }) - 1;
          this.nodes[state]!.next.set(char, child);
        }
        state = child;
      }
      this.nodes[state]!.outputs.push(word.length);
      size += 1;
    }
    this.size = size;
    this.linkFailures();
  }

  /** One word a line; blank lines and lines starting with '#' are ignored. */
  static fromFile(file: string): SensitiveWordFilter {
    const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
    return new SensitiveWordFilter(lines.filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#")));
  }

  private linkFailures(): void {
    const queue: number[] = [];
    for (const child of this.nodes[0]!.next.values()) queue.push(child);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [char, child] of this.nodes[state]!.next) {
        let fallback = this.nodes[state]!.fail;
        while (fallback !== 0 && !this.nodes[fallback]!.next.has(char)) fallback = this.nodes[fallback]!.fail;
        const target = this.nodes[fallback]!.next.get(char);
        const node = this.nodes[child]!;
        node.fail = target !== undefined && target !== child ? target : 0;
        node.outputs.push(...this.nodes[node.fail]!.outputs);
        queue.push(child);
      }
    }
  }

  /** Returns the text with every listed word masked, code point for code point. */
  mask(text: string): string {
    if (this.size === 0) return text;
    const chars = [...text];
    const masked = new Array<boolean>(chars.length).fill(false);
    let found = false;
    let state = 0;
    chars.forEach((raw, index) => {
      const char = fold(raw);
      while (state !== 0 && !this.nodes[state]!.next.has(char)) state = this.nodes[state]!.fail;
      state = this.nodes[state]!.next.get(char) ?? 0;
      for (const length of this.nodes[state]!.outputs) {
        found = true;
        for (let i = index - length + 1; i <= index; i++) masked[i] = true;
      }
    });
    return found ? chars.map((char, i) => (masked[i] ? "*" : char)).join("") : text;
  }

  contains(text: string): boolean {
    return this.mask(text) !== text;
  }
}
