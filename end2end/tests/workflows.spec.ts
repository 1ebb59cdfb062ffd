import { test, expect, hydrated, signUp, createWorkflow, type Page } from "./fixtures";

const node = (page: Page, id: string) => page.locator(`[data-node="${id}"]`);

test("a workflow is drawn from the palette, connected, filled in, saved, and reads the same after a reload", async ({ page }) => {
  await signUp(page, "Builder Bea");
  await page.goto("/workflows");
  await hydrated(page);
  await page.getByRole("link", { name: "New workflow" }).click();
  await expect(page).toHaveURL(/\/workflows\/new$/);
  await expect(node(page, "start")).toBeVisible();
  await page.getByLabel("Workflow name").fill("Triage");

  // Pressing a palette entry appends after the selected step and connects it.
  await node(page, "start").click();
  await page.getByRole("button", { name: "Add a Condition step" }).click();
  await expect(node(page, "condition")).toHaveAttribute("aria-pressed", "true");
  await page.getByLabel("Expression").fill("input.n > 1");
  await page.getByRole("button", { name: "Add a Template step" }).click();
  await expect(node(page, "template")).toBeVisible();
  await page.getByLabel("Template", { exact: true }).fill("big: {{ input.n }}");

  // Dragging a palette entry drops an unconnected step where it lands…
  const canvas = page.getByTestId("canvas");
  await page.getByRole("button", { name: "Add a Script step" }).dragTo(canvas, { targetPosition: { x: 420, y: 330 } });
  await expect(node(page, "script")).toBeVisible();
  // …and dragging from the condition's "false" handle onto it connects that branch.
  const handle = node(page, "condition").locator('[data-handle="false"]');
  const from = (await handle.boundingBox())!;
  const to = (await node(page, "script").boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + 40, to.y + 20, { steps: 8 });
  await page.mouse.up();
  await node(page, "condition").click();
  await expect(page.getByTestId("next-steps")).toContainText("→ template (when true)");
  await expect(page.getByTestId("next-steps")).toContainText("→ script (when false)");

  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("builder-status")).toHaveText("Version 1 · saved");
  await expect(page).toHaveURL(/\/workflows\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop()!;

  // Moving a step and saving keeps the version: positions are not a new version.
  const before = (await node(page, "script").boundingBox())!;
  await page.mouse.move(before.x + 60, before.y + 10);
  await page.mouse.down();
  await page.mouse.move(before.x + 160, before.y + 60, { steps: 6 });
  await page.mouse.up();
  await expect(page.getByTestId("builder-status")).toContainText("unsaved changes");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toContainText("Saved the layout.");
  await expect(page.getByTestId("builder-status")).toHaveText("Version 1 · saved");

  // The server renders the saved graph where it was left, before and after hydration.
  await page.reload();
  await hydrated(page);
  const after = (await node(page, "script").boundingBox())!;
  expect(Math.round(after.x - before.x)).toBe(100);
  expect(Math.round(after.y - before.y)).toBe(50);
  await expect(page.getByLabel("Workflow name")).toHaveValue("Triage");
  await node(page, "template").click();
  await expect(page.getByLabel("Template", { exact: true })).toHaveValue("big: {{ input.n }}");

  const saved = await (await page.request.get(`/api/v1/workflows/${id}`)).json();
  const steps = saved.data.definition.steps;
  expect(steps.map((s: { id: string }) => s.id)).toEqual(["start", "condition", "template", "script"]);
  expect(steps[1].next).toEqual([
    { to: "template", branch: "true" },
    { to: "script", branch: "false" },
  ]);
  expect(saved.data.current_version).toBe(1);
  expect(Object.keys(saved.data.layout).sort()).toEqual(["condition", "script", "start", "template"]);
});

test("a problem shows on its step and the problems list selects it", async ({ page }) => {
  await signUp(page, "Problem Pat");
  await page.goto("/workflows/new");
  await hydrated(page);
  await page.getByLabel("Workflow name").fill("Checked as typed");
  await node(page, "start").click();
  await page.getByLabel("Template", { exact: true }).fill("{{ steps.nope.output }}");
  await expect(node(page, "start").getByTestId("node-problems")).toHaveText("1");
  await expect(page.getByLabel("Template", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await page.keyboard.press("Escape");
  await page.getByTestId("problems").getByRole("button").first().click();
  await expect(node(page, "start")).toHaveAttribute("aria-pressed", "true");

  // Fixing it clears the problem.
  await page.getByLabel("Template", { exact: true }).fill("{{ input.name }}");
  await expect(node(page, "start").getByTestId("node-problems")).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "No problems" })).toBeVisible();
});

test("keyboard only: add a step, connect it, delete one, undo", async ({ page }) => {
  await signUp(page, "Keyboard Kim");
  await page.goto("/workflows/new");
  await hydrated(page);

  await node(page, "start").focus();
  await expect(node(page, "start")).toHaveAttribute("aria-pressed", "true");
  await page.getByRole("button", { name: "Add a Script step" }).focus();
  await page.keyboard.press("Enter");
  // The new step is connected after the selected one and takes focus.
  await expect(node(page, "script")).toBeFocused();
  await page.getByRole("button", { name: "Add a Template step" }).focus();
  await page.keyboard.press("Enter");
  await expect(node(page, "template")).toBeFocused();
  // Template fields offer the upstream steps' outputs as you type.
  const template = page.getByLabel("Template", { exact: true });
  await template.focus();
  await page.keyboard.press("Control+a");
  await page.keyboard.type("Got {{ steps.sc");
  await expect(page.getByRole("option", { name: "steps.script.output" })).toBeVisible();
  await page.keyboard.press("Enter");
  await page.keyboard.type(" }}");
  await expect(template).toHaveValue("Got {{ steps.script.output }}");

  // Connect start → template from the step panel.
  await node(page, "start").focus();
  await page.getByLabel("Connect to").focus();
  await page.getByLabel("Connect to").selectOption("template");
  await page.getByRole("button", { name: "Connect", exact: true }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("next-steps")).toContainText("→ template");
  // A loop is refused with its reason.
  await node(page, "template").focus();
  await page.getByLabel("Connect to").selectOption("start");
  await page.getByRole("button", { name: "Connect", exact: true }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("canvas-notice")).toHaveText("That would make a loop: start already leads to template.");

  // Arrows move the selected step; Delete removes it with its edges.
  await node(page, "script").focus();
  const box = (await node(page, "script").boundingBox())!;
  await page.keyboard.press("ArrowRight");
  await expect.poll(async () => Math.round((await node(page, "script").boundingBox())!.x - box.x)).toBe(8);
  await page.keyboard.press("Delete");
  await expect(node(page, "script")).toHaveCount(0);
  await node(page, "start").focus();
  await expect(page.getByTestId("next-steps")).not.toContainText("script");

  // Undo brings it back with its edge.
  await page.keyboard.press("Control+z");
  await expect(node(page, "script")).toHaveCount(1);
  await node(page, "start").focus();
  await expect(page.getByTestId("next-steps")).toContainText("→ script");
});

test("a save after someone else's shows both sides and keeps both as versions", async ({ page, problems }) => {
  problems.allow(/HTTP 409: POST .*\/api\/workflows\/save/);
  problems.allow(/console error: Failed to load resource: the server responded with a status of 409/);
  await signUp(page, "Conflict Cleo");
  const id = await createWorkflow(page, "Shared", [
    { id: "start", type: "template", config: { template: "hi" } },
  ]);
  const other = await page.context().newPage();
  await other.goto(`/workflows/${id}`);
  await hydrated(other);
  await page.goto(`/workflows/${id}`);
  await hydrated(page);

  // The other tab adds a step and saves version 2.
  await node(other, "start").click();
  await other.getByRole("button", { name: "Add a Template step" }).click();
  await other.getByLabel("Template", { exact: true }).fill("theirs");
  await other.keyboard.press("Control+s");
  await expect(other.getByTestId("builder-status")).toHaveText("Version 2 · saved");
  await other.close();

  // This tab, still on version 1, changes the first step and saves.
  await node(page, "start").click();
  await page.getByLabel("Template", { exact: true }).fill("mine");
  await page.keyboard.press("Control+s");
  const conflict = page.getByTestId("conflict");
  await expect(conflict).toContainText("Version 2 was saved while you were editing version 1.");
  await expect(conflict).toContainText("That version added template; changed start.");
  await expect(conflict).toContainText("You changed start.");
  await conflict.getByRole("button", { name: "Save mine as version 3" }).click();
  await expect(page.getByTestId("builder-status")).toHaveText("Version 3 · saved");

  const versions = await (await page.request.get(`/api/v1/workflows/${id}/versions`)).json();
  expect(versions.data.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
});

test("the history compares a version with the canvas, opens it read-only, and restores it as the newest", async ({ page }) => {
  await signUp(page, "Version Vic");
  const id = await createWorkflow(page, "Versioned", [
    { id: "first", type: "template", config: { template: "one" }, next: [{ to: "gone" }] },
    { id: "gone", type: "template", config: { template: "bye" } },
  ]);
  const update = await page.request.put(`/api/v1/workflows/${id}`, {
    data: {
      name: "Versioned",
      definition: {
        steps: [
          { id: "first", type: "template", config: { template: "one, changed" }, next: [{ to: "second" }] },
          { id: "second", type: "template", config: { template: "two" } },
        ],
      },
      expected_version: 1,
    },
  });
  expect(update.status()).toBe(200);

  await page.goto(`/workflows/${id}`);
  await hydrated(page);
  await page.getByRole("tab", { name: "History" }).click();
  const versions = page.getByTestId("versions");
  await expect(versions.getByRole("listitem")).toHaveCount(2);
  await expect(versions.getByRole("listitem").first()).toContainText("Version 2 (on the canvas)");
  await expect(versions.getByRole("listitem").last()).toContainText("by Version Vic");
  await page.getByRole("button", { name: "Compare version 1 with the canvas" }).click();
  await expect(page.getByTestId("comparison")).toContainText("Since version 1: added second; changed first; removed gone.");
  await expect(node(page, "second")).toHaveAttribute("data-mark", "added");
  await expect(node(page, "first")).toHaveAttribute("data-mark", "changed");
  await page.getByRole("button", { name: "Clear the comparison" }).click();
  await expect(node(page, "first")).not.toHaveAttribute("data-mark", /./);

  await page.getByRole("tab", { name: "History" }).click();
  await page.getByRole("link", { name: "Open version 1" }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}\\?version=1$`));
  await expect(page.getByRole("note")).toContainText("You are looking at version 1");
  await expect(node(page, "gone")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await page.getByRole("button", { name: "Restore version 1 as version 3" }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
  await expect(page.getByTestId("builder-status")).toHaveText("Version 3 · saved");
  await expect(node(page, "gone")).toBeVisible();
});

test("a run started from the builder shows each step's status live, and its output on the step", async ({ page }) => {
  await signUp(page, "Runner Rae");
  const id = await createWorkflow(page, "Greeter", [
    { id: "greet", type: "template", config: { template: "Hello {{ input.name }}" }, next: [{ to: "shout" }] },
    { id: "shout", type: "template", config: { template: "{{ steps.greet.output }}!" } },
  ]);
  await page.goto(`/workflows/${id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Run…" }).click();
  await expect(page.getByLabel("Input (JSON)")).toHaveValue("{}");
  await page.getByLabel("Input (JSON)").fill('{"name": "Ada"}');
  await page.getByRole("button", { name: "Start run" }).click();
  for (const step of ["greet", "shout"]) {
    await expect(node(page, step)).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
  }
  await expect(page.getByTestId("watched-run")).toContainText("succeeded");
  await node(page, "shout").click();
  await expect(page.getByTestId("step-run").getByLabel("Output")).toContainText("Hello Ada!");

  // The dialog remembers the last input.
  await page.getByRole("button", { name: "Run…" }).click();
  await expect(page.getByLabel("Input (JSON)")).toHaveValue('{"name": "Ada"}');
});
