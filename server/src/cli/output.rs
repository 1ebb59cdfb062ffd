//! How the CLI prints: aligned tables, times, colour only on a terminal (and never with
//! `NO_COLOR`), and a spinner on stderr while a command waits.

use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Colour for one stream: on when it is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    fn for_terminal(is_terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: is_terminal && !no_color,
        }
    }

    pub fn stdout() -> Self {
        Self::for_terminal(std::io::stdout().is_terminal())
    }

    pub fn stderr() -> Self {
        Self::for_terminal(std::io::stderr().is_terminal())
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// A run or step status in its colour.
    pub fn status(&self, status: &str) -> String {
        match status {
            "succeeded" => self.green(status),
            "failed" => self.red(status),
            "cancelled" | "skipped" => self.dim(status),
            "running" | "queued" | "pending" => self.yellow(status),
            other => other.to_owned(),
        }
    }
}

/// Prints pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("error: could not print JSON: {err}"),
    }
}

/// Rows under a header, each column as wide as its widest cell. `empty` is printed
/// instead when there are no rows.
pub fn print_table(headers: &[&str], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        println!("{empty}");
        return;
    }
    let style = Style::stdout();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(visible_width(cell));
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(width - visible_width(cell) + 2));
            }
        }
        out.trim_end().to_owned()
    };
    println!(
        "{}",
        style.bold(&line(headers.iter().map(|h| h.to_string()).collect()))
    );
    for row in rows {
        println!("{}", line(row.clone()));
    }
}

/// Characters a cell shows: colour codes take no room.
fn visible_width(cell: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in cell.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// A time (Unix milliseconds) as `2026-11-23 01:15:24` UTC.
pub fn when(millis: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| millis.to_string())
}

/// The time of day of a time (Unix milliseconds), for event lines.
pub fn clock(millis: i64) -> String {
    when(millis)
        .split_once(' ')
        .map_or_else(String::new, |(_, t)| t.to_owned())
}

/// How long from `start` to `end` (Unix milliseconds), like `1.2s` or `3m04s`.
pub fn took(start: Option<i64>, end: Option<i64>) -> String {
    let (Some(start), Some(end)) = (start, end) else {
        return "-".into();
    };
    let ms = (end - start).max(0);
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// A spinner on stderr while a command waits; nothing when stderr is not a terminal.
pub struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
    message: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Spinner {
    pub fn start(message: impl Into<String>) -> Self {
        let message = std::sync::Arc::new(std::sync::Mutex::new(message.into()));
        let show = std::io::stderr().is_terminal();
        let task = show.then(|| {
            let message = message.clone();
            tokio::spawn(async move {
                const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                for frame in FRAMES.iter().cycle() {
                    // Drawn under the lock `println` takes, so a frame never lands in
                    // the middle of a printed line.
                    if let Ok(text) = message.lock() {
                        eprint!("\r\x1b[2K{frame} {text}");
                        let _ = std::io::stderr().flush();
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
        Self { task, message }
    }

    pub fn set(&self, text: impl Into<String>) {
        if let Ok(mut message) = self.message.lock() {
            *message = text.into();
        }
    }

    /// Prints a line on stderr with the spinner's line cleared first; the next frame is
    /// drawn below it.
    pub fn eprintln(&self, line: &str) {
        let _guard = self.message.lock();
        if self.task.is_some() {
            eprint!("\r\x1b[2K");
        }
        eprintln!("{line}");
    }

    /// Prints a line on stdout with the spinner's line cleared first; the next frame is
    /// drawn below it.
    pub fn println(&self, line: &str) {
        let _guard = self.message.lock();
        if self.task.is_some() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
        println!("{line}");
        let _ = std::io::stdout().flush();
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
