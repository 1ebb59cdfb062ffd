//! Projects: the list, the editor page and the server functions behind them.

mod language;

pub use language::language_of;
