import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, hydrated, signIn, ADMIN } from "./fixtures";

// A model server speaking OpenAI's chat completions, answering whole (test connection does
// not stream). It records the Authorization header each call carried.
async function modelServer() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push(req.headers.authorization ?? "");
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
        return;
      }
      const model = JSON.parse(body).model;
      if (model === "missing") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "The model `missing` does not exist" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          model,
          choices: [{ index: 0, message: { role: "assistant", content: "OK" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 9, completion_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => server.close() };
}

test("the admin adds a model provider, tests it, and makes an alias", async ({ page, problems }) => {
  // The first submission is refused on purpose.
  problems.allow(/422.*add_provider|status of 422/);
  const upstream = await modelServer();
  try {
    await page.goto("/login?next=/models");
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL((url) => url.pathname === "/models");
    await hydrated(page);

    // A bad model list names its field and keeps what was typed.
    await page.getByLabel("Name", { exact: true }).fill("local");
    await page.getByLabel("API root").fill(upstream.url);
    await page.getByLabel("API key").fill("sk-e2e-secret-9876");
    await page.getByLabel("Models").fill("gpt-e2e 1 2 3");
    await page.getByRole("button", { name: "Add provider" }).click();
    await expect(page.locator("#field-models-error")).toContainText("Line 1");

    await page.getByLabel("Models").fill("gpt-e2e 0.5 1.5\ngpt-4o-mini");
    await page.getByRole("button", { name: "Add provider" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Provider “local” added." })).toBeVisible();
    const row = page.getByTestId("provider-local");
    await expect(row).toContainText("key …9876");
    await expect(row).toContainText("gpt-e2e ($0.5 / $1.5 per million tokens)");
    await expect(row).toContainText("gpt-4o-mini ($0.15 / $0.6 per million tokens)");
    await expect(page.getByText("sk-e2e-secret-9876")).toHaveCount(0);

    await row.getByRole("button", { name: "Test connection to local" }).click();
    await expect(row.getByRole("status")).toContainText("local/gpt-e2e answered in");
    await expect(row.getByRole("status")).toContainText("“OK”");
    expect(upstream.seen).toContain("Bearer sk-e2e-secret-9876");

    // Editing the prices keeps the key when no new one is typed.
    await row.getByRole("button", { name: "Edit provider local" }).click();
    await row.getByLabel("Models and prices").fill("gpt-e2e 2 4");
    await row.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Provider “local” saved." })).toBeVisible();
    await expect(row).toContainText("gpt-e2e ($2 / $4 per million tokens)");
    await expect(row).toContainText("key …9876");
    await expect(row.getByLabel("Models and prices")).toBeHidden();

    await page.getByRole("textbox", { name: "Alias" }).fill("fast");
    await page.getByLabel("Targets").fill("local/gpt-e2e");
    await page.getByRole("button", { name: "Save alias" }).click();
    await expect(page.getByRole("list", { name: "Model aliases" })).toContainText("local/gpt-e2e");

    // A monthly budget for the admin shows this month's use: the test call's 9 + 1 tokens.
    await page.getByLabel("User email, or project id").fill(ADMIN.email);
    await page.getByLabel("Tokens a month").fill("1000");
    await page.getByRole("button", { name: "Save budget" }).click();
    const budgets = page.getByRole("list", { name: "Budgets" });
    await expect(budgets).toContainText(`user ${ADMIN.email}`);
    await expect(budgets).toContainText("10 of 1000 tokens this month");
    await page.getByRole("button", { name: `Delete budget of user ${ADMIN.email}` }).click();
    await expect(page.getByText("No budgets: calls are not limited.")).toBeVisible();

    // Reloading shows the same, from the server.
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("provider-local")).toContainText("key …9876");
    await page.getByRole("button", { name: "Delete provider local" }).click();
    await expect(page.getByTestId("provider-local")).toHaveCount(0);
  } finally {
    upstream.close();
  }
});
