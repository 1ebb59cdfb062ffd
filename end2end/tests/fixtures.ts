import { test as base, expect, type Page } from "@playwright/test";

type Problems = {
  /** Tolerate browser problems matching `pattern` (for tests that provoke an error). */
  allow(pattern: RegExp): void;
};

// Every test fails on a console error or warning, an uncaught exception, a failed request
// or an HTTP error response: a flow that "works" while the console shouts is broken.
export const test = base.extend<{ page: Page; problems: Problems }>({
  problems: async ({}, use) => {
    await use({ allow: () => {} });
  },
  page: async ({ page, problems }, use) => {
    const seen: string[] = [];
    const allowed: RegExp[] = [];
    problems.allow = (pattern) => allowed.push(pattern);
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning") seen.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => seen.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) =>
      seen.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`),
    );
    page.on("response", (res) => {
      if (res.status() >= 400) seen.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
    });
    await use(page);
    // The bell's live count is one event stream for the page's whole life: leaving the
    // page (a link that loads a new document, signing out) cuts it, as it must.
    const streams = /request failed: GET \S+\/api\/v1\/notifications\/events \(net::ERR_ABORTED\)/;
    const unexpected = seen.filter((p) => !streams.test(p) && !allowed.some((re) => re.test(p)));
    expect(unexpected, "browser problems during the test").toEqual([]);
  },
});

export { expect };
export type { Page };

/** Waits until the WASM app has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
}

/** Created by global-setup.ts as the first account, so it is the administrator. */
export const ADMIN = { email: "admin@e2e.example.com", password: "an admin passphrase for e2e" };

export async function signIn(page: Page, email: string, password: string) {
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export function uniqueEmail(name: string) {
  return `${name}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Signs up a new user (display name `name`) and waits for the hydrated dashboard. */
export async function signUp(page: Page, name: string) {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail(name.split(" ")[0].toLowerCase()));
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
}

/** Creates a workflow over REST with the page's session; answers with its id. */
export async function createWorkflow(page: Page, name: string, steps: unknown[]) {
  const res = await page.request.post("/api/v1/workflows", { data: { name, definition: { steps } } });
  expect(res.status()).toBe(201);
  return (await res.json()).data.id as string;
}

/** Creates a project with one file over REST with the page's session. */
export async function projectWithFile(page: Page, path: string, content: string) {
  const project = await page.request.post("/api/v1/projects", { data: { name: `Project ${Date.now()}` } });
  expect(project.status()).toBe(201);
  const id = (await project.json()).data.id as string;
  const file = await page.request.post(`/api/v1/projects/${id}/files`, { data: { path, content } });
  expect(file.status()).toBe(201);
  return { id, file: (await file.json()).data.id as string };
}

/** Opens `file` of `project` in the editor and checks that its history's newest revision
 *  is `revision`, with a note containing `note`. */
export async function expectNewestRevision(page: Page, project: string, file: string, path: string, revision: number, note: string) {
  await page.goto(`/projects/${project}?file=${file}`);
  await hydrated(page);
  await expect(page.getByRole("tab", { name: path })).toHaveAttribute("aria-selected", "true");
  await page.getByRole("button", { name: "History" }).click();
  const history = page.getByTestId("history");
  await expect(history).toContainText(`Revision ${revision}`);
  await expect(history.getByTestId("revision-note").first()).toContainText(note);
}
