//! Phase 1: the notebook. `.ipynb` JSON in, a list of [`Cell`]s out.
//!
//! Cells keep their position in the notebook (markdown and raw cells included) so that
//! diagnostics can name them the way a user counts them. Code cells are split into their
//! cell magic (`%%define_component`, ...) and the Python that follows it; IPython-only lines
//! (`!shell`, `%line magic`) are blanked out byte for byte so that offsets and line numbers
//! stay those of the original cell.

mod beside;
mod raw;

pub use beside::Beside;

use std::path::Path;

use raw::RawNotebook;

/// Failures to read a notebook at all: the environment's fault or the file's format, never a
/// mistake inside a cell (those are [`crate::diagnostic::Diagnostic`]s).
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("cannot read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not valid notebook JSON (line {line}, column {column}): {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{path}` is nbformat {version}; automlops reads nbformat 4 (open and save it in a current Jupyter to convert it)"
    )]
    UnsupportedVersion { path: String, version: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
    Raw,
}

/// The cell magics of `AutoMLOps` 1.0 that mark a cell's role; any other `%%magic` makes a cell
/// that is not Python (`%%bash`, `%%writefile`, ...), which automlops skips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellMagic {
    DefineImports,
    DefineComponent,
    DefineKfpPipeline,
    /// `%%time`, `%%capture`, ...: the cell is Python all the same.
    Python,
    Other,
}

#[derive(Clone, Debug)]
pub struct Cell {
    pub kind: CellKind,
    /// The cell's text as stored in the notebook, its line ends made `\n` as Python reads
    /// them (`\r\n` and a lone `\r` end a line too), so lines mean the same to every phase.
    pub source: String,
    pub magic: Option<CellMagic>,
    /// The Python to parse: `source` with the cell magic line and IPython-only lines replaced
    /// by spaces, so every byte offset means the same in both.
    pub python: String,
    /// The byte ranges of the lines that were blanked.
    pub ipython_lines: Vec<(usize, usize)>,
    /// Where each line of `source` starts, so that locating a span takes a binary search,
    /// not a scan of the cell (a cell of 100,000 errors is located in linear time).
    line_starts: Vec<usize>,
}

/// A notebook: its display name (used in diagnostics) and its cells in order.
#[derive(Clone, Debug)]
pub struct Notebook {
    pub name: String,
    pub cells: Vec<Cell>,
}

impl Notebook {
    /// Reads a notebook file; `name` in diagnostics is the path as the user gave it.
    pub fn read(path: &Path) -> Result<Self, NotebookError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| NotebookError::Io {
            path: display.clone(),
            source,
        })?;
        Self::parse(&display, &text)
    }

    /// Parses notebook JSON. `name` only labels diagnostics.
    pub fn parse(name: &str, json: &str) -> Result<Self, NotebookError> {
        // Some editors save JSON with a byte order mark.
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let raw: RawNotebook = serde_json::from_str(json).map_err(|error| NotebookError::Json {
            path: name.to_owned(),
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })?;
        if raw.nbformat != 4 {
            return Err(NotebookError::UnsupportedVersion {
                path: name.to_owned(),
                version: raw.nbformat,
            });
        }
        let Some(cells) = raw.cells else {
            return Err(NotebookError::Json {
                path: name.to_owned(),
                line: 1,
                column: 1,
                message: "the notebook has no `cells`".to_owned(),
            });
        };
        let cells = cells
            .into_iter()
            .map(|cell| Cell::new(&cell.cell_type, cell.source.0))
            .collect();
        Ok(Self {
            name: name.to_owned(),
            cells,
        })
    }

    /// Builds a notebook from code cells, as tests and benchmarks do.
    pub fn from_code_cells<S: AsRef<str>>(name: &str, sources: &[S]) -> Self {
        Self {
            name: name.to_owned(),
            cells: sources
                .iter()
                .map(|source| Cell::new("code", source.as_ref().to_owned()))
                .collect(),
        }
    }
}

impl Cell {
    fn new(cell_type: &str, source: String) -> Self {
        let source = if source.contains('\r') {
            source.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            source
        };
        let kind = match cell_type {
            "code" => CellKind::Code,
            "markdown" => CellKind::Markdown,
            _ => CellKind::Raw,
        };
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        if kind != CellKind::Code {
            return Self {
                kind,
                python: String::new(),
                magic: None,
                ipython_lines: Vec::new(),
                source,
                line_starts,
            };
        }
        let magic = cell_magic(&source);
        let (python, ipython_lines) = blank_ipython_lines(&source);
        Self {
            kind,
            source,
            magic,
            python,
            ipython_lines,
            line_starts,
        }
    }

    /// The 0-based line holding byte `offset` of `source`, and where that line starts.
    #[must_use]
    pub fn line_of(&self, offset: usize) -> (usize, usize) {
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        (line, self.line_starts.get(line).copied().unwrap_or(0))
    }

    /// Whether the cell holds Python that automlops reads.
    #[must_use]
    pub fn is_python(&self) -> bool {
        self.kind == CellKind::Code && self.magic != Some(CellMagic::Other)
    }
}

/// The cell magic on the cell's first non-blank line, if any.
fn cell_magic(source: &str) -> Option<CellMagic> {
    let first = source.lines().find(|line| !line.trim().is_empty())?.trim();
    let name = first.strip_prefix("%%")?;
    let name = name.split_whitespace().next().unwrap_or_default();
    Some(match name {
        "define_imports" => CellMagic::DefineImports,
        "define_component" => CellMagic::DefineComponent,
        "define_kfp_pipeline" => CellMagic::DefineKfpPipeline,
        // IPython runs the Python of these cells; the magic only measures or captures it.
        "time" | "timeit" | "capture" | "prun" => CellMagic::Python,
        _ => CellMagic::Other,
    })
}

/// Replaces what `IPython` handles itself with text of the same byte length, so offsets and
/// line numbers stay those of the cell: a line magic, shell escape or help line (`%time f()`,
/// `!pip install x`, `?obj`) and the right-hand side of `files = !ls` become `...` (a no-op
/// expression, so an `if` block whose only line it was still parses) padded with spaces; a
/// cell magic line and continuation lines (after a trailing `\`) become spaces. Returns the
/// text and the byte ranges replaced.
fn blank_ipython_lines(source: &str) -> (String, Vec<(usize, usize)>) {
    // Most cells have no such line, and need no lexical scan for strings.
    if !source
        .lines()
        .any(|line| starts_escape(line) || assigned_escape(line).is_some())
    {
        return (source.to_owned(), Vec::new());
    }
    let mut out = String::with_capacity(source.len());
    let mut blanked = Vec::new();
    let mut continuing = false;
    // `%` or `!` at the start of a line inside a triple-quoted string is string content.
    let in_string = crate::lexical::lines_inside_strings(source, starts_escape);
    for (index, line) in source.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        let indent = content.len() - trimmed.len();
        let escape_at = if in_string.get(index).copied().unwrap_or(false) {
            None
        } else if continuing {
            Some(0)
        } else if starts_escape(trimmed) {
            Some(indent)
        } else {
            assigned_escape(content)
        };
        let Some(at) = escape_at else {
            out.push_str(line);
            continue;
        };
        let line_start = out.len();
        blanked.push((line_start + at, line_start + content.len()));
        out.push_str(&content[..at]);
        let width = content.len() - at;
        let placeholder = !continuing && !trimmed.starts_with("%%") && width >= 3;
        if placeholder {
            out.push_str("...");
        }
        out.extend(std::iter::repeat_n(
            ' ',
            width - if placeholder { 3 } else { 0 },
        ));
        out.push_str(&line[content.len()..]);
        continuing = content.ends_with('\\');
    }
    (out, blanked)
}

/// Whether a line is a magic, shell escape or help line (`%time`, `!ls`, `?obj`).
fn starts_escape(line: &str) -> bool {
    line.trim_start().starts_with(['!', '%', '?'])
}

/// In `target = !cmd` or `target = %magic`, where the `!`/`%` starts.
fn assigned_escape(line: &str) -> Option<usize> {
    let equals = line.find('=')?;
    let target = &line[..equals];
    let plausible_target = !target.trim().is_empty()
        && target.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ' ' | '\t' | '[' | ']' | '(' | ')')
        });
    if !plausible_target || line[equals + 1..].starts_with('=') {
        return None;
    }
    let rest = &line[equals + 1..];
    let value = rest.trim_start();
    value
        .starts_with(['!', '%'])
        .then(|| equals + 1 + (rest.len() - value.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanking_keeps_offsets_and_other_lines() {
        let source =
            "!pip install x\nimport os\n  %time f()\nx = 1\nif a:\n    out = !ls -l\n%%x\n!a";
        let (python, blanked) = blank_ipython_lines(source);
        assert_eq!(python.len(), source.len());
        assert_eq!(
            python,
            "...           \nimport os\n  ...      \nx = 1\nif a:\n    out = ...   \n   \n  "
        );
        assert_eq!(blanked.len(), 5);
        assert_eq!(&source[blanked[2].0..blanked[2].1], "!ls -l");
        assert_eq!(assigned_escape("x == !y"), None);
        let (python, blanked) = blank_ipython_lines("s = '''\n%(name)s\n!important'''\n!ls");
        assert_eq!(python, "s = '''\n%(name)s\n!important'''\n...");
        assert_eq!(blanked.len(), 1);
        assert_eq!(assigned_escape("print('a = !b')"), None);
    }

    #[test]
    fn line_ends_are_read_as_python_reads_them() {
        let nb = Notebook::from_code_cells("n.ipynb", &["a = 1\r\nb = 2\rc = 3\n"]);
        assert_eq!(nb.cells[0].source, "a = 1\nb = 2\nc = 3\n");
        assert_eq!(nb.cells[0].python, nb.cells[0].source);
    }

    #[test]
    fn source_lines_are_concatenated() {
        let nb = Notebook::parse(
            "n.ipynb",
            r##"{"nbformat": 4, "nbformat_minor": 5, "cells": [
                {"cell_type": "markdown", "source": "# t"},
                {"cell_type": "code", "source": ["%%define_component\n", "x = 1"]}]}"##,
        )
        .unwrap();
        assert_eq!(nb.cells[1].source, "%%define_component\nx = 1");
        assert_eq!(nb.cells[1].magic, Some(CellMagic::DefineComponent));
        assert_eq!(nb.cells[1].python, "                  \nx = 1");
    }

    #[test]
    fn other_cell_magics_are_not_python() {
        let nb = Notebook::from_code_cells("n", &["%%bash\necho hi"]);
        assert!(!nb.cells[0].is_python());
    }

    #[test]
    fn nbformat_3_is_refused_with_a_fix() {
        let error =
            Notebook::parse("old.ipynb", r#"{"nbformat": 3, "worksheets": []}"#).unwrap_err();
        assert!(error.to_string().contains("nbformat 3"));
    }
}
