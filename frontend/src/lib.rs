//! The WASM entry point: hydrates the server-rendered page with `aura_app::App`.
//!
//! Hydration is asynchronous because the builder and run pages are lazily loaded chunks
//! (`cargo leptos build --split`): on those pages it waits for them. Once the whole
//! page is hydrated, `<body>` gets `data-hydrated`, so end-to-end tests (and anyone
//! debugging) can tell a server-rendered page from an interactive one.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), aura_app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "");
    });
}
