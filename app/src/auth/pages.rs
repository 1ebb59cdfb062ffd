//! Sign-in, sign-up and profile pages.

use super::api::{ChangePassword, SignIn, SignUp, UpdateDisplayName, signup_open};
use crate::shell::form::{Field, FormAlert, SubmitButton, action_error, navigate_hard};
use crate::shell::toast::use_toasts;
use crate::shell::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <main class="flex min-h-screen items-center justify-center bg-slate-50 px-4 py-12 dark:bg-slate-950">
            <div class="w-full max-w-sm">
                <p class="mb-6 text-center text-2xl font-bold tracking-tight text-indigo-600 dark:text-indigo-400">"Aura"</p>
                <div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                    <h1 class="mb-6 text-xl font-semibold text-slate-900 dark:text-white">{title}</h1>
                    {children()}
                </div>
            </div>
        </main>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            navigate_hard(&path);
        }
    });
    view! {
        <AuthCard title="Sign in">
            <ActionForm action=action>
                <div class="space-y-4">
                    <input type="hidden" name="next" prop:value=next/>
                    <Field label="Email" name="email" kind="email" autocomplete="username" required=true error/>
                    <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error/>
                    <FormAlert error/>
                    <SubmitButton label="Sign in" pending_label="Signing in…" pending=action.pending().into()/>
                </div>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "New to Aura? " <A href="/signup" attr:class="font-semibold text-indigo-600 hover:underline dark:text-indigo-400">"Create an account"</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let open = Resource::new_blocking(|| (), |_| signup_open());
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            navigate_hard(&path);
        }
    });
    view! {
        <AuthCard title="Create your account">
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if open.await.unwrap_or(true) {
                        view! {
                            <ActionForm action=action>
                                <div class="space-y-4">
                                    <Field label="Email" name="email" kind="email" autocomplete="email" required=true error/>
                                    <Field label="Display name" name="display_name" autocomplete="name" required=true error/>
                                    <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true
                                        hint="8 to 128 characters. Common passwords are refused." error/>
                                    <FormAlert error/>
                                    <SubmitButton label="Create account" pending_label="Creating account…" pending=action.pending().into()/>
                                </div>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <p role="alert" class="text-sm text-slate-700 dark:text-slate-300">
                                "Sign-up is closed on this Aura instance. Ask an administrator for an account."
                            </p>
                        }.into_any()
                    }
                })}
            </Suspense>
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "Already have an account? " <A href="/login" attr:class="font-semibold text-indigo-600 hover:underline dark:text-indigo-400">"Sign in"</A>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let user = use_current_user();
    let toasts = use_toasts();
    let rename = ServerAction::<UpdateDisplayName>::new();
    let rename_error = action_error(rename);
    let password = ServerAction::<ChangePassword>::new();
    let password_error = action_error(password);
    let password_form = NodeRef::<leptos::html::Form>::new();

    Effect::new(move |_| {
        if let Some(Ok(updated)) = rename.value().get() {
            user.set(updated);
            toasts.show("Display name saved.");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(ended)) = password.value().get() {
            if let Some(form) = password_form.get() {
                form.reset();
            }
            toasts.show(match ended {
                0 => "Password changed.".to_owned(),
                1 => "Password changed. 1 other session was signed out.".to_owned(),
                n => format!("Password changed. {n} other sessions were signed out."),
            });
        }
    });
    let display_name = Signal::derive(move || user.get().display_name);

    view! {
        <Title text="Profile"/>
        <h1 class="text-2xl font-semibold">"Profile"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{move || format!("Signed in as {}", user.get().email)}</p>
        <div class="mt-8 grid gap-8 lg:grid-cols-2">
            <section aria-labelledby="profile-name" class="rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
                <h2 id="profile-name" class="text-lg font-semibold">"Display name"</h2>
                <ActionForm action=rename>
                    <div class="mt-4 space-y-4">
                        <Field label="Display name" name="display_name" autocomplete="name" required=true value=display_name error=rename_error/>
                        <FormAlert error=rename_error/>
                        <SubmitButton label="Save name" pending_label="Saving…" pending=rename.pending().into()/>
                    </div>
                </ActionForm>
            </section>
            <section aria-labelledby="profile-password" class="rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
                <h2 id="profile-password" class="text-lg font-semibold">"Change password"</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Your other sessions will be signed out."</p>
                <ActionForm action=password node_ref=password_form>
                    <div class="mt-4 space-y-4">
                        <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=password_error/>
                        <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true
                            hint="8 to 128 characters. Common passwords are refused." error=password_error/>
                        <FormAlert error=password_error/>
                        <SubmitButton label="Change password" pending_label="Changing…" pending=password.pending().into()/>
                    </div>
                </ActionForm>
            </section>
        </div>
    }
}
