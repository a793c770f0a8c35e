//! `automlops run NOTEBOOK|DIR`: compiles the notebook as `compile` does (or takes a tree
//! compiled already), then runs the pipeline on this machine (`crate::local_run`). Exit
//! status: 0 every task that ran succeeded, 1 a task failed (or the notebook has errors), 2
//! bad usage, parameters that do not fit, a pipeline that cannot run here, or an I/O failure,
//! 130 stopped by Ctrl-C.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};

use crate::local_run::{Outcome, Request, Runner, run as run_pipeline};

#[derive(Clone, Copy, ValueEnum)]
enum RunnerArg {
    /// Each component's function in a subprocess of a Python environment automlops makes.
    Subprocess,
    /// Each component in the component image, built with Docker (closest to Vertex AI).
    Docker,
}

#[derive(Args)]
pub(super) struct RunArgs {
    /// The notebook to compile and run, or a directory it was compiled into.
    target: PathBuf,
    /// Where to compile the notebook [default: `AutoMLOps`/ beside it]; the run's logs and
    /// outputs go under DIR/.automlops/runs/.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Write even into a directory that holds the output of another notebook, as `compile
    /// --replace` does.
    #[arg(long)]
    replace: bool,
    /// A pipeline parameter's value for this run, read as JSON when it is JSON, else as a
    /// string; checked against the parameters as the runner service checks them. Repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<String>,
    /// How the components run.
    #[arg(long, value_enum, default_value = "subprocess")]
    runner: RunnerArg,
    /// Run every task, even one kfp.local's cache could serve.
    #[arg(long)]
    no_cache: bool,
    /// The Python to make the run's environment with [default: `python3` on PATH].
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Write the run's outcome as JSON: per task its name, display name, state, duration, loop
    /// iteration, inputs and outputs.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

fn parse_param(text: &str) -> Result<String, String> {
    match text.split_once('=') {
        Some((name, _)) if !name.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

/// Set by Ctrl-C: the run reports what was left instead of dying with the driver.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub(super) fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let root = if args.target.is_dir() {
        args.target.clone()
    } else {
        let output = args.output.clone().unwrap_or_else(|| {
            args.target
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join("AutoMLOps")
        });
        let compile_args = super::CompileArgs {
            notebook: args.target.clone(),
            output: Some(output.clone()),
            parameters: Vec::new(),
            options_call: None,
            replace: args.replace,
            timings: false,
            use_ci: None,
            check: false,
            options: super::OptionFlags {
                values: BTreeMap::new(),
            },
        };
        let compiled = super::compile_command(&compile_args)?;
        if compiled != ExitCode::SUCCESS {
            return Ok(compiled);
        }
        output
    };
    // The driver, in the same process group, gets Ctrl-C too: it stops its tasks and says so;
    // this process stays to report what was left.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    let request = Request {
        root,
        params: args.params.clone(),
        runner: match args.runner {
            RunnerArg::Subprocess => Runner::Subprocess,
            RunnerArg::Docker => Runner::Docker,
        },
        no_cache: args.no_cache,
        python: args.python.clone(),
        summary_json: args.summary_json.clone(),
    };
    let mut stderr = std::io::stderr().lock();
    let outcome = run_pipeline(&request, &mut stderr, &INTERRUPTED)?;
    stderr.flush()?;
    Ok(match outcome {
        Outcome::Succeeded => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(1),
        Outcome::Refused => ExitCode::from(2),
        Outcome::Stopped => ExitCode::from(130),
    })
}
