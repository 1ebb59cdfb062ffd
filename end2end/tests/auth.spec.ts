import { test, expect, hydrated, signIn, uniqueEmail } from "./fixtures";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a completely new passphrase";

async function signOut(page) {
  await page.getByTestId("user-name").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test("sign up, sign out, sign in, change password, sign in with the new one", async ({ page }) => {
  const email = uniqueEmail("ada");

  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Display name").fill("Ada Lovelace");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs" })).toBeVisible();

  await hydrated(page);
  await signOut(page);

  await signIn(page, email, PASSWORD);
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();

  await page.getByTestId("user-name").click();
  await page.getByRole("link", { name: "Profile" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole("heading", { name: "Profile", level: 1 })).toBeVisible();

  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Password changed.");
  await expect(page.getByLabel("Current password")).toHaveValue("");

  await signOut(page);
  await signIn(page, email, NEW_PASSWORD);
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
});

test("an anonymous visit to /runs goes to sign-in and comes back after it", async ({ page, browser }) => {
  // Create the account in a separate context so this page starts anonymous.
  const email = uniqueEmail("grace");
  const setup = await browser.newContext();
  const setupPage = await setup.newPage();
  await setupPage.goto("/signup");
  await hydrated(setupPage);
  await setupPage.getByLabel("Email").fill(email);
  await setupPage.getByLabel("Display name").fill("Grace Hopper");
  await setupPage.getByLabel("Password").fill(PASSWORD);
  await setupPage.getByRole("button", { name: "Create account" }).click();
  await expect(setupPage).toHaveURL(/\/$/);
  await setup.close();

  await page.goto("/runs");
  await expect(page).toHaveURL(/\/login\?next=%2Fruns$|\/login\?next=\/runs$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL((url) => url.pathname === "/runs");
  await expect(page.getByRole("heading", { name: "Runs", level: 1 })).toBeVisible();
});

test("sign-in errors are shown next to the form", async ({ page, problems }) => {
  // A wrong password answers 401, and Chromium logs that; nothing else may go wrong.
  problems.allow(/401/);
  const responses: number[] = [];
  page.on("response", (res) => responses.push(res.status()));
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail("nobody"));
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The email or password is not correct." })).toBeVisible();
  expect(responses).toContain(401);
});
