import { test, expect, hydrated, signIn, projectWithFile, ADMIN, type Page } from "./fixtures";

async function signedIn(page: Page, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL((url) => url.pathname === next.split("?")[0]);
  await hydrated(page);
}

/** Waits for Monaco to replace the read-only copy, with `name`'s tab open. */
async function editorReady(page: Page, name: string) {
  await expect(page.locator(".monaco-editor").first()).toBeVisible();
  await expect(page.getByRole("tab", { name })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("readonly-content")).toHaveCount(0);
}

/** Puts the cursor at the end of the text in the main editor. */
async function focusEnd(page: Page) {
  await page.getByTestId("monaco-host").locator(".view-lines").click();
  await page.keyboard.press("Control+End");
}

function editorText(page: Page) {
  return page.getByTestId("monaco-host").locator(".view-lines");
}

test("a project and a file are created from the UI and the file opens in Monaco", async ({ page, problems }) => {
  problems.allow(/HTTP 422: POST .*\/api\/projects\/create-entry/);
  problems.allow(/console error: Failed to load resource: the server responded with a status of 422/);
  const monaco: string[] = [];
  page.on("request", (req) => {
    if (req.url().includes("/monaco/")) monaco.push(req.url());
  });
  await signedIn(page, "/projects");
  await page.goto("/");
  await hydrated(page);
  await page.goto("/projects");
  await hydrated(page);
  expect(monaco, "Monaco is not loaded outside the editor").toEqual([]);
  const name = `Shop ${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).first().fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("project-name")).toHaveText(name);
  await expect(page.getByTestId("tree-empty")).toBeVisible();
  await expect.poll(() => monaco.length).toBeGreaterThan(0);

  // Rename it in place.
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("Project name").fill(`${name} renamed`);
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByTestId("project-name")).toHaveText(`${name} renamed`);

  await page.getByLabel("New file or folder").fill("src/app.py");
  await page.getByRole("button", { name: "New file" }).click();
  await expect(page.getByRole("tree", { name: "Project files" })).toContainText("src");
  await expect(page.locator('[data-path="src/app.py"]')).toBeVisible();
  await editorReady(page, "app.py");
  await expect(page.getByTestId("language")).toHaveText("python");

  // Folders collapse and expand.
  const src = page.getByRole("tree").getByRole("button", { name: "src", exact: true });
  await src.click();
  await expect(src).toHaveAttribute("aria-expanded", "false");
  await expect(page.locator('[data-path="src/app.py"]')).toBeHidden();
  await src.press("Enter");
  await expect(page.locator('[data-path="src/app.py"]')).toBeVisible();

  // Renaming the open file keeps its tab, now highlighted for the new extension.
  page.once("dialog", (dialog) => dialog.accept("src/app.js"));
  await page.getByRole("button", { name: "Rename src/app.py" }).click();
  await expect(page.locator('[data-path="src/app.js"]')).toBeVisible();
  await expect(page.getByRole("tab", { name: "app.js" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("language")).toHaveText("javascript");

  // A bad path names the problem and creates nothing.
  await page.getByLabel("New file or folder").fill("../escape.py");
  await page.getByRole("button", { name: "New file" }).click();
  await expect(page.getByRole("alert").filter({ hasText: ".." })).toBeVisible();

  // The project is listed.
  await page.goto("/projects");
  await expect(page.getByRole("list", { name: "Projects" })).toContainText(`${name} renamed`);
});

test("text typed into Monaco is saved with Ctrl+S and is there after a reload", async ({ page }) => {
  await signedIn(page, "/projects");
  const { id, file } = await projectWithFile(page, "notes.py", "x = 1\n");
  await page.goto(`/projects/${id}?file=${file}`);
  // Server-rendered, read-only, before Monaco takes over.
  await editorReady(page, "notes.py");

  await focusEnd(page);
  await page.keyboard.type("persisted_value = 42");
  await expect(page.getByTestId("dirty-indicator")).toBeVisible();
  await expect(page.getByTestId("cursor-position")).toHaveText("Ln 2, Col 21");
  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("status-message")).toHaveText("Saved notes.py as revision 2.");
  await expect(page.getByTestId("dirty-indicator")).toHaveCount(0);

  await page.reload();
  await hydrated(page);
  await editorReady(page, "notes.py");
  await expect(editorText(page)).toContainText("persisted_value");
  const saved = await page.request.get(`/api/v1/projects/${id}/files/${file}`);
  expect((await saved.json()).data.content).toBe("x = 1\npersisted_value = 42");
});

test("a syntax error shows a marker and a Problems entry that jumps to its line", async ({ page }) => {
  await signedIn(page, "/projects");
  const { id, file } = await projectWithFile(page, "app.py", "def ok():\n    return 1\n");
  await page.goto(`/projects/${id}?file=${file}`);
  await editorReady(page, "app.py");
  await expect(page.getByTestId("no-problems")).toBeVisible();

  await focusEnd(page);
  await page.keyboard.type("def broken(:");
  const problems = page.getByTestId("problems");
  await expect(problems).toContainText("Syntax error");
  await expect(page.locator(".monaco-editor .squiggly-error").first()).toBeAttached();

  await page.keyboard.press("Control+Home");
  await expect(page.getByTestId("cursor-position")).toHaveText("Ln 1, Col 1");
  await problems.getByRole("button").first().click();
  await expect(page.getByTestId("cursor-position")).toContainText("Ln 3");
});

test("an old revision is compared in a diff and restored as a new revision", async ({ page }) => {
  await signedIn(page, "/projects");
  const { id, file } = await projectWithFile(page, "main.go", "package main\n// first\n");
  const put = await page.request.put(`/api/v1/projects/${id}/files/${file}`, {
    data: { content: "package main\n// second\n", base_revision: 1 },
  });
  expect(put.status()).toBe(200);

  await page.goto(`/projects/${id}?file=${file}`);
  await editorReady(page, "main.go");
  await page.getByRole("button", { name: "History" }).click();
  const history = page.getByTestId("history");
  await expect(history).toContainText("Revision 2");
  const dialog = page.getByRole("dialog");
  // Escape closes the diff (focus moves into it when it opens).
  await history.getByRole("button", { name: "Compare 1" }).click();
  await expect(dialog.getByRole("button", { name: "Close" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await history.getByRole("button", { name: "Compare 1" }).click();
  await expect(dialog).toContainText("revision 1 (left) and the current revision 2 (right)");
  await expect(dialog.locator(".monaco-diff-editor")).toBeVisible();
  await expect(dialog.locator(".monaco-diff-editor")).toContainText("first");

  await dialog.getByRole("button", { name: "Restore revision 1" }).click();
  await expect(page.getByTestId("status-message")).toHaveText("Restored revision 1 as revision 3.");
  await expect(dialog).toBeHidden();
  await expect(editorText(page)).toContainText("// first");
  await expect(history).toContainText("Revision 3");
  const current = await page.request.get(`/api/v1/projects/${id}/files/${file}`);
  const body = (await current.json()).data;
  expect(body.revision).toBe(3);
  expect(body.content).toBe("package main\n// first\n");
});

test("the second of two tabs to save gets a conflict dialog and loses nothing", async ({ page, context, problems }) => {
  // The losing save is answered 409 stale_revision, as over REST; the dialog handles it.
  problems.allow(/HTTP 409: POST .*\/api\/projects\/save/);
  problems.allow(/console error: Failed to load resource: the server responded with a status of 409/);
  await signedIn(page, "/projects");
  const { id, file } = await projectWithFile(page, "shared.py", "value = 0\n");
  const url = `/projects/${id}?file=${file}`;
  const other = await context.newPage();
  for (const p of [page, other]) {
    await p.goto(url);
    await hydrated(p);
    await editorReady(p, "shared.py");
  }

  await focusEnd(other);
  await other.keyboard.type("from_tab_one = 1");
  await other.keyboard.press("Control+s");
  await expect(other.getByTestId("status-message")).toHaveText("Saved shared.py as revision 2.");

  await focusEnd(page);
  await page.keyboard.type("from_tab_two = 2");
  await page.keyboard.press("Control+s");
  const dialog = page.getByTestId("conflict-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("shared.py was changed since you opened it");
  await expect(dialog.locator(".monaco-diff-editor")).toContainText("from_tab_one");
  await expect(dialog.locator(".monaco-diff-editor")).toContainText("from_tab_two");

  // Keep editing: nothing saved, nothing lost.
  await dialog.getByRole("button", { name: "Keep editing" }).click();
  await expect(dialog).toBeHidden();
  await expect(editorText(page)).toContainText("from_tab_two");
  await expect(page.getByTestId("dirty-indicator")).toBeVisible();
  let saved = await page.request.get(`/api/v1/projects/${id}/files/${file}`);
  expect((await saved.json()).data.content).toBe("value = 0\nfrom_tab_one = 1");

  // Saving again meets the conflict again; this time the user keeps their text.
  await page.keyboard.press("Control+s");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Save mine over theirs" }).click();
  await expect(page.getByTestId("status-message")).toHaveText("Saved shared.py as revision 3.");
  saved = await page.request.get(`/api/v1/projects/${id}/files/${file}`);
  expect((await saved.json()).data.content).toBe("value = 0\nfrom_tab_two = 2");
  await other.close();
});
