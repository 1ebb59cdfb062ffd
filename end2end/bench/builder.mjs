// The builder's browser benchmark: opens generated workflows of 100, 500 and 1,000 steps
// in Chromium and measures time to interactive, frame times while panning and while
// dragging one node (3 s each), and memory. Run it with scripts/bench-builder.sh, which
// builds the release site and starts a server; results go to docs/benchmarks.md by hand.
//
//   AURA_BENCH_BASE_URL=http://127.0.0.1:3000 node end2end/bench/builder.mjs [sizes…]
import { chromium } from "@playwright/test";

const base = process.env.AURA_BENCH_BASE_URL;
if (!base) throw new Error("set AURA_BENCH_BASE_URL");
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const SIZES = sizes.length ? sizes : [100, 500, 1000];
const RUNS = Number(process.env.AURA_BENCH_RUNS ?? 3);
const WIDTH = 8; // steps per layer

/** A layered workflow: `start` fans out to the first layer, each step leads to the one below. */
function workflow(n) {
  const steps = [];
  for (let i = 0; i < n; i++) {
    const next = [];
    if (i === 0) for (let j = 1; j <= WIDTH && j < n; j++) next.push({ to: `s${j}` });
    else if (i + WIDTH < n) next.push({ to: `s${i + WIDTH}` });
    steps.push({ id: `s${i}`, type: "template", config: { template: `step ${i}: {{ input.name }}` }, next });
  }
  return { steps };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => quantile(xs, 0.5);

const browser = await chromium.launch({
  executablePath: process.env.AURA_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-precise-memory-info"],
});
const context = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 900 } });
await context.addInitScript(() => {
  // When the page became interactive (hydrated), and the WASM module's memory.
  new MutationObserver(() => {
    if (!window.__interactive && document.body?.hasAttribute("data-hydrated")) window.__interactive = performance.now();
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  // Script time per pointer move: from the first listener (window, capturing) to the
  // last (window, bubbling), which includes the canvas handler and the effects it runs.
  window.__handling = [];
  addEventListener("pointermove", () => (window.__moveStart = performance.now()), { capture: true });
  addEventListener("pointermove", () => {
    if (window.__moveStart != null) window.__handling.push(performance.now() - window.__moveStart);
    window.__moveStart = null;
  });
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = async (...args) => {
      const result = await original.apply(WebAssembly, args);
      const instance = result.instance ?? result;
      if (instance?.exports?.memory) window.__wasmMemory = instance.exports.memory;
      return result;
    };
  }
});
const page = await context.newPage();
const problems = [];
page.on("console", (m) => (m.type() === "error" || m.type() === "warning") && problems.push(m.text()));
page.on("pageerror", (e) => problems.push(e.message));

await page.goto("/signup");
await page.waitForSelector("body[data-hydrated]");
await page.getByLabel("Email").fill(`bench.${Date.now()}@example.com`);
await page.getByLabel("Display name").fill("Bench");
await page.getByLabel("Password").fill("correct horse battery staple");
await page.getByRole("button", { name: "Create account" }).click();
await page.waitForURL(/\/$/);

/** Records the gap between animation frames while `act` runs, and the script time of
 * each pointer move; returns both in ms. */
async function frames(act) {
  await page.evaluate(() => {
    window.__handling = [];
    window.__gaps = [];
    window.__recording = true;
    let last = performance.now();
    const tick = (t) => {
      window.__gaps.push(t - last);
      last = t;
      if (window.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await act();
  return page.evaluate(() => {
    window.__recording = false;
    return { gaps: window.__gaps.slice(1), handling: window.__handling };
  });
}

/** Moves the pressed mouse in a circle around (x, y) for `ms`. */
async function circle(x, y, radius, ms) {
  await page.mouse.move(x, y);
  await page.mouse.down();
  const start = Date.now();
  let a = 0;
  while (Date.now() - start < ms) {
    a += 0.12;
    await page.mouse.move(x + radius * Math.cos(a) - radius, y + radius * Math.sin(a));
  }
  await page.mouse.up();
}

const cdp = await context.newCDPSession(page);
await cdp.send("Performance.enable");
const rows = [];
for (const n of SIZES) {
  const created = await page.request.post("/api/v1/workflows", { data: { name: `Bench ${n}`, definition: workflow(n) } });
  if (created.status() !== 201) throw new Error(`create ${n}: ${created.status()} ${await created.text()}`);
  const id = (await created.json()).data.id;
  // The first open lays the version out (kept by the server); save those positions, as
  // the builder does, so the measured opens are the everyday case.
  await page.goto(`/workflows/${id}`);
  await page.waitForSelector("body[data-hydrated]");
  await page.locator("[data-node=s0]").click();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Control+s");
  await page.getByTestId("builder-status").filter({ hasText: "saved" }).waitFor();

  const samples = { tti: [], html: [], pan: [], drag: [], panWork: [], dragWork: [] };
  let memory;
  for (let run = 0; run < RUNS; run++) {
    await page.goto(`/workflows/${id}`);
    await page.waitForSelector("body[data-hydrated]");
    await page.waitForFunction((n) => document.querySelectorAll("[data-node]").length === n, n);
    const nav = await page.evaluate(() => {
      const t = performance.getEntriesByType("navigation")[0];
      return { interactive: window.__interactive, html: t.responseEnd };
    });
    samples.tti.push(nav.interactive);
    samples.html.push(nav.html);

    const box = await page.getByTestId("canvas").boundingBox();
    // Pan: press on empty canvas (the left edge, below the zoom buttons) and circle.
    const pan = await frames(() => circle(box.x + 160, box.y + box.height - 30, 120, 3000));
    samples.pan.push(...pan.gaps);
    samples.panWork.push(...pan.handling);
    // Drag one node (the first step) in a circle.
    const node = await page.locator("[data-node=s0]").boundingBox();
    const drag = await frames(() => circle(node.x + 60, node.y + 20, 100, 3000));
    samples.drag.push(...drag.gaps);
    samples.dragWork.push(...drag.handling);

    if (run === RUNS - 1) {
      await cdp.send("HeapProfiler.collectGarbage");
      const { metrics } = await cdp.send("Performance.getMetrics");
      const metric = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
      memory = {
        js: metric("JSHeapUsedSize"),
        wasm: await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? 0),
        nodes: metric("Nodes"),
      };
    }
  }
  const ms = (x) => `${x.toFixed(1)} ms`;
  const mb = (x) => `${(x / 1048576).toFixed(1)} MB`;
  const spread = (xs) => `${ms(median(xs))} / ${ms(quantile(xs, 0.95))} / ${ms(Math.max(...xs))}`;
  rows.push(
    `| ${n} | ${ms(median(samples.html))} | ${ms(median(samples.tti))} | ` +
      `${spread(samples.pan)} | ${spread(samples.panWork)} | ${spread(samples.drag)} | ${spread(samples.dragWork)} | ` +
      `${mb(memory.js)} | ${mb(memory.wasm)} | ${memory.nodes} |`,
  );
  console.error(`${n} steps done (${samples.pan.length} pan frames, ${samples.drag.length} drag frames)`);
}
await browser.close();

console.log(`Runs per size: ${RUNS}. Medians over runs; frame gaps pooled over runs.\n`);
console.log("| Steps | HTML received | Interactive | Pan: frame gap p50 / p95 / worst | Pan: script per move | Drag: frame gap | Drag: script per move | JS heap | WASM memory | DOM nodes |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
if (problems.length) {
  console.log("\nBrowser problems:\n" + problems.map((p) => `- ${p}`).join("\n"));
  process.exitCode = 1;
}
