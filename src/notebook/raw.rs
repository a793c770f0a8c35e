//! The nbformat 4 JSON as serde sees it: only the fields automlops reads.
//!
//! Kept apart from the domain [`super::Notebook`] so that format details (a cell's source may
//! be one string or a list of lines) never leak past this module.

use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct RawNotebook {
    pub(super) nbformat: u32,
    #[serde(default)]
    pub(super) cells: Vec<RawCell>,
}

#[derive(Deserialize)]
pub(super) struct RawCell {
    pub(super) cell_type: String,
    #[serde(default)]
    pub(super) source: RawSource,
}

/// nbformat allows a cell's source as one string or as a list of lines to concatenate.
#[derive(Deserialize)]
#[serde(untagged)]
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
