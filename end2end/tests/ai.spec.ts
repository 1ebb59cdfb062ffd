import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, signIn, signUp, projectWithFile, ADMIN, type Page } from "./fixtures";

const REPLY = "I removed the hard-coded key.\n```python\nprint('fixed')\n```\n";

/** A model server speaking OpenAI's streaming chat completions. It answers every request
 *  with REPLY in small pieces; a prompt holding STALL gets one piece and then nothing, and
 *  `closed` counts the connections of those the client dropped. */
async function modelServer() {
  const state = { requests: 0, closed: 0 };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      state.requests += 1;
      const request = JSON.parse(body);
      const prompt = JSON.stringify(request.messages);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (delta: object, extra: object = {}) =>
        res.write(`data: ${JSON.stringify({ model: request.model, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`);
      if (prompt.includes("STALL")) {
        send({ content: "Thinking about it at length… " });
        res.on("close", () => (state.closed += 1));
        return;
      }
      for (let i = 0; i < REPLY.length; i += 12) {
        send({ content: REPLY.slice(i, i + 12) });
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      res.write(`data: ${JSON.stringify({ model: request.model, choices: [], usage: { prompt_tokens: 40, completion_tokens: 12 } })}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, state, close: () => server.close() };
}

async function readFile(page: Page, id: string, file: string) {
  const res = await page.request.get(`/api/v1/projects/${id}/files/${file}`);
  return (await res.json()).data as { revision: number; content: string };
}

const FILE = 'import os\napi_key = "sk_live_4f9a8b7c6d5e4f3a2b1c"\nprint(1)\n';

test("AI actions: no model links to settings; Fix streams a diff that Apply saves; Discard and Stop change nothing", async ({ page, browser, problems }) => {
  // The first action is refused on purpose (no model is configured yet), and Stop aborts
  // the last one's request. Chromium also reports an answer read through a stream reader
  // as aborted at times, after the page has read all of it.
  problems.allow(/status of 409/);
  problems.allow(/HTTP 409: POST .*\/assist$/);
  problems.allow(/request failed: POST .*\/assist \(net::ERR_ABORTED\)/);
  const upstream = await modelServer();
  // The administrator configures the model in a context of their own; a new user runs the
  // actions, so the ledger of other tests' users is untouched.
  const adminContext = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const admin = await adminContext.newPage();
  try {
    await admin.goto("/login");
    await signIn(admin, ADMIN.email, ADMIN.password);
    await expect(admin).toHaveURL((url) => url.pathname === "/");

    await signUp(page, "Ada");
    const { id, file } = await projectWithFile(page, "app.py", FILE);
    await page.goto(`/projects/${id}?file=${file}`);
    await expect(page.locator(".monaco-editor").first()).toBeVisible();
    await expect(page.getByRole("tab", { name: "app.py" })).toHaveAttribute("aria-selected", "true");
    const panel = page.getByTestId("assist-panel");
    const toolbar = page.getByRole("toolbar", { name: "AI actions" });

    // Without a model, the action says so and links to the settings page.
    await toolbar.getByRole("button", { name: "Fix" }).click();
    await expect(panel.getByTestId("assist-error")).toContainText("No model is configured");
    await expect(panel.getByRole("link", { name: "Configure a model provider" })).toHaveAttribute("href", "/models");

    const provider = await admin.request.post("/api/v1/models/providers", {
      data: { name: "ai-e2e", protocol: "openai", base_url: upstream.url, api_key: "sk-ai-e2e", models: [{ name: "coder", input_per_million: 1, output_per_million: 2 }] },
    });
    expect(provider.status()).toBe(201);
    const alias = await admin.request.put("/api/v1/models/aliases/code", { data: { targets: ["ai-e2e/coder"] } });
    expect(alias.status()).toBe(200);

    // Fix, from its shortcut: the answer streams, then the proposal shows as a diff.
    await page.getByTestId("monaco-host").locator(".view-lines").click();
    await page.keyboard.press("Control+k");
    await page.keyboard.press("f");
    await expect(panel.getByRole("heading")).toContainText("Fix · app.py (whole file)");
    await expect(panel.getByTestId("assist-answer")).toContainText("I removed the hard-coded key.");
    await expect(panel.getByTestId("assist-usage")).toHaveText("40 in · 12 out tokens · $0.000064 · ai-e2e/coder");
    const proposal = page.getByTestId("proposal");
    await expect(proposal.locator(".monaco-diff-editor")).toContainText("print('fixed')");
    await expect(proposal.getByRole("button", { name: "Apply" })).toBeFocused();
    await proposal.getByRole("button", { name: "Apply" }).click();
    await expect(page.getByTestId("status-message")).toHaveText("Saved app.py as revision 2.");
    await expect(proposal).toBeHidden();
    const saved = await readFile(page, id, file);
    expect(saved).toMatchObject({ revision: 2, content: "print('fixed')\n" });
    await page.getByRole("button", { name: "History" }).click();
    await expect(page.getByTestId("history").getByTestId("revision-note").first()).toHaveText("AI: Fix (ai-e2e/coder)");

    // Document, from the command palette; Discard leaves the file as it was.
    await page.getByTestId("monaco-host").locator(".view-lines").click();
    await page.keyboard.press("F1");
    await page.keyboard.type("AI: Document");
    await page.keyboard.press("Enter");
    await expect(panel.getByRole("heading")).toContainText("Document · app.py");
    await expect(proposal.locator(".monaco-diff-editor")).toBeVisible();
    await proposal.getByRole("button", { name: "Discard" }).click();
    await expect(proposal).toBeHidden();
    await expect(panel.getByTestId("assist-outcome")).toHaveText("Discarded; the file is unchanged.");
    await expect(page.getByTestId("save-state")).toHaveText("Revision 2");
    expect(await readFile(page, id, file)).toMatchObject({ revision: 2, content: "print('fixed')\n" });

    // Generate asks for a prompt; Stop ends a long answer and the model's connection.
    await toolbar.getByRole("button", { name: "Generate" }).click();
    await expect(panel.getByLabel("What should it write?")).toBeFocused();
    await page.keyboard.type("STALL on purpose");
    await page.keyboard.press("Control+Enter");
    await expect(panel.getByTestId("assist-answer")).toContainText("Thinking about it at length");
    await panel.getByRole("button", { name: "Stop" }).click();
    await expect(panel.getByText("Stopped. Nothing was changed.")).toBeVisible();
    await expect.poll(() => upstream.state.closed).toBe(1);
    expect(await readFile(page, id, file)).toMatchObject({ revision: 2 });

    await panel.getByRole("button", { name: "Close the AI panel" }).click();
    await expect(panel).toBeHidden();
  } finally {
    await admin.request.delete("/api/v1/models/aliases/code");
    const list = await admin.request.get("/api/v1/models/providers");
    for (const p of (await list.json()).data ?? []) {
      if (p.name === "ai-e2e") await admin.request.delete(`/api/v1/models/providers/${p.id}`);
    }
    await adminContext.close();
    upstream.close();
  }
});
