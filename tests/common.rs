//! Helpers shared by the tests.

use std::path::{Path, PathBuf};

use automlops::compile::{CompileError, Options, compile};
use automlops::notebook::Notebook;
use automlops::render::render;

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Turns a notebook written in "percent" format (cells split at `# %%` lines, `# %% [markdown]`
/// for markdown) into nbformat 4 JSON, so fixtures stay readable and diffable.
pub(crate) fn percent_to_ipynb(text: &str) -> String {
    let mut cells: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# %%") {
            let kind = if rest.trim() == "[markdown]" {
                "markdown"
            } else {
                "code"
            };
            cells.push((kind.to_owned(), Vec::new()));
        } else if let Some((kind, lines)) = cells.last_mut() {
            let line = if kind == "markdown" {
                line.strip_prefix("# ")
                    .unwrap_or(line.trim_start_matches('#'))
            } else {
                line
            };
            lines.push(line.to_owned());
        }
    }
    let cells: Vec<serde_json::Value> = cells
        .into_iter()
        .map(|(kind, mut lines)| {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            let source = lines.join("\n");
            if kind == "code" {
                serde_json::json!({"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": null})
            } else {
                serde_json::json!({"cell_type": "markdown", "metadata": {}, "source": source})
            }
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells
    }))
    .unwrap()
}

/// Reads a `.py` percent-format fixture as a notebook named after the file.
#[track_caller]
pub(crate) fn fixture_notebook(path: &Path) -> Notebook {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.with_extension("ipynb");
    let name = name.file_name().unwrap().to_string_lossy();
    Notebook::parse(&name, &percent_to_ipynb(&text)).unwrap()
}

/// The options a fixture compiles with: files it loads are read beside it, as the command
/// line reads them beside the notebook.
pub(crate) fn fixture_options(path: &Path) -> automlops::compile::Options {
    automlops::compile::Options {
        files: Some(std::sync::Arc::new(automlops::notebook::Beside::notebook(
            path,
        ))),
        ..automlops::compile::Options::default()
    }
}

/// Every diagnostic of a failed compile, rendered without colour.
#[track_caller]
pub(crate) fn rendered_errors(notebook: &Notebook, options: &Options) -> String {
    match compile(notebook, options) {
        Ok(compiled) => panic!(
            "{} compiled, but it should fail; warnings: {:?}",
            notebook.name, compiled.warnings
        ),
        Err(CompileError::Notebook(diagnostics)) => {
            assert!(
                diagnostics
                    .iter()
                    .any(automlops::diagnostic::Diagnostic::is_error),
                "failed without an error"
            );
            diagnostics
                .iter()
                .map(|d| render(notebook, d, false))
                .collect()
        }
        Err(other) => panic!("{}: unexpected failure {other}", notebook.name),
    }
}

/// The files of a directory, relative path to contents.
pub(crate) fn read_tree(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

/// The percent-format notebooks of `tests/fixtures/<kind>/`, in name order.
pub(crate) fn fixtures(kind: &str) -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(repo().join("tests/fixtures").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    paths
}

/// The first line of a fixture says what it shows; it becomes the snapshot's description.
pub(crate) fn expectation(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().next().unwrap_or_default().to_owned()
}
