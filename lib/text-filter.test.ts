import assert from "node:assert/strict";
import { describe, it } from "node:test";
import path from "node:path";
import { projectRoot } from "../platform/config";
import { SensitiveWordFilter } from "./text-filter";
import { checkText, checkUserText, codePointLength } from "./text";

describe("SensitiveWordFilter", () => {
  it("masks CJK words code point for code point", () => {
    const filter = new SensitiveWordFilter(["赌博", "毒品"]);
    assert.equal(filter.mask("这里不许赌博和毒品交易"), "这里不许**和**交易");
    assert.equal(filter.mask("干净的标题"), "干净的标题");
  });

  it("masks overlapping and nested words entirely", () => {
    const filter = new SensitiveWordFilter(["abc", "bcd", "c", "她说", "说谎"]);
    assert.equal(filter.mask("xabcdx"), "x****x");
    assert.equal(filter.mask("她说谎了"), "***了");
    assert.equal(filter.mask("ccc"), "***");
  });

  it("finds a word after a partial match that failed (failure links)", () => {
    const filter = new SensitiveWordFilter(["aab", "ab"]);
    assert.equal(filter.mask("aaab"), "a***");
  });

  it("matches Latin words case-insensitively and leaves surrogate pairs intact", () => {
    const filter = new SensitiveWordFilter(["bad"]);
    assert.equal(filter.mask("so BaD 😀 bad"), "so *** 😀 ***");
    assert.equal(new SensitiveWordFilter(["😀"]).mask("a😀b"), "a*b");
  });

  it("reads the word list file, ignoring comments and blank lines", () => {
    const filter = SensitiveWordFilter.fromFile(path.join(projectRoot, "lib", "sensitive-words.txt"));
    assert.ok(filter.size > 0);
    assert.ok(filter.contains("我要赌博"));
    assert.equal(filter.contains("# Sensitive"), false);
  });
});

describe("checkText", () => {
  it("counts Unicode code points, not bytes or UTF-16 units", () => {
    assert.equal(codePointLength("😀😀"), 2);
    assert.equal(checkText("名".repeat(32), "username", { max: 32 }), "名".repeat(32));
    assert.throws(() => checkText("名".repeat(33), "username", { max: 32 }), /too long/);
    assert.throws(() => checkText("", "title", { max: 5 }), /must not be empty/);
    assert.throws(() => checkText("   ", "title", { max: 5 }), /must not be empty/);
    assert.throws(() => checkText("a\u0000b", "title", { max: 5 }), /control/);
    assert.throws(() => checkText("a\nb", "username", { max: 5, singleLine: true }), /control/);
  });
});

describe("checkUserText", () => {
  it("refuses bidi controls and invisible format characters in published text", () => {
    for (const sneaky of [
      "pay \u202Egnp.exe",
      "ba\u200Bd word",
      "\u2066x\u2069",
      "\uFEFFtitle",
      "soft\u00ADhyphen",
      "a\u200Cb",
      "\u200Dalone",
    ]) {
      assert.throws(() => checkUserText(sneaky, "comment_text", { max: 50 }), /invisible or direction-changing/, JSON.stringify(sneaky));
    }
  });

  it("keeps emoji whose joiners and tags are format characters, and everything checkText checks", () => {
    for (const emoji of [
      "family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}",
      "\u{1F44D}\u{1F3FD}\u200D\u{1F5E8}\uFE0F",
      "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} go",
      "中文 标题 😀",
    ]) {
      assert.equal(checkUserText(emoji, "title", { max: 50 }), emoji);
    }
    assert.throws(() => checkUserText("ab\u200D", "title", { max: 50 }), /invisible/, "a joiner with no emoji on both sides");
    assert.throws(() => checkUserText("x".repeat(6), "title", { max: 5 }), /too long/);
    assert.throws(() => checkUserText("a\u0000b", "title", { max: 5 }), /control/);
  });
});
