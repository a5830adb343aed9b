// What the web client's browser test drives with: Debian's Chromium through playwright-core
// (Playwright's own browser download cannot work offline), one browser context per person,
// screenshots under test-results/web/, and the first-load budget read from the page itself.
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Without the background-networking flags this Chromium's own connections get refused here. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const WEB_DIST = path.resolve(__dirname, "..", "..", "..", "web", "dist");
export const SCREENSHOT_DIR = path.resolve(__dirname, "..", "..", "..", "test-results", "web");

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;
export const DESKTOP = { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false, deviceScaleFactor: 1 } as const;
export type Device = typeof PHONE | typeof DESKTOP;

/** Kept in the client's config.ts; the test reads and writes the token where the app keeps it. */
export const TOKEN_STORAGE_KEY = "douyin.token";
/** performance.mark the feed sets once its first page is on screen (web/src/feed/FeedPage.tsx). */
export const FEED_READY_MARK = "douyin:feed-ready";
export const JS_BUDGET_BYTES = 250 * 1024;

export function assertPrerequisites(): void {
  if (!fs.existsSync(path.join(WEB_DIST, "index.html"))) {
    throw new Error(`the web client is not built (${WEB_DIST}): run \`npm run build\` (it needs generated/schema/api.graphql)`);
  }
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface Person {
  name: string;
  device: Device;
  context: BrowserContext;
  page: Page;
  /** Browser-side failures (uncaught errors), which fail the test at the end. */
  pageErrors: string[];
  /** What the page's Content-Security-Policy blocked (each a failure too). */
  cspViolations: string[];
}

/**
 * Records what a CSP blocks in `context`'s pages: the `securitypolicyviolation` events each
 * document fires, and the console errors Chromium writes for them.
 */
export async function recordCspViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding("__reportCspViolation", (_source, violation: string) => void violations.push(violation));
  await context.addInitScript(`document.addEventListener("securitypolicyviolation", (event) => {
    window.__reportCspViolation(event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " on " + event.documentURI);
  });`);
  context.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) violations.push(`console: ${message.text()}`);
  });
  return violations;
}

export async function openPerson(browser: Browser, baseURL: string, name: string, device: Device): Promise<Person> {
  const context = await browser.newContext({ ...device, baseURL });
  const cspViolations = await recordCspViolations(context);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return { name, device, context, page, pageErrors, cspViolations };
}

export async function screenshot(person: Person, screen: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const kind = person.device === PHONE ? "phone" : "desktop";
  await person.page.screenshot({ path: path.join(SCREENSHOT_DIR, `${screen}-${kind}.png`) });
}

export interface FirstLoad {
  /** JavaScript bytes as they came over the wire (gzip: the gateway serves the .gz files). */
  javascriptBytes: number;
  scripts: number;
  /** From navigation start to the feed's first page on screen. */
  feedReadyMs: number;
  domContentLoadedMs: number;
}

/**
 * Waits until `expression` is true in the page. Not page.waitForFunction: that evaluates its
 * predicate with eval() inside the page, which the web client's CSP (no 'unsafe-eval') refuses;
 * page.evaluate goes through the DevTools protocol instead.
 */
export async function waitInPage(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Loads the feed in a fresh context (empty cache) and reads what it cost from the page. */
export async function measureFirstLoad(browser: Browser, baseURL: string, device: Device): Promise<FirstLoad> {
  const context = await browser.newContext({ ...device, baseURL });
  try {
    const page = await context.newPage();
    await page.goto("/");
    await waitInPage(page, `performance.getEntriesByName(${JSON.stringify(FEED_READY_MARK)}).length > 0`);
    // Evaluated in the page: written as a string because this file compiles without the DOM library.
    return (await page.evaluate(`(() => {
      const scripts = performance.getEntriesByType("resource").filter((entry) => new URL(entry.name).pathname.endsWith(".js"));
      const navigation = performance.getEntriesByType("navigation")[0];
      return {
        javascriptBytes: scripts.reduce((sum, entry) => sum + entry.encodedBodySize, 0),
        scripts: scripts.length,
        feedReadyMs: Math.round(performance.getEntriesByName(${JSON.stringify(FEED_READY_MARK)})[0].startTime),
        domContentLoadedMs: Math.round(navigation.domContentLoadedEventEnd),
      };
    })()`)) as FirstLoad;
  } finally {
    await context.close();
  }
}

/** Reloads until `check` holds: counters on the server settle a moment after the action. */
export async function eventuallyAfterReload(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.reload();
  }
}
