//! The canvas: steps as HTML nodes and edges as one SVG layer, inside one transformed
//! viewport, with a minimap.
//!
//! Positions are set through the CSSOM (`element.style`), which the page's
//! `style-src` policy allows, while `style` attributes it forbids. So that the server's
//! page already shows every step in place, a `<style>` element carrying the request's
//! nonce positions the nodes until the browser takes over.
//!
//! Pointer and key handling is delegated to the canvas box (one listener each, not one
//! per node): the event's target says which node, handle or edge it concerns.

use super::super::graph::{BRANCHES, Link, Point};
use super::state::{Builder, Cell, DETAIL_LIMIT, READABLE_ZOOM, View, bounds};
use aura_types::{NODE_HEIGHT, NODE_WIDTH, StepKind};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use std::collections::{HashMap, HashSet};

/// The id of the server's stylesheet that places the nodes before the WASM runs.
const OPENING_STYLE: &str = "builder-opening";

/// The MIME type a palette entry is dragged with.
pub const STEP_DRAG_TYPE: &str = "application/x-aura-step";

/// What the pointer is doing, from press to release.
#[derive(Clone, Default)]
enum Gesture {
    #[default]
    Idle,
    Pan {
        start: Point,
        view: View,
    },
    Drag {
        start: Point,
        before: super::super::graph::Graph,
        moving: Vec<(Cell, Point)>,
        delta: Point,
    },
    Connect {
        from: String,
        branch: Option<String>,
    },
    Box {
        start: Point,
    },
}

/// A run's status per step, when the canvas shows a run.
pub type Statuses = Signal<HashMap<String, String>>;

fn translate(p: Point) -> String {
    format!("translate({}px, {}px)", p.x, p.y)
}

/// Where an edge leaves its source: the bottom middle, or a condition's branch handle.
fn handle_x(branch: Option<&str>) -> f64 {
    match branch {
        Some("true") => NODE_WIDTH / 4.0,
        Some(_) => NODE_WIDTH * 3.0 / 4.0,
        None => NODE_WIDTH / 2.0,
    }
}

fn edge_path(from: Point, branch: Option<&str>, to: Point) -> String {
    let (sx, sy) = (from.x + handle_x(branch), from.y + NODE_HEIGHT);
    let (tx, ty) = (to.x + NODE_WIDTH / 2.0, to.y);
    curve(sx, sy, tx, ty)
}

fn curve(sx: f64, sy: f64, tx: f64, ty: f64) -> String {
    let c = ((ty - sy).abs() / 2.0).max(24.0);
    format!(
        "M{sx:.1},{sy:.1} C{sx:.1},{:.1} {tx:.1},{:.1} {tx:.1},{ty:.1}",
        sy + c,
        ty - c
    )
}

/// The stylesheet that places the nodes before the browser runs: one rule per step whose
/// id is safe in a selector (every saved id is).
fn opening_css(b: &Builder) -> String {
    let view = b.view.get_untracked();
    let mut css = format!(
        "#builder-viewport{{transform:translate({}px,{}px) scale({})}}",
        view.x, view.y, view.k
    );
    b.graph.with_value(|g| {
        for n in &g.nodes {
            if super::super::graph::is_valid_id(&n.id) {
                css.push_str(&format!(
                    "[data-node={}]{{transform:translate({}px,{}px)}}",
                    n.id, n.at.x, n.at.y
                ));
            }
        }
    });
    css
}

fn status_class(status: Option<&str>) -> &'static str {
    match status {
        Some("succeeded") => "border-emerald-500 bg-emerald-50 dark:bg-emerald-950",
        Some("failed") => "border-red-500 bg-red-50 dark:bg-red-950",
        Some("running") => "border-sky-500 bg-sky-50 dark:bg-sky-950",
        Some("queued") => "border-amber-500 bg-amber-50 dark:bg-amber-950",
        Some("waiting") => "border-violet-500 bg-violet-50 dark:bg-violet-950",
        Some("skipped" | "cancelled") => "border-slate-300 bg-slate-100 dark:bg-slate-800",
        _ => "border-slate-300 bg-white dark:border-slate-600 dark:bg-slate-900",
    }
}

fn kind_label(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Llm => "LLM",
        StepKind::Script => "Script",
        StepKind::Http => "HTTP request",
        StepKind::Condition => "Condition",
        StepKind::Map => "Map",
        StepKind::Template => "Template",
        StepKind::Analysis => "Code analysis",
        StepKind::Approval => "Approval",
        StepKind::Agent => "Coding agent",
    }
}

pub fn step_label(kind: StepKind) -> &'static str {
    kind_label(kind)
}

#[component]
pub fn Canvas(
    b: Builder,
    /// Each step's status in the run being watched, if any.
    #[prop(optional, into)]
    statuses: Option<Statuses>,
    /// Steps a version diff marks: id → "added" or "changed".
    #[prop(optional, into)]
    marks: Option<Signal<HashMap<String, &'static str>>>,
) -> impl IntoView {
    let canvas = NodeRef::<Div>::new();
    let viewport = NodeRef::<Div>::new();
    let gesture = StoredValue::new(Gesture::Idle);
    let space = StoredValue::new(false);
    let connecting = RwSignal::new(None::<(Point, Point)>);
    let marquee = RwSignal::new(None::<(Point, Point)>);
    let problems = Memo::new(move |_| {
        let mut by_step: HashMap<String, Vec<String>> = HashMap::new();
        b.problems.with(|ps| {
            for p in ps {
                if let Some(step) = &p.step {
                    by_step
                        .entry(step.clone())
                        .or_default()
                        .push(format!("{}: {}", p.field, p.message));
                }
            }
        });
        by_step
    });
    let many = b.cells.with_untracked(|c| c.len() > DETAIL_LIMIT);

    Effect::new(move |_| {
        let v = b.view.get();
        if let Some(el) = viewport.get() {
            let _ = leptos::web_sys::HtmlElement::style(&el).set_property(
                "transform",
                &format!("translate({}px, {}px) scale({})", v.x, v.y, v.k),
            );
        }
    });
    // The box's size, read when it matters: on a client-side visit the box is not laid
    // out yet when it is created.
    let measure = move || {
        if let Some(el) = canvas.get_untracked() {
            let size = Point {
                x: f64::from(el.client_width()),
                y: f64::from(el.client_height()),
            };
            if size.x > 0.0 && size != b.size.get_untracked() {
                b.size.set(size);
            }
        }
    };
    Effect::new(move |_| {
        if canvas.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    // The canvas box's top-left on screen, to turn client coordinates into box ones.
    let origin = move || {
        canvas
            .get_untracked()
            .map(|el| {
                let r = el.get_bounding_client_rect();
                Point {
                    x: r.left(),
                    y: r.top(),
                }
            })
            .unwrap_or_default()
    };
    let local = move |ev: &leptos::ev::MouseEvent| {
        let o = origin();
        Point {
            x: f64::from(ev.client_x()) - o.x,
            y: f64::from(ev.client_y()) - o.y,
        }
    };

    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 && ev.button() != 1 {
            return;
        }
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        else {
            return;
        };
        let at = local(&ev);
        let node_id = target
            .closest("[data-node]")
            .ok()
            .flatten()
            .and_then(|n| n.get_attribute("data-node"));
        let panning = ev.button() == 1 || space.get_value();
        let next = if let (Some(handle), false, false) = (
            target.closest("[data-handle]").ok().flatten(),
            panning,
            b.read_only,
        ) {
            let branch = handle
                .get_attribute("data-handle")
                .filter(|b| !b.is_empty());
            let from = node_id.clone().unwrap_or_default();
            let start = b.cell(&from).map(|c| {
                let p = c.at.get_untracked();
                Point {
                    x: p.x + handle_x(branch.as_deref()),
                    y: p.y + NODE_HEIGHT,
                }
            });
            connecting.set(start.map(|s| (s, s)));
            ev.prevent_default();
            Gesture::Connect { from, branch }
        } else if let (Some(id), false) = (node_id, panning) {
            let shift = ev.shift_key();
            if shift {
                b.selected.update(|s| {
                    if !s.remove(&id) {
                        s.insert(id.clone());
                    }
                });
                b.selected_link.set(None);
            } else if !b.selected.with_untracked(|s| s.contains(&id)) {
                b.select([id.clone()]);
            }
            if b.read_only || shift {
                Gesture::Idle
            } else {
                let moving = b.selected.with_untracked(|s| {
                    s.iter()
                        .filter_map(|id| b.cell(id))
                        .map(|c| {
                            let p = c.at.get_untracked();
                            (c, p)
                        })
                        .collect()
                });
                Gesture::Drag {
                    start: at,
                    before: b.graph.get_value(),
                    moving,
                    delta: Point::default(),
                }
            }
        } else if let (Some(link), false) = (target.closest("[data-link]").ok().flatten(), panning)
        {
            let parts: Option<Link> = link.get_attribute("data-link").and_then(|l| {
                let mut it = l.splitn(3, ' ');
                Some(Link {
                    from: it.next()?.to_owned(),
                    to: it.next()?.to_owned(),
                    branch: it.next().filter(|b| !b.is_empty()).map(str::to_owned),
                })
            });
            b.selected.set(HashSet::new());
            b.selected_link.set(parts);
            Gesture::Idle
        } else if ev.shift_key() && !panning {
            marquee.set(Some((at, at)));
            Gesture::Box { start: at }
        } else {
            if !panning {
                b.select([]);
            }
            ev.prevent_default();
            Gesture::Pan {
                start: at,
                view: b.view.get_untracked(),
            }
        };
        if let (false, Some(el)) = (matches!(next, Gesture::Idle), canvas.get_untracked()) {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        gesture.set_value(next);
    };

    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let at = local(&ev);
        gesture.update_value(|g| match g {
            Gesture::Idle => {}
            Gesture::Pan { start, view } => b.view.set(View {
                x: view.x + at.x - start.x,
                y: view.y + at.y - start.y,
                k: view.k,
            }),
            Gesture::Drag {
                start,
                moving,
                delta,
                ..
            } => {
                let k = b.view.get_untracked().k;
                *delta = Point {
                    x: ((at.x - start.x) / k).round(),
                    y: ((at.y - start.y) / k).round(),
                };
                for (cell, from) in moving.iter() {
                    cell.at.set(Point {
                        x: from.x + delta.x,
                        y: from.y + delta.y,
                    });
                }
            }
            Gesture::Connect { .. } => {
                let p = b.view.get_untracked().to_canvas(at);
                connecting.update(|c| {
                    if let Some((_, end)) = c {
                        *end = p;
                    }
                });
            }
            Gesture::Box { start } => marquee.set(Some((*start, at))),
        });
    };

    let finish = move |ev: leptos::ev::PointerEvent, cancelled: bool| {
        let g = gesture.try_update_value(std::mem::take).unwrap_or_default();
        connecting.set(None);
        match g {
            Gesture::Drag {
                before,
                moving,
                delta,
                ..
            } => {
                let ids: HashSet<String> = moving.iter().map(|(c, _)| c.id.clone()).collect();
                if cancelled {
                    for (cell, from) in moving {
                        cell.at.set(from);
                    }
                } else {
                    b.commit_move(before, &ids, delta.x, delta.y);
                }
            }
            Gesture::Connect { from, branch } if !cancelled => {
                let to = document()
                    .element_from_point(ev.client_x() as f32, ev.client_y() as f32)
                    .and_then(|el| el.closest("[data-node]").ok().flatten())
                    .and_then(|n| n.get_attribute("data-node"));
                if let Some(to) = to {
                    b.edit(|g| g.connect(&from, &to, branch));
                }
            }
            Gesture::Box { start } => {
                marquee.set(None);
                let end = local(&ev);
                let view = b.view.get_untracked();
                let (a, z) = (view.to_canvas(start), view.to_canvas(end));
                let (lo, hi) = (
                    Point {
                        x: a.x.min(z.x),
                        y: a.y.min(z.y),
                    },
                    Point {
                        x: a.x.max(z.x),
                        y: a.y.max(z.y),
                    },
                );
                let inside: Vec<String> = b.graph.with_value(|g| {
                    g.nodes
                        .iter()
                        .filter(|n| {
                            n.at.x < hi.x
                                && n.at.x + NODE_WIDTH > lo.x
                                && n.at.y < hi.y
                                && n.at.y + NODE_HEIGHT > lo.y
                        })
                        .map(|n| n.id.clone())
                        .collect()
                });
                b.selected.update(|s| s.extend(inside));
            }
            _ => {}
        }
    };

    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let scale = if ev.delta_mode() == 1 { 16.0 } else { 1.0 };
        let (dx, dy) = (ev.delta_x() * scale, ev.delta_y() * scale);
        let view = b.view.get_untracked();
        if ev.ctrl_key() || ev.meta_key() {
            b.view
                .set(view.zoomed(view.k * (-dy * 0.002).exp(), local(&ev)));
        } else {
            b.view.set(View {
                x: view.x - dx,
                y: view.y - dy,
                k: view.k,
            });
        }
    };

    let zoom_by = move |factor: f64| {
        measure();
        let size = b.size.get_untracked();
        let view = b.view.get_untracked();
        b.view.set(view.zoomed(
            view.k * factor,
            Point {
                x: size.x / 2.0,
                y: size.y / 2.0,
            },
        ));
    };
    let fit = move || {
        measure();
        let view = b
            .graph
            .with_value(|g| View::fitting(g, b.size.get_untracked()));
        b.view.set(view);
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        let step = if ev.shift_key() { 40.0 } else { 8.0 };
        let arrow = match key.as_str() {
            "ArrowLeft" => Some((-step, 0.0)),
            "ArrowRight" => Some((step, 0.0)),
            "ArrowUp" => Some((0.0, -step)),
            "ArrowDown" => Some((0.0, step)),
            _ => None,
        };
        let handled = match (key.as_str(), command) {
            ("Delete" | "Backspace", false) => {
                b.delete_selection();
                true
            }
            ("Escape", _) => {
                gesture.set_value(Gesture::Idle);
                connecting.set(None);
                b.select([]);
                true
            }
            (" ", false) => {
                space.set_value(true);
                true
            }
            ("a", true) => {
                b.select(
                    b.graph
                        .with_value(|g| g.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>()),
                );
                true
            }
            ("c", true) => {
                b.copy_selection();
                true
            }
            ("v", true) => {
                b.paste();
                true
            }
            ("d", true) => {
                b.duplicate_selection();
                true
            }
            ("+" | "=", false) => {
                zoom_by(1.25);
                true
            }
            ("-", false) => {
                zoom_by(0.8);
                true
            }
            ("0", false) => {
                fit();
                true
            }
            _ => match arrow {
                Some((dx, dy)) if !command => {
                    let ids = b.selected.get_untracked();
                    if ids.is_empty() || b.read_only {
                        b.view.update(|v| {
                            v.x -= dx * 5.0;
                            v.y -= dy * 5.0;
                        });
                    } else {
                        b.edit(|g| {
                            g.shift(&ids, dx, dy);
                            Ok(())
                        });
                    }
                    true
                }
                _ => false,
            },
        };
        if handled {
            ev.prevent_default();
        }
    };
    let on_keyup = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == " " {
            space.set_value(false);
        }
    };

    // A node reached with Tab is selected and scrolled into view.
    let on_focusin = move |ev: leptos::ev::FocusEvent| {
        let Some(id) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .filter(|el| el.has_attribute("data-node"))
            .and_then(|el| el.get_attribute("data-node"))
        else {
            return;
        };
        if !b.selected.with_untracked(|s| s.contains(&id)) {
            b.select([id.clone()]);
        }
        measure();
        if let Some(cell) = b.cell(&id) {
            let view = b.view.get_untracked();
            let size = b.size.get_untracked();
            let p = view.to_screen(cell.at.get_untracked());
            let (w, h) = (NODE_WIDTH * view.k, NODE_HEIGHT * view.k);
            if p.x < 0.0 || p.y < 0.0 || p.x + w > size.x || p.y + h > size.y {
                b.view.set(View {
                    x: view.x + size.x / 2.0 - p.x - w / 2.0,
                    y: view.y + size.y / 2.0 - p.y - h / 2.0,
                    k: view.k,
                });
            }
        }
    };

    let on_drop = move |ev: leptos::ev::DragEvent| {
        let Some(kind) = ev
            .data_transfer()
            .and_then(|d| d.get_data(STEP_DRAG_TYPE).ok())
            .and_then(|k| StepKind::parse(&k))
        else {
            return;
        };
        ev.prevent_default();
        let p = b.view.get_untracked().to_canvas(local(&ev));
        let at = Point {
            x: (p.x - NODE_WIDTH / 2.0).round(),
            y: (p.y - NODE_HEIGHT / 2.0).round(),
        };
        if let Some(id) = b.edit(|g| Ok(g.add(kind, at))) {
            b.select([id]);
        }
    };

    // Only the server's page needs the stylesheet (and only it has the nonce that lets it
    // apply). The browser renders it exactly when it is hydrating the server's element,
    // which it finds in the document: hydration may finish after Leptos' hydration pass
    // (a suspended page), so "are we hydrating" is no test. Once hydrated, the element
    // loses its id, so a later client-side visit renders none.
    #[cfg(feature = "ssr")]
    let first_paint = true;
    #[cfg(not(feature = "ssr"))]
    let first_paint = document().get_element_by_id(OPENING_STYLE).is_some();
    let opening = first_paint.then(|| {
        let nonce = leptos::nonce::use_nonce();
        let css = opening_css(&b);
        view! { <style id=OPENING_STYLE nonce=nonce inner_html=css></style> }
    });
    Effect::new(move |_| {
        if let (true, Some(el)) = (
            viewport.get().is_some(),
            document().get_element_by_id(OPENING_STYLE),
        ) {
            let _ = el.remove_attribute("id");
        }
    });
    let statuses = statuses.unwrap_or_else(|| Signal::derive(HashMap::new));
    let marks = marks.unwrap_or_else(|| Signal::derive(HashMap::new));

    view! {
        {opening}
        <div class="relative h-[70vh] min-h-96 overflow-hidden rounded-xl border border-slate-200 bg-slate-50 bg-[radial-gradient(circle,_#cbd5e1_1px,_transparent_1px)] bg-[length:24px_24px] touch-none select-none focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-800 dark:bg-slate-950"
            node_ref=canvas
            tabindex="0"
            role="application"
            aria-roledescription="workflow canvas"
            aria-label="Workflow canvas. Tab moves between steps; arrows move the selected steps; Delete removes them."
            data-testid="canvas"
            on:pointerdown=on_pointerdown
            on:pointermove=on_pointermove
            on:pointerup=move |ev| finish(ev, false)
            on:pointercancel=move |ev| finish(ev, true)
            on:wheel=on_wheel
            on:keydown=on_keydown
            on:keyup=on_keyup
            on:focusin=on_focusin
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:scroll=move |_| {
                // Focus moving to a node out of sight scrolls the box natively; the view is
                // the only offset the canvas has (focus pans it instead).
                if let Some(el) = canvas.get_untracked() {
                    el.set_scroll_top(0);
                    el.set_scroll_left(0);
                }
            }
            on:drop=on_drop
        >
            <div id="builder-viewport" node_ref=viewport class="absolute left-0 top-0 origin-top-left">
                <svg class="pointer-events-none absolute left-0 top-0 overflow-visible" width="1" height="1" aria-hidden="true">
                    <defs>
                        <marker id="builder-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">
                            <path d="M0,0 L8,4 L0,8 z" class="fill-slate-400"></path>
                        </marker>
                    </defs>
                    <For each=move || b.links.get() key=|l| l.clone() let(link)>
                        {edge_view(b, link)}
                    </For>
                    {move || connecting.get().map(|(s, e)| view! {
                        <path d=curve(s.x, s.y, e.x, e.y) fill="none" stroke-width="2" stroke-dasharray="6 4" class="stroke-indigo-500"></path>
                    })}
                </svg>
                <For each=move || b.cells.get() key=|c| c.id.clone() let(cell)>
                    {node_view(b, cell, problems, statuses, marks, many)}
                </For>
            </div>
            <svg class="pointer-events-none absolute inset-0 h-full w-full" aria-hidden="true">
                {move || marquee.get().map(|(a, z)| view! {
                    <rect x=a.x.min(z.x) y=a.y.min(z.y) width=(a.x - z.x).abs() height=(a.y - z.y).abs()
                        class="fill-indigo-500/10 stroke-indigo-500" stroke-dasharray="4 3"></rect>
                })}
            </svg>
            <div class="absolute left-2 top-2 flex items-center gap-1 rounded-md border border-slate-200 bg-white/90 p-1 text-sm shadow-sm dark:border-slate-700 dark:bg-slate-900/90">
                <button type="button" class=ZOOM_BUTTON aria-label="Zoom out" title="Zoom out (−)" on:click=move |_| zoom_by(0.8)>"−"</button>
                <span class="w-12 text-center tabular-nums" aria-live="polite" data-testid="zoom">{move || format!("{:.0}%", b.view.get().k * 100.0)}</span>
                <button type="button" class=ZOOM_BUTTON aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom_by(1.25)>"+"</button>
                <button type="button" class=ZOOM_BUTTON aria-label="Fit to view" title="Fit to view (0)" on:click=move |_| fit()>"Fit"</button>
            </div>
            <Minimap b/>
        </div>
    }
}

const ZOOM_BUTTON: &str = "rounded px-2 py-0.5 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:hover:bg-slate-800";

/// How a node looks for its state. The server renders it as attributes; in the browser
/// one effect per node sets what changed (one reactive site per node rather than one per
/// attribute, which keeps the WASM smaller).
#[derive(Clone, PartialEq)]
struct Look {
    class: String,
    label: String,
    title: String,
    status: Option<String>,
    mark: Option<&'static str>,
    pressed: bool,
}

fn look(
    id: &str,
    kind: StepKind,
    selected: bool,
    found: &[String],
    status: Option<String>,
    mark: Option<&'static str>,
) -> Look {
    let ring = if selected {
        "ring-4 ring-indigo-400/70"
    } else if !found.is_empty() {
        "ring-2 ring-red-500"
    } else {
        match mark {
            Some("added") => "ring-4 ring-emerald-400/80",
            Some(_) => "ring-4 ring-amber-400/80",
            None => "",
        }
    };
    let mut label = format!("Step {id}, {}", kind_label(kind));
    if let Some(s) = &status {
        label.push_str(&format!(", {s}"));
    }
    if !found.is_empty() {
        let n = found.len();
        label.push_str(&format!(", {n} problem{}", if n == 1 { "" } else { "s" }));
    }
    Look {
        class: format!(
            "absolute left-0 top-0 h-[52px] w-[176px] rounded-lg border-2 px-3 py-1.5 text-left shadow-sm cursor-grab focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-500 {} {ring}",
            status_class(status.as_deref())
        ),
        label,
        title: found.join("\n"),
        status,
        mark,
        pressed: selected,
    }
}

fn set_attr(el: &leptos::web_sys::Element, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => el.set_attribute(name, v),
        None => el.remove_attribute(name),
    };
}

fn node_view(
    b: Builder,
    cell: Cell,
    problems: Memo<HashMap<String, Vec<String>>>,
    statuses: Statuses,
    marks: Signal<HashMap<String, &'static str>>,
    many: bool,
) -> impl IntoView {
    let el = NodeRef::<Div>::new();
    let detail = NodeRef::<Div>::new();
    let at = cell.at;
    let id = cell.id.clone();
    let kind = cell.node.with_untracked(|n| n.kind);
    Effect::new(move |_| {
        let p = at.get();
        if let Some(el) = el.get() {
            let _ =
                leptos::web_sys::HtmlElement::style(&el).set_property("transform", &translate(p));
        }
    });
    // Past a few hundred steps, a node out of view or too small to read is a plain box.
    let in_view = move || {
        let view = b.view.get();
        let size = b.size.get();
        let p = view.to_screen(at.get());
        !many
            || (view.k >= READABLE_ZOOM
                && p.x + NODE_WIDTH * view.k >= 0.0
                && p.y + NODE_HEIGHT * view.k >= 0.0
                && p.x <= size.x
                && p.y <= size.y)
    };
    let detailed = untrack(in_view);
    if many {
        Effect::new(move |shown: Option<bool>| {
            let now = in_view();
            if let (true, Some(d)) = (shown != Some(now), detail.get()) {
                let _ = d.class_list().toggle_with_force("hidden", !now);
            }
            now
        });
    }
    let found = {
        let id = id.clone();
        Memo::new(move |_| problems.with(|p| p.get(&id).cloned().unwrap_or_default()))
    };
    let status = {
        let id = id.clone();
        Memo::new(move |_| statuses.with(|s| s.get(&id).cloned()))
    };
    let state = {
        let id = id.clone();
        move || {
            look(
                &id,
                kind,
                b.selected.with(|s| s.contains(&id)),
                &found.get(),
                status.get(),
                marks.with(|m| m.get(&id).copied()),
            )
        }
    };
    let first = untrack(state.clone());
    Effect::new(move |before: Option<Look>| {
        let now = state();
        if let (Some(el), true) = (el.get(), before.as_ref() != Some(&now)) {
            el.set_class_name(&now.class);
            set_attr(&el, "aria-label", Some(&now.label));
            set_attr(
                &el,
                "aria-pressed",
                Some(if now.pressed { "true" } else { "false" }),
            );
            set_attr(&el, "title", Some(&now.title));
            set_attr(&el, "data-status", now.status.as_deref());
            set_attr(&el, "data-mark", now.mark);
        }
        now
    });
    let handles = if kind == StepKind::Condition {
        BRANCHES.to_vec()
    } else {
        vec![""]
    };
    let text = id.clone();
    view! {
        <div node_ref=el data-node=id data-status=first.status data-mark=first.mark tabindex="0" role="button"
            aria-pressed=first.pressed.to_string() aria-label=first.label class=first.class title=first.title>
            <div node_ref=detail class=if detailed { "" } else { "hidden" }>
                <span class="block truncate font-mono text-[13px] font-semibold">{text}</span>
                <span class="flex items-center gap-1 text-[11px] text-slate-500 dark:text-slate-400">
                    {kind_label(kind)}
                    {move || status.get().map(|s| format!("· {s}"))}
                    {move || {
                        let n = found.with(Vec::len);
                        (n > 0).then(|| view! { <span class="ml-auto rounded bg-red-600 px-1 font-semibold text-white" data-testid="node-problems">{n}</span> })
                    }}
                </span>
                {(!b.read_only).then(|| handles.iter().map(|h| {
                    let pos = match *h {
                        "true" => "left-[44px]",
                        "false" => "left-[132px]",
                        _ => "left-[88px]",
                    };
                    view! {
                        <span data-handle=*h title=if h.is_empty() { "Drag to connect".to_owned() } else { format!("Drag to connect the {h} branch") }
                            class=format!("absolute -bottom-[7px] {pos} h-3 w-3 -translate-x-1/2 cursor-crosshair rounded-full border-2 border-indigo-500 bg-white dark:bg-slate-900")>
                        </span>
                        {(!h.is_empty()).then(|| view! {
                            <span class=format!("pointer-events-none absolute -bottom-[22px] {pos} -translate-x-1/2 text-[10px] text-slate-500")>{*h}</span>
                        })}
                    }
                }).collect_view())}
            </div>
        </div>
    }
}

fn edge_stroke(selected: bool, branch: Option<&str>) -> &'static str {
    match (selected, branch) {
        (true, _) => "stroke-indigo-500",
        (false, Some("true")) => "stroke-emerald-500",
        (false, Some(_)) => "stroke-rose-400",
        (false, None) => "stroke-slate-400",
    }
}

/// An edge: a visible path and a wide invisible one to click. One effect per edge keeps
/// both in line with the nodes' positions and the selection.
fn edge_view(b: Builder, link: Link) -> impl IntoView {
    let (Some(from), Some(to)) = (b.cell(&link.from), b.cell(&link.to)) else {
        return None;
    };
    let key = format!(
        "{} {} {}",
        link.from,
        link.to,
        link.branch.clone().unwrap_or_default()
    );
    let line = NodeRef::<leptos::svg::Path>::new();
    let hit = NodeRef::<leptos::svg::Path>::new();
    let state = move || {
        let selected = b.selected_link.with(|l| l.as_ref() == Some(&link));
        (
            edge_path(from.at.get(), link.branch.as_deref(), to.at.get()),
            selected,
            edge_stroke(selected, link.branch.as_deref()),
        )
    };
    let (d, selected, stroke) = untrack(state.clone());
    Effect::new(move |before: Option<(String, bool, &'static str)>| {
        let now = state();
        if let (Some(l), Some(h), true) = (line.get(), hit.get(), before.as_ref() != Some(&now)) {
            let _ = l.set_attribute("d", &now.0);
            let _ = h.set_attribute("d", &now.0);
            let _ = l.set_attribute("stroke-width", if now.1 { "3" } else { "1.5" });
            let _ = l.set_attribute("class", now.2);
        }
        now
    });
    Some(view! {
        <g>
            <path node_ref=line d=d.clone() fill="none" stroke-width=if selected { "3" } else { "1.5" } class=stroke marker-end="url(#builder-arrow)"></path>
            <path node_ref=hit d=d data-link=key fill="none" stroke="transparent" stroke-width="12" class="pointer-events-auto cursor-pointer"></path>
        </g>
    })
}

/// The whole workflow small, with the visible part outlined; a click there centres it.
#[component]
fn Minimap(b: Builder) -> impl IntoView {
    let frame = Memo::new(move |_| {
        b.edits.track();
        b.graph.with_value(bounds).unwrap_or_default()
    });
    let view_box = move || {
        let (lo, hi) = frame.get();
        format!(
            "{} {} {} {}",
            lo.x - 40.0,
            lo.y - 40.0,
            hi.x - lo.x + 80.0,
            hi.y - lo.y + 80.0
        )
    };
    let visible = move || {
        let view = b.view.get();
        let size = b.size.get();
        let a = view.to_canvas(Point::default());
        (a, size.x / view.k, size.y / view.k)
    };
    let boxes = move || {
        b.edits.track();
        b.graph.with_value(|g| {
            let mut out = String::new();
            for n in &g.nodes {
                out.push_str(&format!(
                    r#"<rect x="{}" y="{}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8"></rect>"#,
                    n.at.x, n.at.y
                ));
            }
            out
        })
    };
    let outline = NodeRef::<leptos::svg::Rect>::new();
    Effect::new(move |_| {
        let (a, w, h) = visible();
        if let Some(r) = outline.get() {
            for (name, value) in [("x", a.x), ("y", a.y), ("width", w), ("height", h)] {
                let _ = r.set_attribute(name, &value.to_string());
            }
        }
    });
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let centre = move |ev: leptos::ev::PointerEvent| {
        ev.stop_propagation();
        let Some(el) = svg.get_untracked() else {
            return;
        };
        let r = el.get_bounding_client_rect();
        let (lo, hi) = frame.get_untracked();
        let (w, h) = (hi.x - lo.x + 80.0, hi.y - lo.y + 80.0);
        // The SVG keeps its aspect ratio (xMidYMid meet): one scale, centred.
        let s = (r.width() / w).min(r.height() / h);
        let (ox, oy) = (
            r.left() + (r.width() - w * s) / 2.0,
            r.top() + (r.height() - h * s) / 2.0,
        );
        let p = Point {
            x: (f64::from(ev.client_x()) - ox) / s + lo.x - 40.0,
            y: (f64::from(ev.client_y()) - oy) / s + lo.y - 40.0,
        };
        let view = b.view.get_untracked();
        let size = b.size.get_untracked();
        b.view.set(View {
            x: size.x / 2.0 - p.x * view.k,
            y: size.y / 2.0 - p.y * view.k,
            k: view.k,
        });
    };
    view! {
        <svg node_ref=svg viewBox=view_box class="absolute bottom-2 right-2 h-28 w-44 cursor-pointer rounded-md border border-slate-200 bg-white/90 shadow-sm dark:border-slate-700 dark:bg-slate-900/90"
            role="img" aria-label="Minimap" data-testid="minimap" on:pointerdown=centre>
            // The steps as markup, redrawn after each edit (a drag shows when it ends).
            <g class="fill-slate-300 dark:fill-slate-600" inner_html=boxes></g>
            <rect node_ref=outline fill="none" stroke-width="2" vector-effect="non-scaling-stroke" class="stroke-indigo-500"></rect>
        </svg>
    }
}
