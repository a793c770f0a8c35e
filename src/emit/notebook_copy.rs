//! `notebook/<name>.ipynb`: the notebook's cells, without outputs or metadata, in the output
//! tree. The output directory is the repository Cloud Build builds, and the notebook lives
//! outside it; with this copy CI can recompile and check that the committed output is what
//! `automlops compile` makes of it. Compiling the copy gives the same output, copy included.

use crate::notebook::{CellKind, Notebook};

/// Where the copy goes, named as the notebook is.
pub(crate) fn path(name: &str) -> String {
    // The name is a file name already (control characters made printable); the fallback
    // is for names no file could have.
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains('/');
    format!("notebook/{}", if plain { name } else { "notebook.ipynb" })
}

pub(super) fn copy(notebook: &Notebook) -> String {
    let cells: Vec<serde_json::Value> = notebook
        .cells
        .iter()
        .map(|cell| {
            let source: Vec<&str> = cell.source.split_inclusive('\n').collect();
            match cell.kind {
                CellKind::Code => serde_json::json!({
                    "cell_type": "code",
                    "execution_count": null,
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }),
                CellKind::Markdown => serde_json::json!({
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": source,
                }),
                CellKind::Raw => serde_json::json!({
                    "cell_type": "raw",
                    "metadata": {},
                    "source": source,
                }),
            }
        })
        .collect();
    let copy = serde_json::json!({
        "cells": cells,
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 4,
    });
    let mut text = serde_json::to_string_pretty(&copy).unwrap_or_default();
    text.push('\n');
    text
}
