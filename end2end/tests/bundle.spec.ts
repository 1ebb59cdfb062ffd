import { test, expect, hydrated, signUp, createWorkflow, type Page } from "./fixtures";

// The builder and run pages' code is in lazily loaded WASM chunks (`cargo leptos build
// --split`): one per page plus the canvas they share. Other pages never download them; a
// canvas page downloads its own chunks once, whether opened directly (the server preloads
// them) or reached through a link.
const CHUNK = /\/pkg\/(split|chunk)_[^/]*\.wasm$/;
const BUILDER = /\/pkg\/split___builder_route_view_[^/]*\.wasm$/;
const RUN = /\/pkg\/split___run_route_view_[^/]*\.wasm$/;

function wasmRequests(page: Page) {
  const seen: string[] = [];
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.endsWith(".wasm")) seen.push(path);
  });
  return seen;
}

const matching = (seen: string[], re: RegExp) => seen.filter((p) => re.test(p));

test("the canvas pages' code loads only on the pages that draw a workflow", async ({ page }) => {
  const wasm = wasmRequests(page);
  await signUp(page, "Chunk Chen");
  const id = await createWorkflow(page, "Split", [{ id: "hello", type: "template", config: { template: "hi" } }]);
  const run = await page.request.post(`/api/v1/workflows/${id}/runs`, { data: { input: {} } });
  expect(run.status()).toBe(201);
  const runId = (await run.json()).data.id as string;
  for (const path of ["/", "/workflows", "/runs", "/projects"]) {
    await page.goto(path);
    await hydrated(page);
  }
  expect(matching(wasm, CHUNK), "chunks fetched outside the canvas pages").toEqual([]);
  expect(wasm.filter((p) => p.endsWith("/pkg/aura.wasm")).length).toBeGreaterThan(0);

  // Reached through a link: the builder's chunks load, and the builder works.
  await page.getByRole("link", { name: "Workflows", exact: true }).click();
  await page.getByRole("link", { name: "Split" }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
  await page.locator('[data-node="hello"]').click();
  await expect(page.getByLabel("Template", { exact: true })).toHaveValue("hi");
  expect(matching(wasm, BUILDER)).toHaveLength(1);
  expect(matching(wasm, RUN)).toEqual([]);

  // Opened directly: the server preloads each chunk the page needs, the loader uses the
  // preloaded response (one request per file), and the page hydrates.
  for (const [path, own, other] of [
    [`/workflows/${id}`, BUILDER, RUN],
    [`/runs/${runId}`, RUN, BUILDER],
  ] as const) {
    const html = await (await page.request.get(path)).text();
    const preloads = [...html.matchAll(/<link rel="preload" href="([^"]+)"/g)].map((m) => m[1]);
    expect(matching(preloads, own)).toHaveLength(1);
    expect(matching(preloads, other)).toEqual([]);
    wasm.length = 0;
    await page.goto(path);
    await hydrated(page);
    await expect(page.locator('[data-node="hello"]')).toBeVisible();
    const chunks = matching(wasm, CHUNK);
    expect(chunks.length, path).toBe(new Set(chunks).size);
    expect(matching(chunks, own), path).toHaveLength(1);
    expect(matching(chunks, other), path).toEqual([]);
  }
});
