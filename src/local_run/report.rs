//! What a person sees while a local run goes: one line per task as it starts, ends, is served
//! from the cache or is skipped, the end of a failed task's log, and a table at the end.

use std::fmt::Write as _;

use super::events::{Event, Run, State};

/// How much of a failed task's log is shown.
const LOG_TAIL: usize = 25;

fn name(task: &str, iteration: &[u64]) -> String {
    if iteration.is_empty() {
        task.to_owned()
    } else {
        let indexes: Vec<String> = iteration.iter().map(u64::to_string).collect();
        format!("{task} [{}]", indexes.join(", "))
    }
}

/// The line (or lines) an event is shown as; empty for events shown only in the summary.
pub(crate) fn line(event: &Event) -> String {
    match event {
        Event::Plan {
            pipeline, tasks, ..
        } => {
            format!("running pipeline {pipeline} ({} tasks)\n", tasks.len())
        }
        Event::Started {
            task, iteration, ..
        } => format!("  started    {}\n", name(task, iteration)),
        Event::Succeeded(ended) => format!(
            "  succeeded  {} in {:.2} s\n",
            name(&ended.task, &ended.iteration),
            ended.seconds
        ),
        Event::Cached(ended) => format!(
            "  cached     {}: its source, requirements and inputs are unchanged; not run again\n",
            name(&ended.task, &ended.iteration)
        ),
        Event::Skipped {
            task,
            iteration,
            reason,
        } => format!("  skipped    {}: {reason}\n", name(task, iteration)),
        Event::Failed {
            task,
            iteration,
            seconds,
            log,
        } => {
            let mut text = format!(
                "  FAILED     {} after {seconds:.2} s; the end of its log ({log}):\n",
                name(task, iteration)
            );
            text.push_str(&super::environment::last_lines(
                std::path::Path::new(log),
                LOG_TAIL,
            ));
            text
        }
        Event::Warning { message, iteration } => {
            let place = if iteration.is_empty() {
                String::new()
            } else {
                format!(" (loop iteration {iteration:?})")
            };
            format!("warning: kfp.local{place}: {message}\n")
        }
        Event::Error { problems } => problems.iter().fold(String::new(), |mut s, p| {
            let _ = writeln!(s, "error: {p}");
            s
        }),
        Event::Crashed { message } => format!(
            "error: kfp.local stopped the run: {message} (its traceback is in the run's driver.log)\n"
        ),
        Event::Finished { .. } | Event::Interrupted => String::new(),
    }
}

/// The table at the end, and the line that sums it up.
pub(crate) fn table(run: &Run, run_dir: &str, seconds: f64) -> String {
    let rows: Vec<[String; 4]> = run
        .tasks
        .iter()
        .map(|t| {
            [
                t.display_name.clone(),
                t.iteration
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                t.state.word().to_owned(),
                t.seconds.map(|s| format!("{s:.2} s")).unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["task", "iteration", "state", "time"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::from("\n");
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "  {}", cells.join("  ").trim_end());
    }
    let count = |state: State| run.tasks.iter().filter(|t| t.state == state).count();
    let _ = writeln!(
        text,
        "\n{}: {} succeeded, {} cached, {} skipped, {} failed in {seconds:.1} s; logs and outputs in {run_dir}",
        run.pipeline,
        count(State::Succeeded),
        count(State::Cached),
        count(State::Skipped),
        count(State::Failed),
    );
    if run.interrupted || count(State::Stopped) + count(State::NotRun) > 0 {
        let names = |state: State| {
            run.tasks
                .iter()
                .filter(|t| t.state == state)
                .map(|t| name(&t.task, &t.iteration))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            text,
            "stopped: {} task(s) were running ({}); {} never started ({})",
            count(State::Stopped),
            names(State::Stopped),
            count(State::NotRun),
            names(State::NotRun),
        );
    }
    text
}
