//! The integration tests, one binary: golden output trees, the diagnostics catalogue,
//! control-flow pipelines, the AutoMLOps 1.0-1.3 notebooks, the command line, properties, the README, and the Terraform option matrix.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed unwrap is a failed test"
)]

mod cli;
mod common;
mod compat;
mod control_flow;
mod diagnostics;
mod golden;
mod graph;
mod local_run;
mod plan_summary;
mod props;
mod readme;
mod terraform;
