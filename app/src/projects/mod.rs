//! Projects: the list, the editor page and the server functions behind them.

pub mod api;
mod assist;
mod editor;
mod language;
mod list;
#[cfg(feature = "hydrate")]
pub(crate) mod monaco;

pub use assist::NO_MODEL;
pub use editor::EditorPage;
pub use language::language_of;
pub use list::ProjectsPage;
/// Asks before leaving a page with unsaved work (the builder uses it too).
#[cfg(feature = "hydrate")]
pub use monaco::NavigationGuard;
