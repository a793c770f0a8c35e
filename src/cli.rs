//! The command line: parse arguments, call the library, print diagnostics, map the outcome to
//! an exit status. Nothing here knows how compiling works.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Arg, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

mod graph;
mod plan_summary;
mod run;

use crate::compile::{CompileError, Options, compile};
use crate::emit::write::{Drift, check, write};
use crate::model::settings::{OPTIONS, OptionKind};
use crate::notebook::Notebook;
use crate::render::render;

#[derive(Parser)]
#[command(
    name = "automlops",
    version,
    about = "Compile a Jupyter notebook into a Vertex AI MLOps codebase, without running it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile NOTEBOOK into a pipeline, its components and the files that build and run them.
    #[command(
        after_help = "Options are read from the notebook's last `AutoMLOps.go(...)` or `AutoMLOps.generate(...)` call; \
a flag overrides the notebook, and AutoMLOps 1.0's defaults fill the rest.\n\
Exit status: 0 compiled, 1 the notebook has errors (nothing is written), 2 bad usage or I/O failure; \
with --check, 0 the directory is up to date and 1 it is not."
    )]
    Compile(CompileArgs),
    /// Summarize a Terraform plan for review, in Markdown: counts, IAM grants and revocations,
    /// and first, what must not be missed (data lost, public access, primitive roles).
    #[command(
        after_help = "Exit status: 0 written, 1 the plan cannot be read, 2 written and the plan destroys or \
replaces a resource that holds data (a bucket, a registry, a repository...)."
    )]
    PlanSummary(plan_summary::PlanSummaryArgs),
    /// Draw the compiled pipeline's DAG: tasks, data edges, `.after` edges, conditions, loops
    /// and exit handlers.
    #[command(
        after_help = "Exit status: 0 drawn, 1 the notebook has errors (nothing is drawn), 2 bad usage or I/O failure."
    )]
    Graph(graph::GraphArgs),
    /// Run the compiled pipeline on this machine with kfp.local: compiles NOTEBOOK as
    /// `compile` does (or takes a directory compiled already), makes and keeps a Python
    /// environment from the component requirements, and runs every task, reporting each.
    #[command(
        after_help = "Exit status: 0 every task that ran succeeded, 1 a task failed (or the notebook has errors), \
2 bad usage, parameters that do not fit, a pipeline that cannot run here, or an I/O failure, 130 stopped by Ctrl-C."
    )]
    Run(run::RunArgs),
}

#[derive(Args)]
struct CompileArgs {
    /// The notebook (.ipynb, nbformat 4).
    notebook: PathBuf,
    /// Output directory [default: `AutoMLOps`/ beside the notebook].
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Override a module-level constant of the notebook before evaluation, as papermill does;
    /// VALUE is read as a Python literal when it is one, else as a string. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    parameters: Vec<(String, String)>,
    /// Compile with the options of the `AutoMLOps.go`/`generate`/`launchAll` call in this cell
    /// (counted from 1, as Jupyter shows cells) instead of the notebook's last one.
    #[arg(long, value_name = "CELL", value_parser = clap::value_parser!(u32).range(1..))]
    options_call: Option<u32>,
    /// Write even into a directory that holds the output of another notebook (its
    /// `.automlops-files` names the notebook), replacing that output.
    #[arg(long)]
    replace: bool,
    /// Print how long each phase took (read, parse, analyze, emit, write) to stderr.
    #[arg(long)]
    timings: bool,
    /// AutoMLOps 1.2+'s `use_ci`: `--run-local` inverted (true builds and runs through Cloud
    /// Build CI)
    #[arg(long, value_name = "BOOL", value_parser = ["true", "false"], help_heading = "Options of AutoMLOps.go(...)")]
    use_ci: Option<String>,
    /// Write nothing: compare the output directory with what this compile would write there,
    /// list the files that differ, and exit with 1 if any does (for CI and pre-commit hooks).
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    options: OptionFlags,
}

pub(super) fn parse_parameter(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got `{text}`"))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a Python name"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// One flag per option of `AutoMLOps.go(...)`, built from the options table.
pub(super) struct OptionFlags {
    values: BTreeMap<String, String>,
}

impl FromArgMatches for OptionFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut values = BTreeMap::new();
        for spec in OPTIONS {
            if let Some(value) = matches.get_one::<String>(spec.name) {
                values.insert(spec.name.to_owned(), value.clone());
            }
        }
        Ok(Self { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for OptionFlags {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for spec in OPTIONS {
            let mut arg = Arg::new(spec.name)
                .long(spec.name.replace('_', "-"))
                .help_heading("Options of AutoMLOps.go(...)");
            arg = match spec.kind {
                OptionKind::Str => arg.value_name("VALUE"),
                OptionKind::Bool => arg.value_name("BOOL").value_parser(["true", "false"]),
                OptionKind::Params => arg.value_name("FILE.json"),
            };
            let help = if spec.default.is_empty() {
                spec.help.to_owned()
            } else {
                format!("{} [default: {}]", spec.help, spec.default)
            };
            arg = arg.help(help);
            if let Some(alias) = spec.alias {
                arg = arg.visible_alias(alias.replace('_', "-"));
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Runs the command line; the exit status follows `compile --help`.
#[must_use]
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compile(args) => match compile_command(&args) {
            Ok(status) => status,
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "error: {error:#}");
                ExitCode::from(2)
            }
        },
        Command::Graph(args) => match graph::run(&args) {
            Ok(status) => status,
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "error: {error:#}");
                ExitCode::from(2)
            }
        },
        Command::Run(args) => match run::run(&args) {
            Ok(status) => status,
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "error: {error:#}");
                ExitCode::from(2)
            }
        },
        Command::PlanSummary(args) => match plan_summary::run(&args) {
            Ok(status) => status,
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "error: {error:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn compile_command(args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let mut flags = args.options.values.clone();
    if let Some(use_ci) = &args.use_ci {
        let run_local = if use_ci == "true" { "false" } else { "true" };
        if flags
            .get("run_local")
            .is_some_and(|given| given != run_local)
        {
            bail!(
                "`--use-ci {use_ci}` and `--run-local {}` disagree: `--use-ci` is `--run-local` inverted",
                flags["run_local"]
            );
        }
        flags.insert("run_local".to_owned(), run_local.to_owned());
    }
    let started = std::time::Instant::now();
    let notebook = Notebook::read(&args.notebook)?;
    let read = started.elapsed();
    let mut options = Options {
        flags,
        pipeline_params: None,
        parameters: args.parameters.clone(),
        options_call: args.options_call.map(|cell| cell as usize),
        files: Some(std::sync::Arc::new(crate::notebook::Beside::notebook(
            &args.notebook,
        ))),
    };
    if let Some(path) = options.flags.remove("pipeline_params") {
        options.pipeline_params = Some(read_params(Path::new(&path))?);
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Buffered: a message of many pieces (a rendered diagnostic, the summary) is one write.
    // Dropping it flushes it, on every return below.
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    let compiled = on_a_deep_stack(|| compile(&notebook, &options))?;
    match compiled {
        Ok(compiled) => {
            for warning in &compiled.warnings {
                write!(stderr, "{}", render(&notebook, warning, color))?;
            }
            let out_dir = args.output.clone().unwrap_or_else(|| {
                args.notebook
                    .parent()
                    .unwrap_or_else(|| Path::new(""))
                    .join("AutoMLOps")
            });
            if args.check {
                return check_command(args, &compiled.artifacts, &out_dir, &mut stderr);
            }
            let before_write = std::time::Instant::now();
            write(&compiled.artifacts, &out_dir, args.replace)?;
            if args.timings {
                let t = &compiled.timings;
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
                writeln!(
                    stderr,
                    "timings: read {:.2} ms, parse {:.2} ms, analyze {:.2} ms, emit {:.2} ms, write {:.2} ms",
                    ms(read),
                    ms(t.parse),
                    ms(t.analyze),
                    ms(t.emit),
                    ms(before_write.elapsed())
                )?;
            }
            writeln!(
                stderr,
                "compiled {} into {} ({} files, {} warning{})",
                args.notebook.display(),
                out_dir.display(),
                compiled.artifacts.files.len(),
                compiled.warnings.len(),
                if compiled.warnings.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(CompileError::Notebook(diagnostics)) => {
            for diagnostic in &diagnostics {
                write!(stderr, "{}", render(&notebook, diagnostic, color))?;
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            writeln!(
                stderr,
                "error: {} has {errors} error{}; nothing was written",
                args.notebook.display(),
                if errors == 1 { "" } else { "s" }
            )?;
            Ok(ExitCode::from(1))
        }
        Err(CompileError::Emit(error)) => Err(error.into()),
    }
}

/// Runs `work` (a compile) on a thread of its own with a deep stack: parsing and analysis
/// recurse over expressions, and a deeply nested one (a 10,000-term sum) needs more stack than
/// a main thread has. The reservation is virtual memory only. A panic is reported as the bug
/// it is.
pub(super) fn on_a_deep_stack<T: Send>(work: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, work)
            .map(std::thread::ScopedJoinHandle::join)
    });
    match outcome {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(_)) => {
            anyhow::bail!("automlops crashed; this is a bug, please report it with the notebook")
        }
        Err(error) => Err(anyhow::Error::new(error).context("cannot start the compiler thread")),
    }
}

/// `compile --check`: reports how the output directory differs from the compile's output.
fn check_command(
    args: &CompileArgs,
    artifacts: &crate::emit::Artifacts,
    out_dir: &Path,
    stderr: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let drift = check(artifacts, out_dir)?;
    if drift.is_empty() {
        writeln!(
            stderr,
            "{} is up to date with {} ({} files)",
            out_dir.display(),
            args.notebook.display(),
            artifacts.files.len()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for item in &drift {
        let line = match item {
            Drift::Changed(path) => format!("changed: {path}"),
            Drift::Missing(path) => format!("missing: {path}"),
            Drift::Stale(path) => format!("stale:   {path} (this compile no longer writes it)"),
            Drift::Interrupted => {
                "interrupted: a compile was stopped while writing; `automlops compile` finishes it"
                    .to_owned()
            }
        };
        writeln!(stderr, "{line}")?;
    }
    writeln!(
        stderr,
        "error: {} is not what {} compiles to ({} file{} differ{}); recompile it, and commit the result",
        out_dir.display(),
        args.notebook.display(),
        drift.len(),
        if drift.len() == 1 { "" } else { "s" },
        if drift.len() == 1 { "s" } else { "" },
    )?;
    Ok(ExitCode::from(1))
}

fn read_params(path: &Path) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let value = crate::strict_json::from_str(&text)
        .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
    match value {
        // A compiled values file names its schema (`$schema`), which is not a parameter.
        serde_json::Value::Object(mut map) => {
            map.shift_remove("$schema");
            Ok(map)
        }
        _ => bail!(
            "`{}` must hold a JSON object of parameter values",
            path.display()
        ),
    }
}
