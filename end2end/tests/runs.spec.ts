import { test, expect, hydrated, signIn, createWorkflow, ADMIN } from "./fixtures";

// Each step busy-waits so the run takes a few seconds and the page has to follow it live.
const slowStep = (id: string, next: string[]) => ({
  id,
  type: "script",
  config: {
    code: `const end = Date.now() + 900; while (Date.now() < end) {} console.log('${id} done for', input.name); return '${id}';`,
  },
  next: next.map((to) => ({ to })),
});

test("a run started from the Runs page turns its steps green live", async ({ page, problems }) => {
  // Closing the event stream once the run has finished aborts that request on purpose.
  problems.allow(/request failed: GET .*\/api\/v1\/runs\/.*\/events.*ERR_ABORTED/);

  await page.goto("/login?next=/runs");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/runs");
  await hydrated(page);

  const name = `Live steps ${Date.now()}`;
  await createWorkflow(page, name, [slowStep("first", ["second"]), slowStep("second", ["third"]), slowStep("third", [])]);
  await page.reload();
  await hydrated(page);

  await page.getByLabel("Workflow").selectOption({ label: name });
  await page.getByLabel("Input (JSON object)").fill('{"name": "Ada"}');
  await page.getByRole("button", { name: "Start run" }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name })).toBeVisible();
  // Marks this document: a reload would lose it, so the updates below must arrive live.
  await page.evaluate(() => ((window as unknown as { liveMarker: boolean }).liveMarker = true));

  const status = (id: string) => page.getByTestId(`step-${id}`);
  await expect(status("third")).not.toHaveAttribute("data-status", "succeeded");
  for (const id of ["first", "second", "third"]) {
    await expect(status(id)).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
  }
  await expect(page.getByTestId("run-status").locator("[data-status]")).toHaveAttribute("data-status", "succeeded");
  // The version on the read-only canvas: three steps in a chain, each green once it
  // succeeded, updated live.
  const graph = page.getByTestId("run-graph");
  await expect(graph.locator("[data-node]")).toHaveCount(3);
  await expect(graph.locator("[data-link]")).toHaveCount(2);
  for (const id of ["first", "second", "third"]) {
    await expect(graph.locator(`[data-node="${id}"]`)).toHaveAttribute("data-status", "succeeded");
  }
  await expect(status("third").getByLabel("Log")).toContainText("third done for Ada");
  expect(await page.evaluate(() => (window as unknown as { liveMarker?: boolean }).liveMarker)).toBe(true);

  await page.getByRole("link", { name: "← All runs" }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) }).first()).toContainText("succeeded");
});

test("bad run input is refused with a message under the field", async ({ page, problems }) => {
  problems.allow(/HTTP 422: POST .*\/api\/runs\/start/);
  problems.allow(/console error: Failed to load resource: the server responded with a status of 422/);
  await page.goto("/login?next=/runs");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/runs");
  await hydrated(page);
  const name = `Input check ${Date.now()}`;
  await createWorkflow(page, name, [{ id: "only", type: "template", config: { template: "hi" } }]);
  await page.reload();
  await hydrated(page);
  await page.getByLabel("Workflow").selectOption({ label: name });
  await page.getByLabel("Input (JSON object)").fill("[1, 2");
  await page.getByRole("button", { name: "Start run" }).click();
  await expect(page.locator("#run-input-error")).toContainText("not valid JSON");
  await expect(page).toHaveURL((url) => url.pathname === "/runs");
});
