import { test, expect, hydrated, signUp, createWorkflow, type Page } from "./fixtures";

// The builder and run pages' code is a separate WASM chunk (`cargo leptos build --split`):
// other pages never download it, and the canvas pages load it once, whether opened
// directly or reached through a link.
const CHUNK = /\/pkg\/split_[^/]*\.wasm$/;

function wasmRequests(page: Page) {
  const seen: string[] = [];
  page.on("request", (req) => {
    if (new URL(req.url()).pathname.endsWith(".wasm")) seen.push(new URL(req.url()).pathname);
  });
  return seen;
}

test("the canvas pages' code loads only on the pages that draw a workflow", async ({ page }) => {
  const wasm = wasmRequests(page);
  await signUp(page, "Chunk Chen");
  const id = await createWorkflow(page, "Split", [{ id: "hello", type: "template", config: { template: "hi" } }]);
  for (const path of ["/", "/workflows", "/runs", "/projects"]) {
    await page.goto(path);
    await hydrated(page);
  }
  expect(wasm.filter((p) => CHUNK.test(p)), "chunk fetched outside the canvas pages").toEqual([]);
  expect(wasm.filter((p) => p.endsWith("/pkg/aura.wasm")).length).toBeGreaterThan(0);

  // Reached through a link: the chunk loads, and the builder works.
  await page.getByRole("link", { name: "Workflows", exact: true }).click();
  await page.getByRole("link", { name: "Split" }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
  await page.locator('[data-node="hello"]').click();
  await expect(page.getByLabel("Template", { exact: true })).toHaveValue("hi");
  expect(wasm.filter((p) => CHUNK.test(p))).toHaveLength(1);

  // Opened directly: the server names the chunk for preloading, and the page hydrates.
  const html = await (await page.request.get(`/workflows/${id}`)).text();
  expect(html).toMatch(/<link[^>]+href="[^"]*\/pkg\/split_[^"]*\.wasm"/);
  await page.goto(`/workflows/${id}`);
  await hydrated(page);
  await page.locator('[data-node="hello"]').click();
  await expect(page.getByLabel("Template", { exact: true })).toHaveValue("hi");
});
