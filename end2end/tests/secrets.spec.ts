import { test, expect, hydrated, signIn, uniqueEmail } from "./fixtures";

test("a user keeps a workflow secret whose value never comes back", async ({ page, problems }) => {
  problems.allow(/422.*secrets\/set|status of 422/);
  const email = uniqueEmail("secrets");
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Display name").fill("Secret Keeper");
  await page.getByLabel("Password", { exact: true }).fill("a long enough passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL((url) => url.pathname === "/");
  await hydrated(page);
  await page.goto("/settings");
  await hydrated(page);

  // A bad name is refused, naming the field.
  await page.getByLabel("Secret name").fill("9lives");
  await page.getByLabel("Secret value").fill("ghp-e2e-0123456789");
  await page.getByRole("button", { name: "Save secret" }).click();
  await expect(page.locator("#secret-name-error")).toContainText("letters, digits and _");

  await page.getByLabel("Secret name").fill("GITHUB_TOKEN");
  await page.getByLabel("Secret value").fill("ghp-e2e-0123456789");
  await page.getByRole("button", { name: "Save secret" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Secret GITHUB_TOKEN saved." })).toBeVisible();
  const list = page.getByRole("list", { name: "Your secrets" });
  await expect(list).toContainText("GITHUB_TOKEN");
  await page.reload();
  await hydrated(page);
  await expect(page.getByText("ghp-e2e-0123456789")).toHaveCount(0);
  await page.getByRole("button", { name: "Delete secret GITHUB_TOKEN" }).click();
  await expect(page.getByText("No secrets yet.")).toBeVisible();
});
