import { createHmac } from "node:crypto";
import { test, expect, hydrated, signUp, createWorkflow } from "./fixtures";

test("a failed run raises the bell's count live, and the notice leads to the run", async ({ page }) => {
  await signUp(page, "Bell Watcher");
  const bell = page.getByTestId("bell");
  await expect(bell).toHaveAttribute("aria-label", "Notifications, none unread");
  await expect(page.getByTestId("bell-count")).toBeHidden();

  // Fail a run without touching the page: the count must come by itself.
  const workflow = await createWorkflow(page, "Doomed report", [
    { id: "boom", type: "template", config: { template: "{{ input.missing.deeper }}" } },
  ]);
  const started = await page.request.post(`/api/v1/workflows/${workflow}/runs`, { data: { input: {} } });
  expect(started.status()).toBe(201);
  const run = (await started.json()).data.id as string;
  await expect(page.getByTestId("bell-count")).toHaveText("1", { timeout: 20_000 });
  await expect(bell).toHaveAttribute("aria-label", "Notifications, 1 unread");

  // The panel opens from the keyboard, lists the notice, and Escape closes it.
  await bell.focus();
  await page.keyboard.press("Enter");
  const panel = page.getByRole("region", { name: "Notifications" });
  await expect(panel).toContainText("A run of Doomed report failed");
  await expect(panel).toContainText("Step `boom` failed");
  await page.keyboard.press("Escape");
  await expect(panel).toBeHidden();

  // Opening the notice goes to the run and marks it read.
  await bell.click();
  await panel.getByRole("link", { name: /A run of Doomed report failed/ }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run}$`));
  await expect(page.getByTestId("bell-count")).toBeHidden({ timeout: 20_000 });
  await bell.click();
  await expect(panel.locator("li[data-unread=false]")).toHaveCount(1);
  await expect(panel.getByRole("button", { name: "Mark all as read" })).toBeDisabled();
});

test("a schedule shows its next fires in words before saving, and a webhook's URL works once shown", async ({ page, problems }) => {
  problems.allow(/422.*triggers\/schedule_preview|status of 422/);
  await signUp(page, "Trigger Setter");
  const workflow = await createWorkflow(page, "Triggered", [
    { id: "say", type: "template", config: { template: "{{ input.body.action }}" } },
  ]);
  await page.goto(`/workflows/${workflow}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Webhooks and schedules" }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${workflow}/triggers$`));
  await expect(page.getByRole("heading", { name: "Triggers of Triggered" })).toBeVisible();
  await expect(page.getByText("No webhooks yet")).toBeVisible();
  await expect(page.getByText("No schedules yet")).toBeVisible();

  // Every 13 hours stays 13 hours, shown before saving.
  const preview = page.getByTestId("schedule-preview");
  await page.getByLabel("Schedule name").fill("Twice a day, roughly");
  await page.getByLabel("Runs", { exact: true }).selectOption("every");
  await page.getByLabel("Every", { exact: true }).fill("13");
  await page.getByLabel("Unit").selectOption("hours");
  await expect(preview).toContainText("every 13 hours");
  await expect(preview.locator("li")).toHaveCount(5);
  // A bad cron says what is wrong while typing.
  await page.getByLabel("Runs", { exact: true }).selectOption("cron");
  await page.getByLabel(/Cron expression/).fill("0 25 * * *");
  await expect(preview).toContainText("allows 0 to 23");
  await page.getByLabel(/Cron expression/).fill("0 9 * * 1-5");
  await page.getByLabel("Time zone").fill("Europe/Berlin");
  await expect(preview).toContainText("at 09:00 on Monday to Friday");
  await page.getByRole("button", { name: "Save schedule" }).click();
  const schedules = page.getByRole("list", { name: "Schedules" });
  await expect(schedules).toContainText("at 09:00 on Monday to Friday (Europe/Berlin)");
  await expect(schedules).toContainText("Last fire: none yet");
  await page.getByRole("button", { name: "Disable schedule Twice a day, roughly" }).click();
  await expect(schedules).toContainText("disabled");

  // A webhook with a generated secret: URL and secret shown once, and they work.
  await page.getByLabel("Webhook name").fill("GitHub");
  await page.getByRole("button", { name: "Make webhook" }).click();
  const url = (await page.getByTestId("hook-url").textContent())!.trim();
  const secret = (await page.getByTestId("hook-secret").textContent())!.trim();
  expect(url).toMatch(/\/hooks\/whk_[0-9a-f]{48}$/);
  const body = JSON.stringify({ action: "opened" });
  const signature = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  const delivered = await page.request.post(url, {
    data: body,
    headers: { "content-type": "application/json", "x-hub-signature-256": signature },
  });
  expect(delivered.status()).toBe(202);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("shown-once")).toBeHidden();
  await page.reload();
  await hydrated(page);
  const hooks = page.getByRole("list", { name: "Webhooks" });
  await expect(hooks).toContainText("1 run · 0 refused");
  await expect(page.getByTestId("hook-url")).toHaveCount(0);
});
