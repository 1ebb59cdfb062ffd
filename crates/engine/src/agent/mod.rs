//! The `agent` step: a model working on a project through tools, until it finishes or a
//! budget runs out. (Work in progress on this branch: the workbench its tools act on.)

#![allow(dead_code)]

pub(crate) mod workbench;

pub(crate) mod run;
pub(crate) mod transcript;
