//! The pages whose code is a lazily loaded WASM chunk (`cargo leptos build --split`): the
//! builder, its triggers, a run's page and the review of a run's proposed changes. Other
//! pages never download their code; the canvas the builder and the run page share is a
//! chunk of its own that either loads.
//!
//! wasm-bindgen 0.2.130 cannot bind a closure signature (`Closure<dyn …>`) that only a
//! chunk uses: the build panics in `descriptor.rs`. Closures in these pages use
//! signatures the main module already has (see `runs::follow_live`).

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// `/workflows/{id}`.
pub struct BuilderRoute;

#[lazy_route]
impl LazyRoute for BuilderRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <crate::workflows::BuilderPage/> }.into_any()
    }
}

/// `/workflows/{id}/triggers`.
pub struct TriggersRoute;

#[lazy_route]
impl LazyRoute for TriggersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <crate::workflows::TriggersPage/> }.into_any()
    }
}

/// `/runs/{id}`.
pub struct RunRoute;

#[lazy_route]
impl LazyRoute for RunRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <crate::runs::RunPage/> }.into_any()
    }
}

/// `/runs/{id}/changes/{step}`: the review of proposed changes, with Monaco's diff.
pub struct ChangesRoute;

#[lazy_route]
impl LazyRoute for ChangesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <crate::runs::ChangesPage/> }.into_any()
    }
}

/// `<link rel="preload">` for the chunks the requested page will load, so they download
/// alongside the main module instead of after it. (Leptos 0.8's own preloading of lazy
/// routes looks its manifest up outside any reactive owner and finds nothing.)
#[component]
pub fn Preloads(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let hrefs = use_context::<axum::http::request::Parts>()
        .map(|parts| preloads(&options, parts.uri.path()))
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let hrefs: Vec<String> = {
        let _ = options;
        Vec::new()
    };
    hrefs
        .into_iter()
        .map(|href| {
            view! { <link rel="preload" href=href r#as="fetch" type="application/wasm" crossorigin="anonymous"/> }
        })
        .collect_view()
}

/// The chunk files `path` needs, from the manifest the split step writes (read once).
/// A build without chunks has no manifest, and no page needs any.
#[cfg(feature = "ssr")]
fn preloads(options: &LeptosOptions, path: &str) -> Vec<String> {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    static MANIFEST: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let manifest = MANIFEST.get_or_init(|| {
        let file = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join("__wasm_split_manifest.json");
        std::fs::read_to_string(file)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    });
    chunk_files(manifest, options.site_pkg_dir.as_ref(), path)
}

/// The files listed in `manifest` (split point → its modules) for the route at `path`.
/// The split step names each split point after the route type's view, in snake case.
#[cfg(feature = "ssr")]
fn chunk_files(
    manifest: &std::collections::HashMap<String, Vec<String>>,
    pkg: &str,
    path: &str,
) -> Vec<String> {
    let route = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "workflows", id] if !id.is_empty() => "__builder_route_view_",
        ["", "runs", id] if !id.is_empty() => "__run_route_view_",
        ["", "workflows", id, "triggers"] if !id.is_empty() => "__triggers_route_view_",
        ["", "runs", id, "changes", step] if !id.is_empty() && !step.is_empty() => {
            "__changes_route_view_"
        }
        _ => return Vec::new(),
    };
    manifest
        .iter()
        .filter(|(key, _)| key.starts_with(route))
        .flat_map(|(_, modules)| modules.iter().map(move |m| format!("/{pkg}/{m}.wasm")))
        .collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::chunk_files;
    use std::collections::HashMap;

    #[test]
    fn each_canvas_page_preloads_its_chunk_and_the_shared_one() {
        let manifest: HashMap<String, Vec<String>> = serde_json::from_str(
            r#"{"__builder_route_view_1": ["chunk_3", "split___builder_route_view_1"],
                "__run_route_view_2": ["chunk_3", "split___run_route_view_2"],
                "__triggers_route_view_3": ["split___triggers_route_view_3"],
                "__changes_route_view_4": ["split___changes_route_view_4"]}"#,
        )
        .unwrap();
        assert_eq!(
            chunk_files(&manifest, "pkg", "/workflows/new"),
            [
                "/pkg/chunk_3.wasm",
                "/pkg/split___builder_route_view_1.wasm"
            ]
        );
        assert_eq!(
            chunk_files(&manifest, "pkg", "/runs/01abc"),
            ["/pkg/chunk_3.wasm", "/pkg/split___run_route_view_2.wasm"]
        );
        assert_eq!(
            chunk_files(&manifest, "pkg", "/runs/01abc/changes/review"),
            ["/pkg/split___changes_route_view_4.wasm"]
        );
        assert_eq!(
            chunk_files(&manifest, "pkg", "/workflows/01abc/triggers"),
            ["/pkg/split___triggers_route_view_3.wasm"]
        );
        for other in [
            "/",
            "/workflows",
            "/workflows/",
            "/runs",
            "/projects/1",
            "/workflows/1/x",
        ] {
            assert!(chunk_files(&manifest, "pkg", other).is_empty(), "{other}");
        }
        assert!(chunk_files(&HashMap::new(), "pkg", "/runs/1").is_empty());
    }
}
