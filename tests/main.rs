//! The integration tests, one binary: golden output trees, the diagnostics catalogue, the
//! command line, properties, and the README.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed unwrap is a failed test"
)]

mod cli;
mod common;
mod diagnostics;
mod golden;
mod props;
mod readme;
