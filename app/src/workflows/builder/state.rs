//! The builder's reactive state: the [`Graph`] it edits (the truth), projected onto one
//! signal per node so that moving a node re-renders that node and its edges and nothing
//! else. Every edit goes through [`Builder::edit`], which keeps the undo history and
//! updates only the signals whose node changed (steps are shared `Arc`s, so unchanged
//! ones are found by pointer).

use super::super::graph::{EditError, Graph, History, Link, Node, Point};
use crate::error::Problem;
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One node's signals.
#[derive(Clone, Debug)]
pub struct Cell {
    pub id: String,
    pub node: RwSignal<Arc<Node>>,
    /// The node's top-left corner; set on every frame while it is dragged.
    pub at: RwSignal<Point>,
}

/// The canvas transform: a canvas point `p` shows at `p × k + (x, y)` in the canvas box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

pub const MIN_ZOOM: f64 = 0.1;
pub const MAX_ZOOM: f64 = 2.0;
/// Room left around the steps when the canvas opens or fits them.
pub const MARGIN: f64 = 32.0;
/// Beyond this many steps, nodes out of view or too small to read are drawn as plain
/// boxes.
pub const DETAIL_LIMIT: usize = 300;
/// Below this zoom, node text is too small to read.
pub const READABLE_ZOOM: f64 = 0.45;

impl View {
    /// Where a canvas point shows.
    pub fn to_screen(self, p: Point) -> Point {
        Point {
            x: p.x * self.k + self.x,
            y: p.y * self.k + self.y,
        }
    }

    /// The canvas point under a point of the canvas box.
    pub fn to_canvas(self, p: Point) -> Point {
        Point {
            x: (p.x - self.x) / self.k,
            y: (p.y - self.y) / self.k,
        }
    }

    /// Zoomed to `k` about the box point `about`, which stays where it is.
    pub fn zoomed(self, k: f64, about: Point) -> View {
        let k = k.clamp(MIN_ZOOM, MAX_ZOOM);
        let at = self.to_canvas(about);
        View {
            x: about.x - at.x * k,
            y: about.y - at.y * k,
            k,
        }
    }

    /// The view that shows every node of `graph` in a box of `size`, at most at 100 %.
    pub fn fitting(graph: &Graph, size: Point) -> View {
        let Some((min, max)) = bounds(graph) else {
            return View {
                x: MARGIN,
                y: MARGIN,
                k: 1.0,
            };
        };
        let k = ((size.x - 2.0 * MARGIN) / (max.x - min.x))
            .min((size.y - 2.0 * MARGIN) / (max.y - min.y))
            .clamp(MIN_ZOOM, 1.0);
        View {
            x: (size.x - (max.x - min.x) * k) / 2.0 - min.x * k,
            y: MARGIN - min.y * k,
            k,
        }
    }

    /// The view a builder opens with, the same on the server and in the browser: 100 %,
    /// the top-left step just inside the corner.
    pub fn opening(graph: &Graph) -> View {
        let (min, _) = bounds(graph).unwrap_or_default();
        View {
            x: MARGIN - min.x,
            y: MARGIN - min.y,
            k: 1.0,
        }
    }
}

/// The smallest box around every node: its top-left and bottom-right corners.
pub fn bounds(graph: &Graph) -> Option<(Point, Point)> {
    let first = graph.nodes.first()?;
    let mut min = first.at;
    let mut max = first.at;
    for n in &graph.nodes {
        min.x = min.x.min(n.at.x);
        min.y = min.y.min(n.at.y);
        max.x = max.x.max(n.at.x);
        max.y = max.y.max(n.at.y);
    }
    max.x += aura_types::NODE_WIDTH;
    max.y += aura_types::NODE_HEIGHT;
    Some((min, max))
}

#[derive(Clone, Copy)]
pub struct Builder {
    pub graph: StoredValue<Graph>,
    history: StoredValue<History>,
    /// The nodes in definition order; the canvas renders one per cell.
    pub cells: RwSignal<Vec<Cell>>,
    index: StoredValue<HashMap<String, Cell>>,
    pub links: RwSignal<Vec<Link>>,
    pub selected: RwSignal<HashSet<String>>,
    pub selected_link: RwSignal<Option<Link>>,
    pub view: RwSignal<View>,
    /// The canvas box's size in pixels, measured once it is on screen.
    pub size: RwSignal<Point>,
    /// Counts edits; with `saved_edit`, says whether there is anything to save.
    pub edits: RwSignal<u64>,
    pub saved_edit: RwSignal<u64>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
    /// The server's objections to the current graph, refreshed as the user edits.
    pub problems: RwSignal<Vec<Problem>>,
    /// The last refused edit or other message about the canvas (announced politely).
    pub notice: RwSignal<Option<String>>,
    pub clipboard: StoredValue<Option<Graph>>,
    /// The field the last edit typed into: more typing there joins that undo step.
    typing: StoredValue<Option<String>>,
    /// Bumped when the graph changes under the step form (undo, redo, JSON), which then
    /// reads its fields afresh.
    pub reloads: RwSignal<u64>,
    /// The fields of the last run input, which template fields offer as `input.<key>`.
    pub input_keys: RwSignal<Vec<String>>,
    /// A version being looked at, not edited.
    pub read_only: bool,
}

impl Builder {
    pub fn new(graph: Graph, read_only: bool) -> Self {
        let view = View::opening(&graph);
        let cells: Vec<Cell> = graph.nodes.iter().map(cell_of).collect();
        let index = cells.iter().map(|c| (c.id.clone(), c.clone())).collect();
        Builder {
            links: RwSignal::new(graph.links.clone()),
            graph: StoredValue::new(graph),
            history: StoredValue::new(History::default()),
            cells: RwSignal::new(cells),
            index: StoredValue::new(index),
            selected: RwSignal::new(HashSet::new()),
            selected_link: RwSignal::new(None),
            view: RwSignal::new(view),
            size: RwSignal::new(Point {
                x: 1100.0,
                y: 640.0,
            }),
            edits: RwSignal::new(0),
            saved_edit: RwSignal::new(0),
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
            problems: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            clipboard: StoredValue::new(None),
            typing: StoredValue::new(None),
            reloads: RwSignal::new(0),
            input_keys: RwSignal::new(Vec::new()),
            read_only,
        }
    }

    /// Whether the page that owns this state is still there (for answers that arrive
    /// after the user left).
    pub fn alive(&self) -> bool {
        self.graph.try_with_value(|_| ()).is_some()
    }

    pub fn cell(&self, id: &str) -> Option<Cell> {
        self.index.with_value(|i| i.get(id).cloned())
    }

    pub fn is_dirty(&self) -> bool {
        self.edits.get() != self.saved_edit.get()
    }

    /// Applies `f` to the graph as one undoable edit. A refused edit changes nothing and
    /// shows its reason.
    pub fn edit<R>(&self, f: impl FnOnce(&mut Graph) -> Result<R, EditError>) -> Option<R> {
        self.edit_typing(None, f)
    }

    /// An edit typed into the field `field`: successive ones make one undo step.
    pub fn edit_typing<R>(
        &self,
        field: Option<String>,
        f: impl FnOnce(&mut Graph) -> Result<R, EditError>,
    ) -> Option<R> {
        if self.read_only {
            return None;
        }
        let before = self.graph.get_value();
        let mut after = before.clone();
        match f(&mut after) {
            Ok(result) => {
                if after != before {
                    let joins = field.is_some() && self.typing.get_value() == field;
                    if !joins {
                        self.history.update_value(|h| h.record(before));
                    }
                    self.typing.set_value(field);
                    self.replace(after);
                }
                self.notice.set(None);
                Some(result)
            }
            Err(err) => {
                self.notice.set(Some(err.to_string()));
                None
            }
        }
    }

    /// Records a move already shown on screen (a drag): `before` is the graph as it was
    /// when the drag started.
    pub fn commit_move(&self, before: Graph, ids: &HashSet<String>, dx: f64, dy: f64) {
        if dx == 0.0 && dy == 0.0 {
            return;
        }
        let mut after = before.clone();
        after.shift(ids, dx, dy);
        self.history.update_value(|h| h.record(before));
        self.typing.set_value(None);
        self.replace(after);
    }

    pub fn undo(&self) {
        if self.read_only {
            return;
        }
        let current = self.graph.get_value();
        if let Some(previous) = self.history.try_update_value(|h| h.undo(current)).flatten() {
            self.reload(previous);
        }
    }

    pub fn redo(&self) {
        if self.read_only {
            return;
        }
        let current = self.graph.get_value();
        if let Some(next) = self.history.try_update_value(|h| h.redo(current)).flatten() {
            self.reload(next);
        }
    }

    /// Replaces the whole graph from outside the step form (undo, redo, the JSON tab).
    pub fn reload(&self, graph: Graph) {
        self.typing.set_value(None);
        self.replace(graph);
        self.reloads.update(|r| *r += 1);
    }

    /// Replaces the graph as one undoable edit from outside the step form.
    pub fn replace_all(&self, graph: Graph) {
        if self.read_only {
            return;
        }
        let before = self.graph.get_value();
        if before != graph {
            self.history.update_value(|h| h.record(before));
            self.reload(graph);
        }
    }

    /// Makes `graph` the current one and brings the signals in line with it: cells whose
    /// node is unchanged keep their signals untouched.
    fn replace(&self, graph: Graph) {
        let same_ids = self.cells.with_untracked(|cells| {
            cells.len() == graph.nodes.len()
                && cells.iter().zip(&graph.nodes).all(|(c, n)| c.id == n.id)
        });
        let mut next = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            match self.cell(&node.id) {
                Some(cell) => {
                    if !cell.node.with_untracked(|n| Arc::ptr_eq(n, node)) {
                        cell.node.set(node.clone());
                    }
                    if cell.at.get_untracked() != node.at {
                        cell.at.set(node.at);
                    }
                    next.push(cell);
                }
                None => next.push(cell_of(node)),
            }
        }
        self.index
            .set_value(next.iter().map(|c| (c.id.clone(), c.clone())).collect());
        if !same_ids {
            self.cells.set(next);
        }
        if self.links.with_untracked(|l| *l != graph.links) {
            self.links.set(graph.links.clone());
        }
        let ids: HashSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
        if self
            .selected
            .with_untracked(|s| s.iter().any(|id| !ids.contains(id.as_str())))
        {
            self.selected
                .update(|s| s.retain(|id| ids.contains(id.as_str())));
        }
        if self
            .selected_link
            .with_untracked(|l| l.as_ref().is_some_and(|l| !graph.links.contains(l)))
        {
            self.selected_link.set(None);
        }
        self.graph.set_value(graph);
        self.history.with_value(|h| {
            self.can_undo.set(h.can_undo());
            self.can_redo.set(h.can_redo());
        });
        self.edits.update(|e| *e += 1);
    }

    /// Selects exactly `ids`.
    pub fn select(&self, ids: impl IntoIterator<Item = String>) {
        self.selected.set(ids.into_iter().collect());
        self.selected_link.set(None);
    }

    /// The one selected step, if exactly one is.
    pub fn single(&self) -> Option<String> {
        self.selected.with(|s| {
            if s.len() == 1 {
                s.iter().next().cloned()
            } else {
                None
            }
        })
    }

    /// Deletes the selected steps, or the selected edge.
    pub fn delete_selection(&self) {
        if let Some(link) = self.selected_link.get_untracked() {
            self.edit(|g| {
                g.disconnect(&link);
                Ok(())
            });
            return;
        }
        let ids = self.selected.get_untracked();
        if !ids.is_empty() {
            self.edit(|g| {
                g.remove(&ids);
                Ok(())
            });
        }
    }

    pub fn copy_selection(&self) {
        let ids = self.selected.get_untracked();
        if !ids.is_empty() {
            self.clipboard
                .set_value(Some(self.graph.with_value(|g| g.copy(&ids))));
        }
    }

    /// Pastes the clipboard and selects what was pasted.
    pub fn paste(&self) {
        let Some(clip) = self.clipboard.get_value() else {
            return;
        };
        if let Some(added) = self.edit(|g| Ok(g.paste(&clip))) {
            self.select(added);
        }
    }

    pub fn duplicate_selection(&self) {
        let ids = self.selected.get_untracked();
        if ids.is_empty() {
            return;
        }
        let clip = self.graph.with_value(|g| g.copy(&ids));
        if let Some(added) = self.edit(|g| Ok(g.paste(&clip))) {
            self.select(added);
        }
    }
}

fn cell_of(node: &Arc<Node>) -> Cell {
    Cell {
        id: node.id.clone(),
        node: RwSignal::new(node.clone()),
        at: RwSignal::new(node.at),
    }
}
