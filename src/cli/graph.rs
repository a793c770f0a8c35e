//! `automlops graph NOTEBOOK`: the compiled DAG as Mermaid (the default), DOT or SVG, on stdout
//! or in a file. Exit status as `compile`: 0 drawn, 1 the notebook has errors, 2 bad usage or
//! I/O failure.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::compile::{CompileError, Options, graph};
use crate::emit::graph::Format;
use crate::notebook::Notebook;
use crate::render::render;

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Mermaid flowchart (GitHub and GitLab render it in Markdown).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// SVG, laid out without Graphviz.
    Svg,
}

#[derive(Args)]
pub(super) struct GraphArgs {
    /// The notebook (.ipynb, nbformat 4).
    notebook: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: FormatArg,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Override a module-level constant of the notebook, as `compile -p` does. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE", value_parser = super::parse_parameter)]
    parameters: Vec<(String, String)>,
    #[command(flatten)]
    options: super::OptionFlags,
}

pub(super) fn run(args: &GraphArgs) -> anyhow::Result<ExitCode> {
    let notebook = Notebook::read(&args.notebook)?;
    let mut flags = args.options.values.clone();
    flags.remove("pipeline_params");
    let options = Options {
        flags,
        pipeline_params: None,
        parameters: args.parameters.clone(),
        options_call: None,
        files: Some(std::sync::Arc::new(crate::notebook::Beside::notebook(
            &args.notebook,
        ))),
    };
    let format = match args.format {
        FormatArg::Mermaid => Format::Mermaid,
        FormatArg::Dot => Format::Dot,
        FormatArg::Svg => Format::Svg,
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    let drawn = super::on_a_deep_stack(|| graph(&notebook, &options, format))?;
    match drawn {
        Ok((text, warnings)) => {
            for warning in &warnings {
                write!(stderr, "{}", render(&notebook, warning, color))?;
            }
            match &args.output {
                Some(path) => std::fs::write(path, &text)
                    .with_context(|| format!("cannot write `{}`", path.display()))?,
                None => std::io::stdout()
                    .lock()
                    .write_all(text.as_bytes())
                    .context("cannot write to stdout")?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(CompileError::Notebook(diagnostics)) => {
            for diagnostic in &diagnostics {
                write!(stderr, "{}", render(&notebook, diagnostic, color))?;
            }
            writeln!(
                stderr,
                "error: {} has errors; nothing was drawn",
                args.notebook.display()
            )?;
            Ok(ExitCode::from(1))
        }
        Err(CompileError::Emit(error)) => Err(error.into()),
    }
}
