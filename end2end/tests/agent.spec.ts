import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, hydrated, signIn, signUp, createWorkflow, projectWithFile, expectNewestRevision, ADMIN } from "./fixtures";

/** A model server playing a coding agent over OpenAI's protocol: it reads app.py, replaces
 *  eval with int, and finishes, one call per request (chosen by how many tool results the
 *  request carries, so it keeps no state). Each answer comes 1.5 s late, so the run page
 *  has to show the transcript growing while the step runs. */
async function agentModel() {
  const turns = [
    { name: "read_file", arguments: { path: "app.py" } },
    { name: "edit_file", arguments: { path: "app.py", search: "eval(y)", replace: "int(y)" } },
    { name: "finish", arguments: { summary: "Replaced eval with int." } },
  ];
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      state.requests += 1;
      const request = JSON.parse(body);
      const answered = request.messages.filter((m: { role: string }) => m.role === "tool").length;
      const call = turns[Math.min(answered, turns.length - 1)];
      await new Promise((resolve) => setTimeout(resolve, 1500));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${state.requests}`,
          object: "chat.completion",
          model: request.model,
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: answered === 0 ? "I will look at app.py first." : null,
                tool_calls: [{ id: `call_${answered}`, type: "function", function: { name: call.name, arguments: JSON.stringify(call.arguments) } }],
              },
              finish_reason: "tool_calls",
            },
          ],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, state, close: () => server.close() };
}

test("an agent's transcript streams into the run page, its diff opens in Monaco, and approving writes a revision", async ({ page, browser, problems }) => {
  problems.allow(/request failed: GET .*\/api\/v1\/runs\/.*\/events.*ERR_ABORTED/);
  const model = await agentModel();
  const adminContext = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const admin = await adminContext.newPage();
  try {
    await admin.goto("/login");
    await signIn(admin, ADMIN.email, ADMIN.password);
    await expect(admin).toHaveURL((url) => url.pathname === "/");
    const provider = await admin.request.post("/api/v1/models/providers", {
      data: { name: "agent-e2e", protocol: "openai", base_url: model.url, api_key: "sk-agent-e2e", models: [{ name: "coder", input_per_million: 1, output_per_million: 2 }] },
    });
    expect(provider.status()).toBe(201);

    await signUp(page, "Agent Reviewer");
    const { id: project, file } = await projectWithFile(page, "app.py", "x = eval(y)\n");
    const workflow = await createWorkflow(page, "Agent fix", [
      {
        id: "fix",
        type: "agent",
        config: { goal: "Remove eval from {{ input.file }}", project, model: "agent-e2e/coder", max_iterations: 5 },
        next: [{ to: "review" }],
      },
      { id: "review", type: "approval", config: { message: "{{ steps.fix.output.summary }} Apply it?", apply: "fix" } },
    ]);
    const started = await page.request.post(`/api/v1/workflows/${workflow}/runs`, { data: { input: { file: "app.py" } } });
    expect(started.status()).toBe(201);
    const run = (await started.json()).data.id as string;
    await page.goto(`/runs/${run}`);
    await hydrated(page);

    // The transcript grows while the step runs: the first turn and its result show
    // before the agent has finished.
    const step = page.getByTestId("step-fix");
    const transcript = step.getByTestId("transcript");
    await expect(transcript).toContainText("Remove eval from app.py", { timeout: 20_000 });
    await expect(transcript).toContainText("← read_file", { timeout: 20_000 });
    await expect(transcript).toContainText("I will look at app.py first.");
    await expect(step).toHaveAttribute("data-status", "running");
    await expect(transcript).toContainText("→ edit_file", { timeout: 20_000 });
    await expect(transcript).toContainText("Edited app.py at line 1.");
    await expect(step).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
    await expect(step.getByTestId("agent-budget")).toHaveText("3 turns · 360 tokens · $0.0004");

    // The approval shows the proposal; its review page shows the diff in Monaco.
    await expect(page.getByTestId("run-status")).toContainText("waiting", { timeout: 20_000 });
    const panel = page.getByRole("region", { name: "Approval for review" });
    await expect(panel.getByTestId("approval-message")).toHaveText("Replaced eval with int. Apply it?");
    await panel.getByRole("link", { name: "Review the diff" }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/${run}/changes/review$`));
    await hydrated(page);
    await expect(page.getByRole("button", { name: "app.py" })).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByTestId("diff-title")).toHaveText("app.py: revision 1 (left) and the proposal (right)");
    const diff = page.getByTestId("change-diff").locator(".monaco-diff-editor");
    await expect(diff).toContainText("x = int(y)");
    await expect(diff).toContainText("x = eval(y)");

    // Approved from the review page, which leads back to the run as it finishes.
    const decision = page.getByRole("region", { name: "Decision" });
    await decision.getByLabel("Comment (optional)").fill("looks right");
    await decision.getByRole("button", { name: "Approve" }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/${run}$`));
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 20_000 });
    await expect(page.getByTestId("step-review")).toContainText("looks right");
    expect(model.state.requests).toBe(3);

    await expectNewestRevision(page, project, file, "app.py", 2, `Run ${run}, step fix`);
  } finally {
    const list = await admin.request.get("/api/v1/models/providers");
    for (const p of (await list.json()).data ?? []) {
      if (p.name === "agent-e2e") await admin.request.delete(`/api/v1/models/providers/${p.id}`);
    }
    await adminContext.close();
    model.close();
  }
});

test("the builder's form for a coding agent chooses its tools with a checkbox each", async ({ page }) => {
  await signUp(page, "Agent Builder");
  await page.goto("/workflows/new");
  await hydrated(page);
  await page.getByLabel("Workflow name").fill("Agent from the builder");
  await page.locator('[data-node="start"]').click();
  await page.getByRole("button", { name: "Add a Coding agent step" }).click();
  await page.getByLabel("Goal", { exact: true }).fill("Fix {{ input.file }}");
  await page.getByLabel("Project", { exact: true }).fill("api");
  await page.getByLabel("Model", { exact: true }).fill("coder");
  const tools = page.getByRole("group", { name: "Tools (optional)" });
  await expect(tools.getByRole("checkbox")).toHaveCount(8);
  // Chosen out of order, saved in the schema's order; unchecking removes one.
  await tools.getByRole("checkbox", { name: "edit_file" }).check();
  await tools.getByRole("checkbox", { name: "read_file" }).check();
  await tools.getByRole("checkbox", { name: "http" }).check();
  await tools.getByRole("checkbox", { name: "http" }).uncheck();
  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("builder-status")).toHaveText("Version 1 · saved");
  const id = page.url().split("/").pop()!;
  const saved = await (await page.request.get(`/api/v1/workflows/${id}`)).json();
  const agent = saved.data.definition.steps.find((s: { type: string }) => s.type === "agent");
  expect(agent.config).toMatchObject({ goal: "Fix {{ input.file }}", project: "api", model: "coder", tools: ["read_file", "edit_file"] });

  // After a reload the boxes show what was saved.
  await page.reload();
  await hydrated(page);
  await page.locator(`[data-node="${agent.id}"]`).click();
  await expect(page.getByRole("group", { name: "Tools (optional)" }).getByRole("checkbox", { name: "read_file" })).toBeChecked();
  await expect(page.getByRole("group", { name: "Tools (optional)" }).getByRole("checkbox", { name: "search" })).not.toBeChecked();
});
