//! `automlops plan-summary PLAN.json`: the Markdown review of a Terraform plan, on stdout or
//! in a file. Exit status: 0 written, 1 the plan cannot be read, 2 written and the plan
//! destroys or replaces a resource that holds data.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::plan_summary::summarize;

#[derive(Args)]
pub(super) struct PlanSummaryArgs {
    /// The plan as JSON: `terraform show -json PLANFILE > plan.json`.
    plan: PathBuf,
    /// Write the Markdown to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(super) fn run(args: &PlanSummaryArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("cannot read `{}`", args.plan.display()))?;
    let summary = summarize(&text).with_context(|| format!("`{}`", args.plan.display()))?;
    let markdown = summary.markdown();
    match &args.output {
        Some(path) => std::fs::write(path, &markdown)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(markdown.as_bytes())
            .context("cannot write to stdout")?,
    }
    if summary.loses_state() {
        let _ = writeln!(
            std::io::stderr(),
            "plan-summary: the plan destroys or replaces {} resource{} that hold{} data: {}",
            summary.stateful.len(),
            if summary.stateful.len() == 1 { "" } else { "s" },
            if summary.stateful.len() == 1 { "s" } else { "" },
            summary
                .stateful
                .iter()
                .map(|loss| loss.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
