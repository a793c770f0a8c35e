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
pub(super) enum RawSource {
    One(String),
    Lines(Vec<String>),
}

/// By hand rather than `#[serde(untagged)]`, which buffers every source before trying each
/// shape: the notebook's sources are most of its bytes.
impl<'de> Deserialize<'de> for RawSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Source;
        impl<'de> serde::de::Visitor<'de> for Source {
            type Value = RawSource;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a cell source: a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawSource, E> {
                Ok(RawSource::One(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<RawSource, E> {
                Ok(RawSource::One(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawSource, A::Error> {
                let mut lines = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(line) = seq.next_element::<String>()? {
                    lines.push(line);
                }
                Ok(RawSource::Lines(lines))
            }
        }
        deserializer.deserialize_any(Source)
    }
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
