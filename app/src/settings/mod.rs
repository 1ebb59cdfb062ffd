//! Instance settings. Today: whether new accounts may sign up (admins only).

use crate::auth::signup_open;
use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, FormAlert, action_error};
use crate::shell::toast::use_toasts;
use crate::shell::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;

#[server(prefix = "/api", endpoint = "settings/signup_open")]
pub async fn set_signup_open(open: bool) -> Result<bool, AppError> {
    use crate::server::{app_context, respond, signed_in};
    respond(async move {
        let (user, caller) = signed_in()?;
        app_context()
            .accounts
            .set_signup_open(&user, open, &caller.request_context())
            .await?;
        Ok(open)
    })
    .await
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = use_current_user();
    let toasts = use_toasts();
    let save = ServerAction::<SetSignupOpen>::new();
    let error = action_error(save);
    let current = Resource::new(move || save.version().get(), |_| signup_open());
    Effect::new(move |_| {
        if let Some(Ok(open)) = save.value().get() {
            toasts.show(if open {
                "Sign-up is now open."
            } else {
                "Sign-up is now closed."
            });
        }
    });
    view! {
        <Title text="Settings"/>
        <h1 class="text-2xl font-semibold">"Settings"</h1>
        <section aria-labelledby="settings-signup" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-signup" class="text-lg font-semibold">"Sign-up"</h2>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let open = current.await.unwrap_or(true);
                    view! {
                        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="signup-state">
                            {if open { "Anyone who can reach this instance can create an account." } else { "Sign-up is closed: only existing accounts can sign in." }}
                        </p>
                        {if user.get_untracked().is_admin {
                            view! {
                                <ActionForm action=save>
                                    <input type="hidden" name="open" value=(!open).to_string()/>
                                    <div class="mt-4 space-y-3">
                                        <FormAlert error/>
                                        <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>
                                            {if open { "Close sign-up" } else { "Open sign-up" }}
                                        </button>
                                    </div>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! { <p class="mt-4 text-sm text-slate-500">"Only administrators can change this."</p> }.into_any()
                        }}
                    }
                })}
            </Transition>
        </section>
    }
}
