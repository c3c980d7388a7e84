// The agent console's benchmark (issue 19) in headless Chromium. Run by
// `livedesk-bench console`, which starts the server on a seeded site and
// passes:
//   LIVEDESK_URL, SITE_ID, WIDGET_KEY
//   AGENT_EMAIL, AGENT_PASSWORD     an agent with a console password
//   CONVERSATIONS, SESSIONS         how many the site holds
//   CHROMIUM                        the browser (default /usr/bin/chromium)
// Asks the bench for updates by printing `@@load inbox` / `@@load live` /
// `@@load stop` and waiting for `ok` on stdin. Prints `perf ...` lines.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const env = process.env;
const base = (env.LIVEDESK_URL ?? "").replace(/\/$/, "");
if (!base) {
  console.error("LIVEDESK_URL is not set");
  process.exit(2);
}
const KEY = env.WIDGET_KEY;
const CONVERSATIONS = Number(env.CONVERSATIONS ?? 10000);
const SESSIONS = Number(env.SESSIONS ?? 1000);
const LATENCY_MESSAGES = Number(env.LATENCY_MESSAGES ?? 120);
const TIMEOUT = 30_000;

const stdin = createInterface({ input: process.stdin });
const replies = [];
let waiting = null;
stdin.on("line", (line) => {
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(line);
  } else replies.push(line);
});
/** Asks the bench to start (or stop) its updates; resolves when it has. */
function control(what) {
  console.log(`@@load ${what}`);
  if (replies.length) return Promise.resolve(replies.shift());
  return new Promise((resolve) => (waiting = resolve));
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const version = browser.version();
console.log(`# chromium ${version}, viewport 1440x900`);

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => console.log(`# page error: ${error.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") console.log(`# console error: ${m.text()}`);
  });
  return { context, page };
}

// --- sign in once; the cold load reuses only the cookie -------------------
const signed = await newPage();
await signed.page.goto(`${base}/console/signin`);
await signed.page.getByLabel("Email").fill(env.AGENT_EMAIL);
await signed.page.getByLabel("Password").fill(env.AGENT_PASSWORD);
await signed.page.getByRole("button", { name: "Sign in" }).click();
await signed.page.waitForURL(/\/console\/inbox\//);
await signed.page.waitForSelector(".rail");
const cookies = await signed.context.storageState();

// --- (1) cold first load ---------------------------------------------------
// A new context: empty HTTP cache, only the session cookie.
{
  const { context, page } = await newPage({ storageState: cookies });
  await page.addInitScript(() => {
    // Runs before the console's own code (injected by the debugging
    // protocol, so the console's CSP does not apply to it).
    window.__perf = { firstRow: null, input: null, longTasks: [] };
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__perf.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
    const watch = new MutationObserver(() => {
      if (window.__perf.firstRow === null && document.querySelector(".inbox-row")) {
        window.__perf.firstRow = performance.now();
        watch.disconnect();
      }
    });
    document.addEventListener("DOMContentLoaded", () => watch.observe(document.body, { childList: true, subtree: true }));
    document.addEventListener(
      "input",
      (e) => {
        if (window.__perf.input === null && e.target.id === "inbox-search") window.__perf.input = performance.now();
      },
      true,
    );
  });
  await page.goto(`${base}/console/inbox/all`);
  await page.locator(".inbox-row").first().waitFor();
  const typedAt = await page.evaluate(() => performance.now());
  await page.locator("#inbox-search").pressSequentially("x");
  await page.waitForFunction(() => window.__perf.input !== null);
  await sleep(1000);
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const assets = resources.filter((e) => /\.(js|css)(\?|$)/.test(new URL(e.name).pathname));
    return {
      firstRow: window.__perf.firstRow,
      input: window.__perf.input,
      domContentLoaded: nav.domContentLoadedEventEnd,
      loadEvent: nav.loadEventEnd,
      html: { transfer: nav.transferSize, encoded: nav.encodedBodySize, decoded: nav.decodedBodySize },
      assets: assets.map((e) => ({ name: new URL(e.name).pathname, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize, end: e.responseEnd })),
      longTasks: window.__perf.longTasks,
      rowsInDom: document.querySelectorAll(".inbox-row").length,
    };
  });
  const encoded = r.assets.reduce((s, a) => s + a.encoded, 0);
  const transfer = r.assets.reduce((s, a) => s + a.transfer, 0);
  const decoded = r.assets.reduce((s, a) => s + a.decoded, 0);
  for (const a of r.assets) console.log(`# asset ${a.name}: ${a.encoded} bytes compressed (${a.transfer} transferred with headers), ${a.decoded} uncompressed, done at ${f1(a.end)} ms`);
  const encodings = await page.evaluate(async (names) => {
    const out = [];
    for (const n of names) {
      const res = await fetch(n, { cache: "force-cache" });
      out.push(res.headers.get("content-encoding") ?? "identity");
    }
    return out;
  }, r.assets.map((a) => a.name));
  const longBefore = r.longTasks.filter((t) => t.start < r.firstRow);
  console.log(
    `perf first load (cold cache): JS+CSS ${encoded} bytes compressed = ${(encoded / 1024).toFixed(1)} KiB (${[...new Set(encodings)].join(", ")} over plain HTTP; ${(transfer / 1024).toFixed(1)} KiB with headers; ${(decoded / 1024).toFixed(1)} KiB uncompressed) in ${r.assets.length} files; HTML ${r.html.encoded} bytes`,
  );
  console.log(
    `perf time to interactive inbox (cold): first row at ${f1(r.firstRow)} ms after navigation start, input answered at ${f1(r.input)} ms (typed at ${f1(typedAt)} ms); DOMContentLoaded ${f1(r.domContentLoaded)} ms, load ${f1(r.loadEvent)} ms; ${longBefore.length} long tasks before the first row (${f1(longBefore.reduce((s, t) => s + t.duration, 0))} ms), ${r.longTasks.length} in all`,
  );
  await context.close();
}

// --- frame measurements -----------------------------------------------------
const page = signed.page;

/** What this headless browser's frame clock does on an idle page. */
async function idleFrames() {
  return page.evaluate(async () => {
    const times = [];
    let last = performance.now();
    await new Promise((resolve) => {
      const tick = (now) => {
        times.push(now - last);
        last = now;
        if (times.length < 300) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    return times;
  });
}

/**
 * Scrolls `selector` from inside the page's frame loop for `ms`: `mode`
 * "bottom" jumps to the end every frame (paging the list in), "sweep"
 * moves `step` px a frame back and forth over the whole list. Returns frame
 * deltas, long tasks and the list's length (spacer height / row height).
 */
async function scrollFrames(selector, rowHeight, mode, step, ms, stopAtRows = Infinity) {
  const before = await metrics();
  // PROFILE=1: a JavaScript CPU profile of each phase, its top functions.
  if (env.PROFILE === "1") {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.start");
  }
  const result = await scrollFramesIn(selector, rowHeight, mode, step, ms, stopAtRows);
  result.spent = spent(before, await metrics());
  if (env.PROFILE === "1") {
    const { profile } = await cdp.send("Profiler.stop");
    const self = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    for (let i = 0; i < profile.samples.length; i++) {
      const n = byId.get(profile.samples[i]);
      const cf = n.callFrame;
      const key = `${cf.functionName || "(anonymous)"} ${cf.url.split("/").pop()}:${cf.lineNumber}:${cf.columnNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    for (const [k, v] of top) console.log(`# profile ${mode} ${step}: ${v.toFixed(0)} ms ${k}`);
  }
  return result;
}

async function scrollFramesIn(selector, rowHeight, mode, step, ms, stopAtRows) {
  return page.evaluate(
    async ({ selector, rowHeight, mode, step, ms, stopAtRows }) => {
      const el = document.querySelector(selector);
      const spacer = () => el.querySelector(".vlist-spacer");
      const count = () => Math.round(spacer().getBoundingClientRect().height / rowHeight);
      const times = [];
      const longTasks = [];
      const observer = new PerformanceObserver((l) => {
        for (const e of l.getEntries()) longTasks.push(e.duration);
      });
      observer.observe({ type: "longtask", buffered: false });
      let loaf = [];
      let loafObserver = null;
      try {
        loafObserver = new PerformanceObserver((l) => {
          for (const e of l.getEntries()) loaf.push(e.duration);
        });
        loafObserver.observe({ type: "long-animation-frame", buffered: false });
      } catch {
        loaf = null;
      }
      const started = performance.now();
      let last = started;
      let direction = 1;
      let reached = null;
      await new Promise((resolve) => {
        const tick = (now) => {
          times.push(now - last);
          last = now;
          if (mode === "bottom") el.scrollTop = el.scrollHeight;
          else {
            el.scrollTop += direction * step;
            if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) direction = -1;
            else if (el.scrollTop <= 0) direction = 1;
          }
          // (Only the paging phase reads the list's length each frame: the
          // read forces a layout.)
          if (mode === "bottom" && reached === null && count() >= stopAtRows) reached = now - started;
          if (now - started < ms && reached === null) requestAnimationFrame(tick);
          else resolve();
        };
        requestAnimationFrame(tick);
      });
      observer.disconnect();
      loafObserver?.disconnect();
      times.shift(); // the first delta measures the evaluate call, not a frame
      return { times, longTasks, loaf, rows: count(), inDom: el.querySelectorAll(".vlist-rows > *").length, elapsed: performance.now() - started, reached };
    },
    { selector, rowHeight, mode, step, ms, stopAtRows },
  );
}

// Where the main thread's time went (Chromium's own counters, seconds).
const cdp = await signed.context.newCDPSession(signed.page);
await cdp.send("Performance.enable");
async function metrics() {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}
function spent(before, after) {
  const d = (k) => ((after[k] ?? 0) - (before[k] ?? 0)) * 1000;
  return `main thread: tasks ${d("TaskDuration").toFixed(0)} ms, script ${d("ScriptDuration").toFixed(0)} ms, style ${d("RecalcStyleDuration").toFixed(0)} ms, layout ${d("LayoutDuration").toFixed(0)} ms`;
}

/** Frames over 17 ms (one 60 Hz vsync plus jitter) and over 34 ms (a frame lost). */
function report(label, f) {
  const over = f.times.filter((t) => t > 17).length;
  const two = f.times.filter((t) => t > 34).length;
  const lt = f.longTasks.length ? `${f.longTasks.length} long tasks (max ${f1(Math.max(...f.longTasks))} ms, total ${f1(f.longTasks.reduce((s, t) => s + t, 0))} ms)` : "0 long tasks";
  const loaf = f.loaf ? `, ${f.loaf.length} long animation frames over 50 ms` : "";
  console.log(
    `perf ${label}: ${f.times.length} frames in ${(f.elapsed / 1000).toFixed(1)} s, p50 ${f1(percentile(f.times, 50))} ms, p99 ${f1(percentile(f.times, 99))} ms, max ${f1(Math.max(...f.times))} ms, ${over} over 17 ms, ${two} over 34 ms; ${lt}${loaf}; list holds ${f.rows} rows, ${f.inDom} in the DOM${f.spent ? `; ${f.spent}` : ""}`,
  );
}

{
  await page.goto(`${base}/console/me`);
  await page.locator("main").waitFor();
  const idle = await idleFrames();
  console.log(`perf baseline (idle page, no updates): ${idle.length} frames, p50 ${f1(percentile(idle, 50))} ms, p99 ${f1(percentile(idle, 99))} ms, ${idle.filter((t) => t > 17).length} over 17 ms`);
}

for (const [label, path, selector, rowHeight, total, load] of [
  ["inbox", "/inbox/all", ".inbox-list .vlist", 86, CONVERSATIONS, "inbox"],
  ["live view", "/live", ".live-table .vlist", 64, SESSIONS, "live"],
]) {
  await page.goto(`${base}/console${path}`);
  await page.locator(`${selector} .vlist-rows > *`).first().waitFor();
  // HIDE=<css selector>: a diagnosis aid, hides those elements (display: none).
  if (env.HIDE) await page.evaluate((sel) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(`${sel} { display: none !important; }`);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }, env.HIDE);
  await sleep(500);
  // Without updates: scroll the first rows.
  report(`${label}, no updates, sweep 120 px/frame`, await scrollFrames(selector, rowHeight, "sweep", 120, 5000));
  await control(load);
  try {
    await sleep(1000);
    const paging = await scrollFrames(selector, rowHeight, "bottom", 0, 300_000, total);
    report(`${label}, 50 updates/s, paging in to ${total} rows (scrolled to the end every frame; ${paging.reached === null ? "did NOT reach" : `reached in ${(paging.reached / 1000).toFixed(1)} s`})`, paging);
    report(`${label}, 50 updates/s, sweep 120 px/frame over all rows`, await scrollFrames(selector, rowHeight, "sweep", 120, 10_000));
    report(`${label}, 50 updates/s, sweep 2000 px/frame over all rows`, await scrollFrames(selector, rowHeight, "sweep", 2000, 10_000));
    await page.evaluate((s) => (document.querySelector(s).scrollTop = 0), selector);
    report(`${label}, 50 updates/s, at the top, no scrolling`, await scrollFrames(selector, rowHeight, "sweep", 0, 5000));
  } finally {
    await control("stop");
  }
}

// --- (4) visitor message → visible in the agent's open conversation -------
async function widget(path, body, token) {
  const response = await fetch(`${base}/widget/v1/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`widget ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const run = Math.random().toString(36).slice(2, 7);
const visitor = await widget("sessions", { widgetKey: KEY, tabId: `perf-${run}`, path: "/pricing" });
const first = await widget("messages", { body: `hello from the latency visitor ${run}`, clientMessageId: `lat-${run}-first` }, visitor.token);
const conversationId = first.conversationId;
await page.goto(`${base}/console/inbox/all/${conversationId}`);
await page.locator(".messages .msg[data-author=visitor]").first().waitFor();
await page.evaluate(() => {
  window.__seen = {};
  const scan = () => {
    const at = performance.timeOrigin + performance.now();
    for (const body of document.querySelectorAll(".msg[data-author=visitor] .msg-body")) {
      const t = body.textContent;
      if (t && t.startsWith("lat-") && !window.__seen[t]) window.__seen[t] = at;
    }
  };
  new MutationObserver(scan).observe(document.querySelector(".messages"), { childList: true, subtree: true, characterData: true });
});

async function latency(label, n) {
  const values = [];
  const posts = [];
  for (let i = 0; i < n; i++) {
    const text = `lat-${run}-${label.replace(/\W+/g, "")}-${i}`;
    const sentAt = performance.timeOrigin + performance.now();
    await widget("messages", { body: text, clientMessageId: text }, visitor.token);
    posts.push(performance.timeOrigin + performance.now() - sentAt);
    const until = Date.now() + 10_000;
    let seen;
    for (;;) {
      seen = await page.evaluate((t) => window.__seen[t] ?? null, text);
      if (seen !== null || Date.now() > until) break;
      await sleep(10);
    }
    if (seen === null) throw new Error(`message ${i} (${label}) never showed in the agent's conversation`);
    values.push(seen - sentAt);
    await sleep(150);
  }
  console.log(
    `visitor message → agent conversation (${label}): p50 ${f1(percentile(values, 50))} ms p99 ${f1(percentile(values, 99))} ms max ${f1(Math.max(...values))} ms over ${values.length} messages (widget POST p50 ${f1(percentile(posts, 50))} ms p99 ${f1(percentile(posts, 99))} ms)`,
  );
}

await latency("no other load", LATENCY_MESSAGES);
await control("inbox");
try {
  await latency("while 50 visitor messages/s go to other conversations", LATENCY_MESSAGES);
} finally {
  await control("stop");
}

await browser.close();
stdin.close();
console.log("ok");
process.exit(0);
