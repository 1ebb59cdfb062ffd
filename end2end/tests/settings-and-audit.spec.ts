import { test, expect, hydrated, signIn, ADMIN } from "./fixtures";

test("the admin reads and filters the audit log", async ({ page }) => {
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/login\?next=%2Faudit$|\/login\?next=\/audit$/);
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/audit");
  await hydrated(page);

  const table = page.getByRole("table");
  await expect(table.getByRole("cell", { name: "auth.sign_up" }).first()).toBeVisible();
  await expect(table.getByRole("cell", { name: "auth.sign_in" }).first()).toBeVisible();

  await page.getByLabel("Action").selectOption("auth.sign_up");
  await page.getByLabel("Actor email").fill("admin@e2e");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=auth.sign_up/);
  await hydrated(page);
  await expect(table.getByRole("row")).toHaveCount(2); // header + the admin's sign-up
  await expect(table.getByRole("cell", { name: ADMIN.email })).toBeVisible();
});

test("the admin closes and reopens sign-up", async ({ page, browser }) => {
  await page.goto("/login?next=/settings");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/settings");
  await hydrated(page);

  await page.getByRole("button", { name: "Close sign-up" }).click();
  await expect(page.getByRole("status")).toContainText("Sign-up is now closed.");
  await expect(page.getByTestId("signup-state")).toContainText("Sign-up is closed");

  const visitor = await browser.newContext();
  const visitorPage = await visitor.newPage();
  await visitorPage.goto("/signup");
  await expect(visitorPage.getByText("Sign-up is closed on this Aura instance.")).toBeVisible();
  await visitor.close();

  await page.getByRole("button", { name: "Open sign-up" }).click();
  await expect(page.getByRole("status")).toContainText("Sign-up is now open.");
  await expect(page.getByTestId("signup-state")).toContainText("Anyone who can reach");
});

test("a user makes an API key, sees it once, uses it and revokes it", async ({ page, playwright }) => {
  await page.goto("/login?next=/settings");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === "/settings");
  await hydrated(page);

  const name = `e2e key ${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await expect(page.getByLabel("read", { exact: true })).toBeChecked();
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByTestId("new-key");
  await expect(shown).toHaveText(/^aura_[0-9a-f]{48}$/);
  const secret = (await shown.textContent())!.trim();
  await expect(page.getByRole("list", { name: "Your API keys" })).toContainText(name);

  // The key works on REST from a client with no cookies.
  const api = await playwright.request.newContext({ baseURL: new URL(page.url()).origin });
  const ok = await api.get("/api/v1/workflows", { headers: { authorization: `Bearer ${secret}` } });
  expect(ok.status()).toBe(200);

  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByText("The key was revoked; it no longer works.")).toBeVisible();
  await expect(page.getByText(`${name} (revoked)`)).toBeVisible();
  const refused = await api.get("/api/v1/workflows", { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
  await api.dispose();
});
