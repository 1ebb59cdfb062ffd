import { test, expect, hydrated, signUp, createWorkflow, type Page } from "./fixtures";

/** Starts a run and waits for it to end; returns its status. */
async function run(page: Page, workflow: string) {
  const res = await page.request.post(`/api/v1/workflows/${workflow}/runs`, { data: { input: {} } });
  expect(res.status()).toBe(201);
  const id = (await res.json()).data.id as string;
  let status = "";
  await expect
    .poll(async () => {
      status = (await (await page.request.get(`/api/v1/runs/${id}`)).json()).data.run.status;
      return ["succeeded", "failed"].includes(status);
    }, { timeout: 20_000 })
    .toBe(true);
  return status;
}

test("the dashboard counts the runs made in the test, by status, per day and per workflow", async ({ page }) => {
  await signUp(page, "Dash Board");
  // A new user sees how to start.
  await expect(page.getByTestId("dashboard-empty")).toContainText("No runs yet");

  const ok = await createWorkflow(page, `Dash ok ${Date.now()}`, [{ id: "hello", type: "template", config: { template: "hi" } }]);
  const failingName = `Dash fails ${Date.now()}`;
  const failing = await createWorkflow(page, failingName, [{ id: "boom", type: "script", config: { code: "throw new Error('boom')" } }]);
  for (let i = 0; i < 3; i++) expect(await run(page, ok)).toBe("succeeded");
  expect(await run(page, failing)).toBe("failed");

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("tile-runs")).toHaveText("4");
  await expect(page.getByTestId("tile-success")).toHaveText("75%");
  await expect(page.getByTestId("tile-duration")).toContainText("p50");
  const failingList = page.getByTestId("failing");
  await expect(failingList.getByRole("listitem")).toHaveCount(1);
  await expect(failingList).toContainText(failingName);
  await expect(failingList).toContainText("1 of 1 failed");
  await expect(page.getByTestId("recent-runs").getByRole("listitem")).toHaveCount(4);

  // Today is the last of 7 days; its row in the table alternative, and its bar's readout.
  const runsChart = page.getByTestId("chart-runs");
  await expect(runsChart.locator("tbody tr")).toHaveCount(7);
  await runsChart.getByText("Show as a table").click();
  await expect(runsChart.locator("tbody tr").last().locator("td")).toHaveText(["3", "1", "0", "0"]);
  await runsChart.locator("g[data-bucket='6']").hover();
  await expect(runsChart.getByTestId("chart-readout")).toContainText("3 succeeded, 1 failed, 0 cancelled");

  // 24 hours, by hour, without a reload.
  await page.getByRole("navigation", { name: "Range" }).getByRole("link", { name: "24 hours" }).click();
  await expect(page).toHaveURL(/\?range=24h$/);
  await expect(page.getByRole("link", { name: "24 hours" })).toHaveAttribute("aria-current", "page");
  await expect(runsChart.locator("tbody tr")).toHaveCount(24);
  await expect(page.getByTestId("tile-runs")).toHaveText("4");

  // The failing workflow opens its failed runs.
  await page.getByTestId("failing").getByRole("link", { name: failingName }).click();
  await expect(page).toHaveURL(/\/runs\?status=failed&workflow=/);
  await expect(page.getByTestId("workflow-filter")).toContainText(`Runs of ${failingName}.`);
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await page.getByRole("link", { name: "Show every workflow" }).click();
  await expect(page).toHaveURL(/\/runs\?status=failed$/);
  await expect(page.locator("tbody tr")).toHaveCount(1);
});
