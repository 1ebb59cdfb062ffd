import { test, expect, hydrated, signIn, signUp, createWorkflow, projectWithFile, expectNewestRevision, ADMIN } from "./fixtures";

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

test("a run waits for approval on its page, and the decision lets it go on", async ({ page, problems }) => {
  problems.allow(/request failed: GET .*\/api\/v1\/runs\/.*\/events.*ERR_ABORTED/);
  await signUp(page, "Release Manager");
  const workflow = await createWorkflow(page, "Gated release", [
    { id: "review", type: "approval", config: { message: "Release {{ input.version }}?", timeout_minutes: 60 }, next: [{ to: "announce" }] },
    { id: "announce", type: "template", config: { template: "{{ input.version }}: {{ steps.review.output.comment }}" } },
  ]);
  const started = await page.request.post(`/api/v1/workflows/${workflow}/runs`, { data: { input: { version: "2.1" } } });
  expect(started.status()).toBe(201);
  const run = (await started.json()).data.id as string;

  // The bell says a run waits, and its notice leads to the run.
  await expect(page.getByTestId("bell-count")).toHaveText("1", { timeout: 20_000 });
  await page.getByTestId("bell").click();
  await page.getByRole("region", { name: "Notifications" }).getByRole("link", { name: /waits for your approval/ }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run}$`));
  await hydrated(page);
  await expect(page.getByTestId("run-status")).toContainText("waiting");
  const panel = page.getByRole("region", { name: "Approval for review" });
  await expect(panel.getByTestId("approval-message")).toHaveText("Release 2.1?");
  await expect(panel).toContainText("If nobody decides by");
  await expect(panel).toContainText("it is rejected");

  // The runs list shows it waiting too.
  await page.goto("/runs?status=waiting");
  await expect(page.getByRole("row", { name: /Gated release/ })).toContainText("waiting");
  await page.goto(`/runs/${run}`);
  await hydrated(page);

  await panel.getByLabel("Comment (optional)").fill("ship it");
  await panel.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 20_000 });
  await expect(panel).toBeHidden();
  await expect(page.getByTestId("step-announce")).toContainText("2.1: ship it");
});

test("approving a proposed change set writes it as revisions the editor's history shows", async ({ page, problems }) => {
  problems.allow(/request failed: GET .*\/api\/v1\/runs\/.*\/events.*ERR_ABORTED/);
  await signUp(page, "Change Reviewer");
  const { id: project, file } = await projectWithFile(page, "app.py", "x = eval(y)\n");
  const workflow = await createWorkflow(page, "Proposed fix", [
    {
      id: "propose",
      type: "script",
      config: { code: "return { changes: { project: input.project, files: input.files } };" },
      next: [{ to: "review" }],
    },
    { id: "review", type: "approval", config: { message: "Apply the fix?", apply: "propose" } },
  ]);
  const started = await page.request.post(`/api/v1/workflows/${workflow}/runs`, {
    data: {
      input: {
        project,
        files: [
          { path: "app.py", base_revision: 1, content: "x = int(y)\n" },
          { path: "lib/safe.py", base_revision: null, content: "SAFE = True\n" },
        ],
      },
    },
  });
  const run = (await started.json()).data.id as string;
  await page.goto(`/runs/${run}`);
  await hydrated(page);
  const panel = page.getByRole("region", { name: "Approval for review" });
  const changes = panel.getByRole("list", { name: "Proposed changes" });
  await expect(changes).toContainText("app.py", { timeout: 20_000 });
  await expect(changes).toContainText("lib/safe.py(new)");
  await expect(changes.locator("[data-conflict=true]")).toHaveCount(0);
  await panel.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 20_000 });

  await expectNewestRevision(page, project, file, "app.py", 2, `Run ${run}, step propose`);
});
