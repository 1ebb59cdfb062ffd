//! A run's workflow version drawn read-only: the steps where the layered layout puts them
//! (`aura_engine::layout`), each coloured by its status in this run, and the edges between
//! them with a condition's branch names. Made on the server as SVG markup, so the run page
//! shows the graph before any script runs; the page reloads its detail as the run moves,
//! which redraws it.

use crate::markup::escape;
use aura_engine::{Layout, NODE_HEIGHT, NODE_WIDTH};
use std::fmt::Write;

/// The stroke and fill classes of a step's box for its status.
fn status_classes(status: &str) -> &'static str {
    match status {
        "succeeded" => "stroke-emerald-500 fill-emerald-50 dark:fill-emerald-950",
        "failed" => "stroke-red-500 fill-red-50 dark:fill-red-950",
        "running" => "stroke-sky-500 fill-sky-50 dark:fill-sky-950",
        "queued" => "stroke-amber-500 fill-amber-50 dark:fill-amber-950",
        _ => "stroke-slate-300 fill-white dark:stroke-slate-600 dark:fill-slate-900",
    }
}

/// The SVG of `layout`, each step with the status `status_of` gives it.
pub fn run_graph<'a>(layout: &Layout, status_of: impl Fn(&str) -> &'a str) -> String {
    let mut svg = format!(
        r#"<svg viewBox="0 0 {:.0} {:.0}" width="{:.0}" class="mx-auto block max-w-full" role="img" aria-label="The workflow's steps and their status in this run">"#,
        layout.width, layout.height, layout.width
    );
    svg.push_str(
        r#"<defs><marker id="run-graph-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="fill-slate-400"></path></marker></defs>"#,
    );
    for edge in &layout.edges {
        let points: Vec<String> = edge
            .points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke-width="1.5" class="stroke-slate-400" marker-end="url(#run-graph-arrow)" data-edge="{}-{}"></polyline>"#,
            points.join(" "),
            escape(&edge.from),
            escape(&edge.to)
        );
        if let (Some(branch), Some((x, y))) =
            (&edge.branch, edge.points.get(1).or(edge.points.last()))
        {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="fill-slate-500 text-[11px]" text-anchor="start">{}</text>"#,
                x + 4.0,
                y - 6.0,
                escape(branch)
            );
        }
    }
    for step in &layout.steps {
        let status = status_of(&step.id);
        let _ = write!(
            svg,
            r#"<g data-step="{id}" data-status="{status}"><rect x="{x:.1}" y="{y:.1}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" stroke-width="2" class="{classes}"></rect><text x="{tx:.1}" y="{ty:.1}" class="fill-slate-900 font-mono text-[13px] font-semibold dark:fill-slate-100">{id}</text><text x="{tx:.1}" y="{sy:.1}" class="fill-slate-500 text-[11px]">{kind} · {status}</text></g>"#,
            id = escape(&step.id),
            x = step.x,
            y = step.y,
            classes = status_classes(status),
            tx = step.x + 12.0,
            ty = step.y + 22.0,
            sy = step.y + 40.0,
            kind = escape(&step.kind),
            status = escape(status),
        );
    }
    svg.push_str("</svg>");
    svg
}
