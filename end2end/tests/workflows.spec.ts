import { test, expect, hydrated, signIn, ADMIN } from "./fixtures";

test("a workflow saved from the Workflows page is listed, and a broken one names its step", async ({ page, problems }) => {
  problems.allow(/HTTP 422: POST .*\/api\/workflows\/save/);
  problems.allow(/console error: Failed to load resource: the server responded with a status of 422/);
  await page.goto("/login?next=/workflows");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/workflows");
  await hydrated(page);

  const name = `Greeter ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Save workflow" }).click();
  await expect(page.getByRole("status")).toContainText("Workflow saved.");
  await expect(page.getByRole("list", { name: "Workflows" })).toContainText(name);

  await page.getByLabel("Name").fill(`${name} broken`);
  await page
    .getByLabel("Definition (JSON)")
    .fill('{"steps":[{"id":"greet","type":"template","config":{"template":"{{ steps.nope.output }}"}}]}');
  await page.getByRole("button", { name: "Save workflow" }).click();
  await expect(page.locator("#wf-definition-error")).toContainText("Step `greet`");
});
