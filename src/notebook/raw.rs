//! The nbformat 4 JSON as serde sees it: only the fields automlops reads.
//!
//! Kept apart from the domain [`super::Notebook`] so that format details (a cell's source may
//! be one string or a list of lines) never leak past this module.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(expecting = "a notebook: a JSON object with `nbformat` and `cells`")]
pub(super) struct RawNotebook {
    pub(super) nbformat: u32,
    /// Optional here so that an nbformat 3 file (which has `worksheets`) gets its own message.
    pub(super) cells: Option<Vec<RawCell>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a cell: a JSON object with `cell_type` and `source`")]
pub(super) struct RawCell {
    pub(super) cell_type: String,
    #[serde(default)]
    pub(super) source: RawSource,
}

/// nbformat allows a cell's source as one string or as a list of lines to concatenate.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a cell source: a string or a list of strings")]
pub(super) enum RawSource {
    One(String),
    Lines(Vec<String>),
}

impl Default for RawSource {
    fn default() -> Self {
        RawSource::One(String::new())
    }
}

impl RawSource {
    pub(super) fn into_string(self) -> String {
        match self {
            RawSource::One(text) => text,
            RawSource::Lines(lines) => lines.concat(),
        }
    }
}
