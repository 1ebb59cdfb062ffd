//! Aura's user interface: routes, pages, components and the `#[server]` functions they
//! call. Rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`). Server functions stay thin: they read the caller and call one service.

// Leptos view types nest deeply; the layout of the signed-in frame exceeds the default.
#![recursion_limit = "512"]

pub mod audit;
pub mod auth;
mod chunks;
mod dashboard;
pub mod error;
pub mod markup;
pub mod projects;
pub mod runs;
#[cfg(feature = "ssr")]
pub mod server;
pub mod settings;
pub mod shell;
pub mod workflows;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options=options.clone()/>
                <chunks::Preloads options/>
                <MetaTags/>
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/aura.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Aura".to_owned() } else { format!("{page} · Aura") }/>
        <shell::toast::ToastRegion>
            <Router>
                <Routes fallback=shell::NotFound>
                    <Route path=path!("/login") view=auth::LoginPage/>
                    <Route path=path!("/signup") view=auth::SignupPage/>
                    // Async: the server waits for the signed-in user and each page's data and
                    // sends finished HTML, so nested suspense never hydrates out of order.
                    <ParentRoute path=path!("") view=shell::AppLayout ssr=SsrMode::Async>
                        <Route path=path!("") view=dashboard::DashboardPage/>
                        <Route path=path!("projects") view=projects::ProjectsPage/>
                        <Route path=path!("projects/:id") view=projects::EditorPage/>
                        <Route path=path!("workflows") view=workflows::WorkflowsPage/>
                        <Route path=path!("workflows/:id") view={Lazy::<chunks::BuilderRoute>::new()}/>
                        <Route path=path!("workflows/:id/triggers") view={Lazy::<chunks::TriggersRoute>::new()}/>
                        <Route path=path!("runs") view=runs::RunsPage/>
                        <Route path=path!("runs/:id") view={Lazy::<chunks::RunRoute>::new()}/>
                        <Route path=path!("runs/:id/changes/:step") view={Lazy::<chunks::ChangesRoute>::new()}/>
                        <Route path=path!("audit") view=audit::AuditPage/>
                        <Route path=path!("settings") view=settings::SettingsPage/>
                        <Route path=path!("models") view=settings::models::ModelsPage/>
                        <Route path=path!("profile") view=auth::ProfilePage/>
                    </ParentRoute>
                </Routes>
            </Router>
        </shell::toast::ToastRegion>
    }
}
