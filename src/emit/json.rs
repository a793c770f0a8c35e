//! The JSON we write (`pipeline_job.json`, the parameter values file), pretty-printed by
//! `serde_json`, but for what a YAML 1.1 reader would read otherwise: floats and a few
//! characters.
//!
//! Vertex AI's Python client reads a local pipeline file with PyYAML whatever its extension
//! (JSON is YAML), and PyYAML reads a number with an exponent but no dot (`1e-7`, which
//! `serde_json` writes, or `1e-07`, which Python's `json` writes) as a string: a float default
//! would reach Vertex AI as text. `1.0e-7` is the same number in JSON and a float in YAML 1.1.
//! For the same reader, characters YAML 1.1 does not allow raw (U+007F to U+009F, U+FEFF,
//! U+FFFE, U+FFFF) or reads as line breaks (U+0085, U+2028, U+2029) are escaped (`\u0085`),
//! as Python's `json` escapes them too.

use serde_json::ser::{Formatter, PrettyFormatter};

/// `value` as pretty-printed JSON with a final newline.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::with_capacity(4096);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut bytes, Yaml11Safe(PrettyFormatter::new()));
    value.serialize(&mut serializer)?;
    bytes.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(bytes).map_err(serde::ser::Error::custom)
}

/// `serde_json`'s pretty printer, but for floats and a few characters.
struct Yaml11Safe<'a>(PrettyFormatter<'a>);

/// Characters a YAML 1.1 reader refuses raw or reads as a line break: past ASCII, those the
/// YAML writer does not leave as they are either (below `~`, JSON escapes what it must).
fn yaml11_unsafe(c: char) -> bool {
    c > '~' && !super::yaml::safe_in_line(c)
}

impl Formatter for Yaml11Safe<'_> {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        writer.write_all(super::yaml::float_text(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Each such character's UTF-8 starts with one of these bytes; most text has none.
        if !fragment
            .bytes()
            .any(|b| matches!(b, 0x7f | 0xc2 | 0xe2 | 0xef))
        {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some(at) = rest.find(yaml11_unsafe) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_json;

    #[test]
    fn floats_read_as_floats_in_yaml_1_1_and_json_is_otherwise_serde_jsons() {
        let value = json!({"a": 1e-7, "b": [0.5, 3.0, 1e20], "c": {"d": 7, "e": "1e-7"}, "f": []});
        let text = to_json(&value).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": 1.0e-7,\n  \"b\": [\n    0.5,\n    3.0,\n    1.0e+20\n  ],\n  \"c\": {\n    \"d\": 7,\n    \"e\": \"1e-7\"\n  },\n  \"f\": []\n}\n"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        let plain: serde_json::Value = json!({"x": [1, {"y": "z é ✓"}], "w": {}});
        assert_eq!(
            to_json(&plain).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap() + "\n"
        );
    }

    #[test]
    fn characters_yaml_1_1_refuses_or_breaks_on_are_escaped() {
        let value = json!({"a\u{85}": "x\u{7f}y\u{2028}z\u{feff}\u{a0}é\t"});
        let text = to_json(&value).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\\u0085\": \"x\\u007fy\\u2028z\\ufeff\u{a0}é\\t\"\n}\n"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }

    proptest::proptest! {
        /// Any text reads back the same through JSON, and no character a YAML 1.1 reader
        /// refuses or breaks lines on is left raw.
        #[test]
        fn any_text_reads_back_and_is_yaml_safe(text in ".*", key in ".*") {
            let value = json!({ key: text });
            let written = to_json(&value).unwrap();
            proptest::prop_assert!(!written.chars().any(super::yaml11_unsafe), "{:?}", written);
            let read: serde_json::Value = serde_json::from_str(&written).unwrap();
            proptest::prop_assert_eq!(read, value);
        }
    }
}
