//! The one place the phases are chained: notebook, Python, analysis, model, emitters. Pure:
//! no I/O, so tests call it in-process.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::analyze::{Inputs, analyze};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::emit::{Artifacts, EmitError, emit};
use crate::notebook::Notebook;
use crate::python::parse_notebook;

/// Everything besides the notebook that shapes the output.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Option flags by option name (`af_registry_name`), as given on the command line.
    pub flags: BTreeMap<String, String>,
    /// `--pipeline-params FILE.json`, already read.
    pub pipeline_params: Option<serde_json::Map<String, serde_json::Value>>,
    /// `-p NAME=VALUE` overrides of notebook constants, in order.
    pub parameters: Vec<(String, String)>,
    /// `--options-call CELL`: the cell whose options call compiles (counted from 1); by
    /// default the notebook's last.
    pub options_call: Option<usize>,
    /// Where the files a notebook loads (`kfp.components.load_component_from_file("x.yaml")`)
    /// are read from; `None` reads none (such a load is then an error).
    pub files: Option<std::sync::Arc<dyn ReadFile>>,
}

/// The one way a compile reads beyond its inputs: a file the notebook names, by the path
/// written in the notebook. The command line reads them beside the notebook
/// ([`crate::notebook::Beside`]); tests may serve them from memory.
pub trait ReadFile: std::fmt::Debug + Send + Sync {
    /// The file's text, or why it cannot be read (with the path it was looked for at).
    fn read(&self, path: &str) -> Result<String, String>;
}

/// A successful compile: the output tree and the warnings to show.
#[derive(Debug)]
pub struct Compiled {
    pub artifacts: Artifacts,
    pub warnings: Vec<Diagnostic>,
    /// How long each phase took (for `--timings`; never part of the output).
    pub timings: Timings,
}

/// Time spent per phase.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    pub parse: Duration,
    pub analyze: Duration,
    pub emit: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The notebook has mistakes; the list holds every error and warning, in notebook order.
    #[error("the notebook has errors")]
    Notebook(Vec<Diagnostic>),
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// The compiled pipeline's DAG as a picture (`automlops graph`): the same analysis as
/// [`compile`], rendered by [`crate::emit::graph`] instead of written out.
pub fn graph(
    notebook: &Notebook,
    options: &Options,
    format: crate::emit::graph::Format,
) -> Result<(String, Vec<Diagnostic>), CompileError> {
    let mut diagnostics = Diagnostics::default();
    let parsed = parse_notebook(notebook);
    match analyze(notebook, parsed, &inputs(options), &mut diagnostics) {
        Some(analysis) if !diagnostics.has_errors() => Ok((
            crate::emit::graph::render(&analysis, format)?,
            diagnostics.into_sorted(),
        )),
        _ => Err(failed(diagnostics)),
    }
}

fn inputs(options: &Options) -> Inputs<'_> {
    Inputs {
        flags: &options.flags,
        pipeline_params: options.pipeline_params.as_ref(),
        parameters: &options.parameters,
        options_call: options.options_call,
        files: options.files.as_deref(),
    }
}

/// The error of an analysis that produced nothing: its diagnostics, which hold an error.
fn failed(mut diagnostics: Diagnostics) -> CompileError {
    if !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::error(
            None,
            "the notebook could not be compiled",
        ));
    }
    CompileError::Notebook(diagnostics.into_sorted())
}

pub fn compile(notebook: &Notebook, options: &Options) -> Result<Compiled, CompileError> {
    let mut diagnostics = Diagnostics::default();
    let inputs = inputs(options);
    let start = Instant::now();
    let parsed = parse_notebook(notebook);
    let parse = start.elapsed();
    let start = Instant::now();
    let analysis = analyze(notebook, parsed, &inputs, &mut diagnostics);
    let analyze = start.elapsed();
    match analysis {
        Some(analysis) if !diagnostics.has_errors() => {
            // Only the file name goes into generated headers: no absolute paths in output.
            let name = Path::new(&notebook.name).file_name().map_or_else(
                || notebook.name.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
            let start = Instant::now();
            let artifacts = emit(&analysis, notebook, &name)?;
            let emit = start.elapsed();
            Ok(Compiled {
                artifacts,
                warnings: diagnostics.into_sorted(),
                timings: Timings {
                    parse,
                    analyze,
                    emit,
                },
            })
        }
        _ => Err(failed(diagnostics)),
    }
}
