//! Form building blocks: labelled fields with server-side error messages, an alert for
//! form-level errors, and a submit button that disables itself while the request runs.

use crate::error::AppError;
use leptos::prelude::*;

pub const INPUT_CLASS: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 aria-[invalid=true]:border-red-500";
pub const BUTTON_CLASS: &str = "inline-flex items-center justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-60 dark:focus-visible:ring-offset-slate-900";
pub const SECONDARY_BUTTON_CLASS: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700";

/// The last error of a server action, for reading field messages from.
pub type ActionError = Signal<Option<AppError>>;

/// A labelled input whose message comes from the server's validation error for `name`.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional, into)] value: Signal<String>,
    #[prop(optional)] required: bool,
    /// The element id, when one page has two fields of the same name; `field-{name}`
    /// otherwise.
    #[prop(optional)]
    id: &'static str,
    error: ActionError,
) -> impl IntoView {
    let id = if id.is_empty() {
        format!("field-{name}")
    } else {
        id.to_owned()
    };
    let error_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.field(name));
    let has_error = move || message().is_some();
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-700 dark:text-slate-300">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                prop:value=move || value.get()
                aria-invalid=move || has_error().to_string()
                aria-describedby=error_id.clone()
                class=INPUT_CLASS
            />
            {(!hint.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p> })}
            <p id=error_id class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{message}</p>
        </div>
    }
}

/// Shows an error that does not belong to one field (wrong password, throttling, outage).
#[component]
pub fn FormAlert(error: ActionError) -> impl IntoView {
    let message = move || match error.get() {
        Some(AppError::Validation { .. }) | None => None,
        Some(other) => Some(other.to_string()),
    };
    view! {
        <Show when=move || message().is_some()>
            <div role="alert" class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
                {message}
            </div>
        </Show>
    }
}

#[component]
pub fn SubmitButton(
    label: &'static str,
    pending_label: &'static str,
    pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button type="submit" class=BUTTON_CLASS disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}

/// The error of a server action's latest result, as a signal for the components above.
pub fn action_error<I, O>(action: ServerAction<I>) -> ActionError
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let value = action.value();
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// Full page load, so every part of the page (and the session cookie) is fresh.
pub fn navigate_hard(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
