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

/// nbformat allows a cell's source as one string or as a list of lines to concatenate; both
/// are read into one string.
#[derive(Default)]
pub(super) struct RawSource(pub(super) String);

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
                Ok(RawSource(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<RawSource, E> {
                Ok(RawSource(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawSource, A::Error> {
                let mut text = String::new();
                while seq.next_element_seed(AppendLine(&mut text))?.is_some() {}
                Ok(RawSource(text))
            }
        }
        deserializer.deserialize_any(Source)
    }
}

/// One line of a list-of-lines source, appended to the text read so far (a `String` per line
/// would be most of the notebook's allocations).
struct AppendLine<'a>(&'a mut String);

impl<'de> serde::de::DeserializeSeed<'de> for AppendLine<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for AppendLine<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a line of a cell source: a string")
    }

    fn visit_str<E: serde::de::Error>(self, line: &str) -> Result<(), E> {
        self.0.push_str(line);
        Ok(())
    }
}
