import { request, type FullConfig } from "@playwright/test";
import { ADMIN } from "./tests/fixtures";

// The first account becomes the administrator, so create it before any test signs up.
export default async function globalSetup(config: FullConfig) {
  const ctx = await request.newContext({ baseURL: config.projects[0].use.baseURL });
  const res = await ctx.post("/api/auth/sign_up", {
    form: { email: ADMIN.email, display_name: "Admin", password: ADMIN.password },
  });
  if (!res.ok()) throw new Error(`admin sign-up failed: ${res.status()} ${await res.text()}`);
  await ctx.dispose();
}
