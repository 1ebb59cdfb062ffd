//! The dashboard: the user's runs over 24 hours, 7 or 30 days. Counts by status per hour or
//! day, the success rate, run durations, the workflows that fail most, model tokens and
//! cost, and the newest runs. Charts are SVG rendered on the server (readable before the
//! WASM arrives, each with a table alternative); after hydration, hovering a bar shows its
//! numbers.

use crate::error::AppError;
use crate::markup::escape;
use crate::runs::badge_class;
use crate::shell::use_current_user;
use aura_types::RunStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// One hour or day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketView {
    /// "Nov 21" or "14:00" (UTC).
    pub label: String,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub active: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingView {
    pub id: String,
    pub name: String,
    pub failed: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentRun {
    pub id: String,
    pub workflow: String,
    pub status: RunStatus,
    pub started: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    /// `24h`, `7d` or `30d`.
    pub range: String,
    /// "24 hours", "7 days", "30 days".
    pub range_label: String,
    pub hourly: bool,
    pub buckets: Vec<BucketView>,
    pub totals: BucketView,
    pub success_rate: Option<f64>,
    pub finished: i64,
    pub p50: Option<String>,
    pub p95: Option<String>,
    pub failing: Vec<FailingView>,
    pub recent: Vec<RecentRun>,
}

/// The dashboard over `range` (`24h`, `7d` or `30d`).
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn dashboard(range: String) -> Result<DashboardView, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    use aura_engine::Range;
    respond(async move {
        let principal = principal()?;
        let engine = services().engine;
        let range = Range::parse(&range)
            .ok_or_else(|| AppError::invalid("range", "Use 24h, 7d or 30d."))?;
        let board = engine
            .dashboard(&principal, range, aura_store::now_millis())
            .await?;
        let hourly = range == Range::Day;
        let bucket = |b: &aura_engine::Bucket| BucketView {
            label: bucket_label(b.start, hourly),
            succeeded: b.succeeded,
            failed: b.failed,
            cancelled: b.cancelled,
            active: b.active,
            input_tokens: b.input_tokens,
            output_tokens: b.output_tokens,
            cost_usd: b.cost_micros as f64 / 1_000_000.0,
        };
        Ok(DashboardView {
            range: range.as_str().to_owned(),
            range_label: range.label().to_owned(),
            hourly,
            buckets: board.buckets.iter().map(bucket).collect(),
            totals: bucket(&board.totals),
            success_rate: board.success_rate,
            finished: board.durations.finished,
            p50: board.durations.p50_ms.map(human_duration),
            p95: board.durations.p95_ms.map(human_duration),
            failing: board
                .failing
                .into_iter()
                .map(|f| FailingView {
                    id: f.workflow_id,
                    name: f.name,
                    failed: f.failed,
                    total: f.total,
                })
                .collect(),
            recent: board
                .recent
                .into_iter()
                .map(|r| RecentRun {
                    id: r.id,
                    workflow: r.workflow_name,
                    status: r.status,
                    started: format_millis(r.created_at),
                })
                .collect(),
        })
    })
    .await
}

/// "14:00" for an hour, "Nov 21" for a day (UTC).
#[cfg(feature = "ssr")]
fn bucket_label(start: i64, hourly: bool) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(start.div_euclid(1000)) else {
        return String::new();
    };
    let formatted = if hourly {
        at.format(time::macros::format_description!("[hour]:00"))
    } else {
        at.format(time::macros::format_description!(
            "[month repr:short] [day padding:none]"
        ))
    };
    formatted.unwrap_or_default()
}

/// "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min".
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// Thousands separated by commas.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

const PANEL: &str =
    "rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| {
        let wanted = query.read().get("range").unwrap_or_default();
        match wanted.as_str() {
            "24h" | "30d" => wanted,
            _ => "7d".to_owned(),
        }
    });
    let board = Resource::new(move || range.get(), dashboard);
    let user = use_current_user();
    view! {
        <Title text="Dashboard"/>
        <div class="flex flex-wrap items-end justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold">{move || format!("Welcome, {}", user.get().display_name)}</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Your runs and model use, by UTC hour or day."</p>
            </div>
            <nav aria-label="Range" class="flex gap-1 rounded-lg border border-slate-200 p-1 text-sm dark:border-slate-700">
                {[("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")].into_iter().map(|(value, label)| {
                    let current = move || range.get() == value;
                    view! {
                        <A href=format!("/?range={value}") attr:class=move || if current() {
                            "rounded-md bg-indigo-600 px-3 py-1 font-medium text-white"
                        } else {
                            "rounded-md px-3 py-1 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                        } attr:aria-current=move || current().then_some("page")>{label}</A>
                    }
                }).collect_view()}
            </nav>
        </div>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500" role="status">"Loading the dashboard…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(view) if view.recent.is_empty() => view! { <EmptyState/> }.into_any(),
                    Ok(view) => view! { <Board view/> }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <section class=format!("{PANEL} mt-6 text-center") data-testid="dashboard-empty">
            <h2 class="text-lg font-semibold">"No runs yet"</h2>
            <p class="mx-auto mt-2 max-w-prose text-sm text-slate-600 dark:text-slate-400">
                "Create a workflow, then start a run from the Runs page, the REST API or "
                <code>"aura runs start"</code>
                ". Its status, duration and model cost will show here."
            </p>
            <div class="mt-4 flex justify-center gap-3 text-sm font-medium">
                <A href="/workflows" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Workflows"</A>
                <A href="/runs" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Runs"</A>
                <A href="/projects" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Projects"</A>
            </div>
        </section>
    }
}

#[component]
fn Tile(label: &'static str, value: String, detail: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class=PANEL>
            <p class="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</p>
            <p class="mt-1 text-2xl font-semibold tabular-nums" data-testid=testid>{value}</p>
            <p class="mt-1 text-xs text-slate-500">{detail}</p>
        </div>
    }
}

#[component]
fn Board(view: DashboardView) -> impl IntoView {
    let totals = view.totals.clone();
    let per = if view.hourly { "hour" } else { "day" };
    let tokens = totals.input_tokens + totals.output_tokens;
    let runs_chart: Vec<(String, Vec<Segment>)> = view
        .buckets
        .iter()
        .map(|b| {
            (
                b.label.clone(),
                vec![
                    Segment::new("succeeded", b.succeeded, "fill-emerald-500"),
                    Segment::new("failed", b.failed, "fill-red-500"),
                    Segment::new("cancelled", b.cancelled, "fill-slate-400"),
                    Segment::new("queued or running", b.active, "fill-sky-500"),
                ],
            )
        })
        .collect();
    let tokens_chart: Vec<(String, Vec<Segment>)> = view
        .buckets
        .iter()
        .map(|b| {
            (
                b.label.clone(),
                vec![
                    Segment::new("input tokens", b.input_tokens, "fill-indigo-500"),
                    Segment::new("output tokens", b.output_tokens, "fill-violet-400"),
                ],
            )
        })
        .collect();
    let costs: Vec<f64> = view.buckets.iter().map(|b| b.cost_usd).collect();
    let rates: Vec<(String, Option<f64>)> = view
        .buckets
        .iter()
        .map(|b| {
            let ended = b.succeeded + b.failed;
            (
                b.label.clone(),
                (ended > 0).then(|| b.succeeded as f64 / ended as f64),
            )
        })
        .collect();
    let range_label = view.range_label.clone();
    let (runs_title, rate_title, tokens_title) = (
        format!("Runs per {per} by status"),
        format!("Success rate per {per}"),
        format!("Model tokens per {per}"),
    );
    let legend_of = |chart: &[(String, Vec<Segment>)]| {
        chart.first().map(|(_, s)| s.clone()).unwrap_or_default()
    };
    let (runs_legend, tokens_legend) = (legend_of(&runs_chart), legend_of(&tokens_chart));
    let runs_texts: Vec<String> = runs_chart
        .iter()
        .map(|(label, segments)| bucket_text(label, segments, None))
        .collect();
    let tokens_texts: Vec<String> = tokens_chart
        .iter()
        .zip(&costs)
        .map(|((label, segments), cost)| bucket_text(label, segments, Some(*cost)))
        .collect();
    let rate_texts: Vec<String> = rates
        .iter()
        .map(|(label, rate)| match rate {
            Some(_) => format!("{label}: {}", percent(*rate)),
            None => format!("{label}: no runs ended"),
        })
        .collect();
    view! {
        <div class="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            <Tile label="Runs" value=grouped(totals.succeeded + totals.failed + totals.cancelled + totals.active) testid="tile-runs"
                detail=format!("{} succeeded · {} failed · last {range_label}", grouped(totals.succeeded), grouped(totals.failed))/>
            <Tile label="Success rate" value=percent(view.success_rate) testid="tile-success"
                detail="of runs that succeeded or failed".to_owned()/>
            <Tile label="Run duration" value=view.p50.clone().map_or_else(|| "—".to_owned(), |p| format!("p50 {p}")) testid="tile-duration"
                detail=view.p95.clone().map_or_else(|| "no finished runs".to_owned(), |p| format!("p95 {p} · {} finished", grouped(view.finished)))/>
            <Tile label="Model tokens" value=grouped(tokens) testid="tile-tokens"
                detail=format!("${:.4} · steps and editor actions", totals.cost_usd)/>
        </div>
        <div class="mt-4 grid gap-4 xl:grid-cols-2">
            <Figure title=runs_title.clone() caption="UTC; hover a bar for its numbers." testid="chart-runs"
                legend=runs_legend markup=bars_markup(&runs_title, &runs_chart, &[]) texts=runs_texts/>
            <Figure title=rate_title.clone() caption="Succeeded among runs that succeeded or failed." testid="chart-success"
                legend=Vec::new() markup=rate_markup(&rate_title, &rates) texts=rate_texts/>
            <Figure title=tokens_title.clone() caption="Input and output tokens of your model calls, with their cost." testid="chart-tokens"
                legend=tokens_legend markup=bars_markup(&tokens_title, &tokens_chart, &costs) texts=tokens_texts/>
            <FailingList failing=view.failing.clone() range_label=view.range_label.clone()/>
        </div>
        <RecentRuns runs=view.recent.clone()/>
    }
}

/// One stacked part of a bar.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    name: &'static str,
    value: i64,
    class: &'static str,
}

impl Segment {
    fn new(name: &'static str, value: i64, class: &'static str) -> Self {
        Segment { name, value, class }
    }
}

/// The smallest of 1, 2 or 5 × 10ⁿ at or above `max` (at least 1), so axis labels are round.
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max {
                return m * step;
            }
        }
        step *= 10;
    }
}

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
/// Room above the plot for the top label.
const TOP: f64 = 10.0;
/// The plot's height, from `TOP` to the labels under it.
const PLOT: f64 = HEIGHT - BOTTOM - TOP;
/// The plot's baseline.
const BASE: f64 = HEIGHT - BOTTOM;

/// Which labels to print under `n` bars so they do not collide.
fn label_every(n: usize) -> usize {
    n.div_ceil(8).max(1)
}

fn bucket_text(label: &str, segments: &[Segment], cost: Option<f64>) -> String {
    let parts: Vec<String> = segments
        .iter()
        .map(|s| format!("{} {}", grouped(s.value), s.name))
        .collect();
    match cost {
        Some(cost) => format!("{label}: {}, ${cost:.4}", parts.join(", ")),
        None => format!("{label}: {}", parts.join(", ")),
    }
}

/// The horizontal grid lines and their labels, at 0, half and `top`.
fn grid(svg: &mut String, ticks: &[(f64, String)]) {
    use std::fmt::Write;
    for (share, label) in ticks {
        let y = BASE - PLOT * share;
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke-width="1" class="stroke-slate-200 dark:stroke-slate-700"></line><text x="{:.1}" y="{:.1}" text-anchor="end" class="fill-slate-500 text-[11px]">{label}</text>"#,
            LEFT - 6.0,
            y + 4.0
        );
    }
}

/// Opens a chart's SVG.
fn svg_start(title: &str, kind: &str) -> String {
    format!(
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="mt-2 w-full" role="img" aria-label="{}: {kind}; the table below has the numbers">"#,
        escape(title)
    )
}

/// A column's hover target, and its label when `show_label`.
fn column_start(svg: &mut String, i: usize, slot: f64) {
    use std::fmt::Write;
    let _ = write!(
        svg,
        r#"<g data-bucket="{i}"><rect x="{:.1}" y="{TOP}" width="{slot:.1}" height="{PLOT}" class="fill-transparent hover:fill-slate-100 dark:hover:fill-slate-800"></rect>"#,
        LEFT + slot * i as f64
    );
}

fn column_label(svg: &mut String, x: f64, label: &str) {
    use std::fmt::Write;
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="fill-slate-500 text-[11px]">{}</text>"#,
        HEIGHT - 6.0,
        escape(label)
    );
}

/// The table alternative: a header row of `columns`, then one row per bucket.
fn table(columns: &[&str], rows: impl Iterator<Item = (String, Vec<String>)>) -> String {
    let mut html = String::from(
        r#"<details class="mt-2 text-sm"><summary class="cursor-pointer text-xs text-slate-500">Show as a table</summary><table class="mt-2 w-full text-left text-xs tabular-nums"><thead><tr><th scope="col" class="py-1 font-medium">When (UTC)</th>"#,
    );
    for column in columns {
        html.push_str(&format!(
            r#"<th scope="col" class="py-1 font-medium">{}</th>"#,
            escape(column)
        ));
    }
    html.push_str("</tr></thead><tbody>");
    for (label, cells) in rows {
        html.push_str(&format!(
            r#"<tr class="border-t border-slate-100 dark:border-slate-800"><th scope="row" class="py-1 font-normal">{}</th>"#,
            escape(&label)
        ));
        for cell in cells {
            html.push_str(&format!(r#"<td class="py-1">{}</td>"#, escape(&cell)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></details>");
    html
}

/// Stacked bars and their table; `costs` (one per bucket, or none) adds a cost column.
fn bars_markup(title: &str, buckets: &[(String, Vec<Segment>)], costs: &[f64]) -> String {
    use std::fmt::Write;
    let n = buckets.len().max(1);
    let max = buckets
        .iter()
        .map(|(_, s)| s.iter().map(|s| s.value).sum::<i64>())
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(max);
    let slot = (WIDTH - LEFT) / n as f64;
    let bar = (slot * 0.7).max(1.0);
    let every = label_every(n);
    let mut svg = svg_start(title, "bar chart");
    // Half way only when it is a whole number (the tops are 1, 2 or 5 × 10ⁿ).
    let mut ticks = vec![(0.0, "0".to_owned()), (1.0, grouped(top))];
    if top % 2 == 0 {
        ticks.push((0.5, grouped(top / 2)));
    }
    grid(&mut svg, &ticks);
    for (i, (label, segments)) in buckets.iter().enumerate() {
        column_start(&mut svg, i, slot);
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = BASE;
        for s in segments.iter().filter(|s| s.value > 0) {
            let h = PLOT * s.value as f64 / top as f64;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" class="{}"></rect>"#,
                s.class
            );
        }
        if i.is_multiple_of(every) {
            column_label(&mut svg, x + bar / 2.0, label);
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    let mut columns: Vec<&str> = buckets
        .first()
        .map(|(_, s)| s.iter().map(|s| s.name).collect())
        .unwrap_or_default();
    if !costs.is_empty() {
        columns.push("cost");
    }
    svg + &table(
        &columns,
        buckets.iter().enumerate().map(|(i, (label, segments))| {
            let mut cells: Vec<String> = segments.iter().map(|s| grouped(s.value)).collect();
            if let Some(cost) = costs.get(i) {
                cells.push(format!("${cost:.4}"));
            }
            (label.clone(), cells)
        }),
    )
}

/// The success rate per bucket as a line (buckets without ended runs leave a gap), and
/// its table.
fn rate_markup(title: &str, rates: &[(String, Option<f64>)]) -> String {
    use std::fmt::Write;
    let n = rates.len().max(1);
    let slot = (WIDTH - LEFT) / n as f64;
    let every = label_every(n);
    let point = |i: usize, rate: f64| (LEFT + slot * (i as f64 + 0.5), BASE - PLOT * rate);
    let mut svg = svg_start(title, "line chart");
    grid(
        &mut svg,
        &[
            (0.0, "0%".to_owned()),
            (0.5, "50%".to_owned()),
            (1.0, "100%".to_owned()),
        ],
    );
    // One polyline per run of buckets with a rate.
    for run in rates
        .iter()
        .enumerate()
        .collect::<Vec<_>>()
        .split(|(_, (_, rate))| rate.is_none())
        .filter(|run| !run.is_empty())
    {
        let points: Vec<String> = run
            .iter()
            .filter_map(|(i, (_, rate))| rate.map(|r| point(*i, r)))
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke-width="2" class="stroke-emerald-500"></polyline>"#,
            points.join(" ")
        );
    }
    for (i, (label, rate)) in rates.iter().enumerate() {
        column_start(&mut svg, i, slot);
        if let Some(rate) = rate {
            let (cx, cy) = point(i, *rate);
            let _ = write!(
                svg,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3" class="fill-emerald-500"></circle>"#
            );
        }
        if i.is_multiple_of(every) {
            column_label(&mut svg, LEFT + slot * (i as f64 + 0.5), label);
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg + &table(
        &["success rate"],
        rates
            .iter()
            .map(|(label, rate)| (label.clone(), vec![percent(*rate)])),
    )
}

/// The bucket under the pointer, from the `data-bucket` of the column it is in.
fn bucket_at(event: &leptos::ev::MouseEvent) -> Option<usize> {
    use leptos::wasm_bindgen::JsCast;
    event
        .target()?
        .dyn_into::<leptos::web_sys::Element>()
        .ok()?
        .closest("[data-bucket]")
        .ok()??
        .get_attribute("data-bucket")?
        .parse()
        .ok()
}

/// A chart (SVG and table markup, made from numbers only) in a figure whose readout
/// follows the hovered column; `texts` holds each column's readout.
#[component]
fn Figure(
    title: String,
    caption: &'static str,
    testid: &'static str,
    legend: Vec<Segment>,
    markup: String,
    texts: Vec<String>,
) -> impl IntoView {
    let hovered = RwSignal::new(None::<usize>);
    let readout = move || {
        hovered
            .get()
            .and_then(|i| texts.get(i).cloned())
            .unwrap_or_else(|| caption.to_owned())
    };
    let legend: String = legend
        .iter()
        .map(|s| {
            format!(
                r#"<span class="inline-flex items-center gap-1"><svg class="h-2.5 w-2.5" viewBox="0 0 10 10" aria-hidden="true"><rect width="10" height="10" rx="2" class="{}"></rect></svg>{}</span>"#,
                s.class,
                escape(s.name)
            )
        })
        .collect();
    view! {
        <figure class=PANEL data-testid=testid>
            <figcaption class="flex flex-wrap items-baseline justify-between gap-2">
                <span class="font-semibold">{title}</span>
                <span class="flex flex-wrap gap-3 text-xs text-slate-500" inner_html=legend></span>
            </figcaption>
            <p class="mt-1 min-h-5 text-xs text-slate-600 dark:text-slate-400" aria-live="polite" data-testid="chart-readout">{readout}</p>
            <div inner_html=markup on:mouseover=move |ev| hovered.set(bucket_at(&ev)) on:mouseleave=move |_| hovered.set(None)></div>
        </figure>
    }
}

#[component]
fn FailingList(failing: Vec<FailingView>, range_label: String) -> impl IntoView {
    let most = failing.iter().map(|f| f.failed).max().unwrap_or(1).max(1);
    view! {
        <section class=PANEL aria-labelledby="failing-title" data-testid="failing">
            <div class="flex items-baseline justify-between">
                <h2 id="failing-title" class="font-semibold">"Workflows that fail most"</h2>
                <A href="/runs?status=failed" attr:class="text-sm text-indigo-600 hover:underline dark:text-indigo-400">"Failed runs"</A>
            </div>
            {if failing.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-500">{format!("No failed runs in the last {range_label}.")}</p> }.into_any()
            } else {
                view! {
                    <ol class="mt-3 space-y-3">
                        {failing.into_iter().map(|f| {
                            let share = format!("{:.1}", 100.0 * f.failed as f64 / most as f64);
                            view! {
                                <li>
                                    <div class="flex items-baseline justify-between gap-2 text-sm">
                                        <A href=format!("/runs?status=failed&workflow={}", f.id) attr:class="truncate font-medium text-indigo-600 hover:underline dark:text-indigo-400">{f.name.clone()}</A>
                                        <span class="shrink-0 text-xs tabular-nums text-slate-500">{format!("{} of {} failed", grouped(f.failed), grouped(f.total))}</span>
                                    </div>
                                    // An SVG bar: the CSP forbids inline styles.
                                    <svg class="mt-1 h-1.5 w-full" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
                                        <rect width="100" height="6" rx="1" class="fill-slate-100 dark:fill-slate-800"></rect>
                                        <rect width=share height="6" rx="1" class="fill-red-500"></rect>
                                    </svg>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RecentRuns(runs: Vec<RecentRun>) -> impl IntoView {
    view! {
        <section class=format!("{PANEL} mt-4") aria-labelledby="recent-title" data-testid="recent-runs">
            <div class="flex items-baseline justify-between">
                <h2 id="recent-title" class="font-semibold">"Recent runs"</h2>
                <A href="/runs" attr:class="text-sm text-indigo-600 hover:underline dark:text-indigo-400">"All runs"</A>
            </div>
            <ul class="mt-3 divide-y divide-slate-100 text-sm dark:divide-slate-800">
                {runs.into_iter().map(|r| view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                        <A href=format!("/runs/{}", r.id) attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">{r.workflow.clone()}</A>
                        <span class="flex items-center gap-3 text-xs text-slate-500">
                            {r.started.clone()}
                            <span class=badge_class(r.status.as_str()) data-status=r.status.as_str()>{r.status.as_str()}</span>
                        </span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_and_numbers_readable() {
        assert_eq!(
            [0, 1, 3, 7, 10, 11, 240, 100_001].map(nice_ceiling),
            [1, 1, 5, 10, 10, 20, 500, 200_000]
        );
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(4_200), "4.2 s");
        assert_eq!(human_duration(185_000), "3 min 5 s");
        assert_eq!(human_duration(7_800_000), "2 h 10 min");
        assert_eq!(label_every(7), 1);
        assert_eq!(label_every(30), 4);
    }

    #[test]
    fn charts_draw_each_bucket_scaled_to_a_round_top_with_its_table_row() {
        let buckets = vec![
            (
                "Nov 1".to_owned(),
                vec![
                    Segment::new("succeeded", 3, "fill-emerald-500"),
                    Segment::new("failed", 1, "fill-red-500"),
                ],
            ),
            (
                "<b>".to_owned(),
                vec![Segment::new("succeeded", 0, "fill-emerald-500")],
            ),
        ];
        let svg = bars_markup("Runs", &buckets, &[0.5, 0.0]);
        assert_eq!(svg.matches("<g data-bucket=").count(), 2);
        // The top is 5: 3 succeeded take 60% of the 148-pixel plot, drawn up from its
        // baseline at 158; no half-way line for a top of 5.
        assert!(svg.contains(r#"y="69.2" width="#), "{svg}");
        assert!(
            svg.contains(r#"height="88.8" class="fill-emerald-500""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<line ").count(), 2);
        assert!(!svg.contains("<b>") && svg.contains("&lt;b&gt;"));
        assert!(svg.contains("<td class=\"py-1\">$0.5000</td>"));
        assert_eq!(svg.matches("<tr class=").count(), 2);

        let rates = vec![
            ("a".to_owned(), Some(1.0)),
            ("b".to_owned(), None),
            ("c".to_owned(), Some(0.5)),
            ("d".to_owned(), Some(0.0)),
        ];
        let line = rate_markup("Rate", &rates);
        // A gap where no run ended: one single-point line, then a line of two.
        assert_eq!(line.matches("<polyline").count(), 2);
        assert_eq!(line.matches("<circle").count(), 3);
        assert!(line.contains("<td class=\"py-1\">—</td>"));
    }
}
