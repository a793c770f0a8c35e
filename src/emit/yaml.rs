//! The YAML we write (`component.yaml`, `cloudbuild.yaml`, `configs/defaults.yaml`), in block
//! style, for YAML 1.1 readers.
//!
//! The readers are YAML 1.1: PyYAML in kfp and in the runner, Cloud Build's parser. YAML 1.1
//! reads more plain scalars as non-strings than YAML 1.2 does: `yes`, `no`, `on` and `off` as
//! booleans, `2024-01-01` as a date, `1_000` and `12:30` as integers, `=` as a value key, `<<`
//! as a merge key; and it reads a float only with a dot and a signed exponent, so `1e-5` is the
//! string `"1e-5"`. A string parameter default `"off"` would reach the component as `False`, a
//! float default `1e-5` would stop kfp from loading the component. So a string is written plain
//! only when both YAML 1.1 and YAML 1.2 read it back as that string, and a float always has a
//! dot and, when it has an exponent, a signed one (`1.0e-7`, `1.0e+20`).
//!
//! A YAML library is not used for writing: YAML 1.2 serializers make exactly the choices above
//! that YAML 1.1 reads otherwise, and the shape of what we write is fixed (mappings, sequences,
//! scalars), which this module writes in one pass over serde's data model. Values go through
//! `serde_json`'s tree, which keeps a struct's field order. The round trip through a YAML parser
//! is checked by the tests below and by kfp loading every `component.yaml` in CI.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

/// `value` as a YAML document, block style, two spaces per level, sequences in a mapping not
/// indented (as `kubectl` and kfp write them), multi-line strings as literal blocks.
pub(crate) fn to_yaml(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = String::with_capacity(4096);
    match &value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0, false),
        scalar => {
            push_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    Ok(out)
}

/// A mapping's entries at `indent`; `after_dash` when the first entry shares the line of a
/// sequence's `- `.
fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize, after_dash: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !after_dash {
            push_indent(out, indent);
        }
        let mut written = String::new();
        push_string(&mut written, key, indent, false);
        if written.chars().count() > MAX_IMPLICIT_KEY {
            explicit_entry(out, &written, value, indent);
            continue;
        }
        out.push_str(&written);
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                mapping(out, inner, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, indent, false);
            }
            scalar => {
                out.push(' ');
                push_scalar(out, scalar, indent);
                out.push('\n');
            }
        }
    }
}

/// The longest key written as `key: value`: YAML limits an implicit key to 1024 characters
/// (PyYAML and libyaml refuse longer ones), the `: ` included.
const MAX_IMPLICIT_KEY: usize = 1000;

/// `? key` then `: value` on the next line, at `indent`: an entry whose key is too long to be
/// implicit. Collections are indented under the `:`.
fn explicit_entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    out.push_str("? ");
    out.push_str(key);
    out.push('\n');
    push_indent(out, indent);
    out.push(':');
    match value {
        Value::Object(inner) if !inner.is_empty() => {
            out.push('\n');
            mapping(out, inner, indent + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, indent + 2, false);
        }
        scalar => {
            out.push(' ');
            push_scalar(out, scalar, indent);
            out.push('\n');
        }
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize, after_dash: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !after_dash {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => mapping(out, map, indent + 2, true),
            Value::Array(inner) if !inner.is_empty() => sequence(out, inner, indent + 2, true),
            scalar => {
                push_scalar(out, scalar, indent);
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar, or an empty collection, whose key or dash is at `indent`.
fn push_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&float_text(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => push_string(out, s, indent, true),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// The text of a float that YAML 1.1, YAML 1.2 and JSON all read as that float: `serde_json`'s
/// shortest round-trip text (`1e-7`, `1e20`, `0.5`) with a dot in the mantissa and a sign on
/// the exponent (`1.0e-7`, `1.0e+20`). Non-finite floats, which JSON cannot hold, are `0.0`.
pub(super) fn float_text(f: f64) -> String {
    let text = serde_json::Number::from_f64(f).map_or_else(|| "0.0".to_owned(), |n| n.to_string());
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    if let Some(exponent) = exponent {
        out.push('e');
        if !exponent.starts_with(['-', '+']) {
            out.push('+');
        }
        out.push_str(exponent);
    }
    out
}

/// A string, plain where both YAML versions read it back as itself, else quoted; a multi-line
/// value (`block`) as a literal block scalar where that writes it exactly.
fn push_string(out: &mut String, s: &str, indent: usize, block: bool) {
    if block && s.contains('\n') && literal_block_fits(s) {
        push_literal_block(out, s, indent + 2);
    } else if plain_fits(s) {
        out.push_str(s);
    } else if s.chars().all(safe_in_line) {
        out.push('\'');
        for c in s.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
    } else {
        push_double_quoted(out, s);
    }
}

/// A character that stands for itself in a plain or single-quoted scalar on one line: printable
/// in YAML 1.1 and 1.2, and no line break in either (U+0085, U+2028 and U+2029 are breaks in
/// YAML 1.1). Tabs are left to double quotes, which show them as `\t`.
pub(super) fn safe_in_line(c: char) -> bool {
    matches!(c, ' '..='~')
        || (c >= '\u{a0}'
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}

/// Whether `s` can be written plain: every character safe, no indicator that would start
/// something else (`- `, `#`, `&`, `'`, `{`...), no `: ` or ` #` inside, no space at either end,
/// and no non-string reading in YAML 1.1 or 1.2 (`yes`, `1_000`, `2024-01-01`, `3`, `null`).
fn plain_fits(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let second = s[first.len_utf8()..].chars().next();
    let starts_ok = match first {
        '-' | '?' | ':' => second.is_some_and(|c| c != ' '),
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' | ' ' => false,
        _ => true,
    };
    starts_ok
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.starts_with("---")
        && !s.starts_with("...")
        && s.chars().all(safe_in_line)
        && !(may_not_be_a_string(s)
            && (YAML11_NOT_A_STRING.is_match(s) || YAML12_NOT_A_STRING.is_match(s)))
}

/// Whether a multi-line string reads back exactly from a literal block (`|`, `|-`): safe
/// characters, no line ending in a space (a literal block keeps it, but editors and readers
/// trim it), a first line that does not start with a space (it would set the indentation), and
/// at most one final line break (`|` keeps one, `|-` none).
fn literal_block_fits(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    !body.is_empty()
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\n'])
        && body
            .split('\n')
            .all(|line| !line.ends_with(' ') && line.chars().all(safe_in_line))
}

fn push_literal_block(out: &mut String, s: &str, content_indent: usize) {
    let body = if let Some(body) = s.strip_suffix('\n') {
        out.push('|');
        body
    } else {
        out.push_str("|-");
        s
    };
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(out, content_indent);
            out.push_str(line);
        }
    }
}

/// A double-quoted scalar with YAML's escapes, which both versions read the same way.
fn push_double_quoted(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if safe_in_line(c) => out.push(c),
            c if u32::from(c) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
}

/// The implicit types of the YAML 1.1 type repository (yaml.org/type), as one pattern over a
/// whole plain scalar: bool, int (binary, octal, decimal, hex, base 60), float, null,
/// timestamp, merge and value.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by every test"
)]
static YAML11_NOT_A_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
        r"|[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
        r"|[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        r"|~|null|Null|NULL",
        r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?",
        r"|<<|=",
        r")$"
    ))
    .expect("the YAML 1.1 pattern is valid")
});

/// The YAML 1.2 core schema's non-strings.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by every test"
)]
static YAML12_NOT_A_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE",
        r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
        r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        r")$"
    ))
    .expect("the YAML 1.2 pattern is valid")
});

/// Whether a scalar could be a non-string in YAML 1.1 or 1.2, judged by its first character: a
/// boolean word (`y`, `no`, `on`, `True`...), `null`, a number, a date, `~`, `<<` or `=`. Most
/// keys and values (`parameterType`, `gs://...`) are not, and skip the patterns.
fn may_not_be_a_string(scalar: &str) -> bool {
    scalar.chars().next().is_some_and(|first| {
        matches!(
            first,
            'y' | 'Y'
                | 'n'
                | 'N'
                | 't'
                | 'T'
                | 'f'
                | 'F'
                | 'o'
                | 'O'
                | '~'
                | '<'
                | '='
                | '+'
                | '-'
                | '.'
        ) || first.is_ascii_digit()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::to_yaml;

    #[test]
    fn strings_yaml_1_1_reads_otherwise_are_quoted() {
        let mut map = BTreeMap::new();
        for (key, value) in [
            ("off", "on"),
            ("a", "yes"),
            ("b", "No"),
            ("c", "2024-01-01"),
            ("d", "1_000"),
            ("e", "12:30"),
            ("f", "="),
            ("g", "<<"),
            ("h", "0b101"),
            ("i", "plain text"),
            ("j", "gs://bucket/path"),
            ("k", "ready: yes"),
            ("l", "."),
            ("m", "1_0.5"),
            ("n", "0123"),
            ("o", "3"),
            ("p", "1e-5"),
            ("q", "null"),
        ] {
            map.insert(key, value);
        }
        assert_eq!(
            to_yaml(&map).unwrap(),
            "a: 'yes'\nb: 'No'\nc: '2024-01-01'\nd: '1_000'\ne: '12:30'\nf: '='\ng: '<<'\nh: '0b101'\ni: plain text\nj: gs://bucket/path\nk: 'ready: yes'\nl: .\nm: '1_0.5'\n'n': '0123'\no: '3'\n'off': 'on'\np: '1e-5'\nq: 'null'\n"
        );
    }

    #[test]
    fn floats_have_a_dot_and_a_signed_exponent() {
        let doc = json!({"a": 1e-5, "h": 1e-7, "b": 1e20, "c": 0.5, "d": 3.0, "e": -2.5e-7, "f": 1.5e300, "g": 7});
        assert_eq!(
            to_yaml(&doc).unwrap(),
            "a: 0.00001\nh: 1.0e-7\nb: 1.0e+20\nc: 0.5\nd: 3.0\ne: -2.5e-7\nf: 1.5e+300\ng: 7\n"
        );
    }

    #[test]
    fn blocks_sequences_and_nesting() {
        #[derive(serde::Serialize)]
        struct Doc {
            list: Vec<&'static str>,
            nested: Vec<BTreeMap<&'static str, &'static str>>,
            script: &'static str,
            after: &'static str,
            count: i64,
            flag: bool,
            none: Option<i64>,
            empty: Vec<i64>,
            lists: Vec<Vec<&'static str>>,
        }
        let doc = Doc {
            list: vec![
                "no",
                "keep",
                "no\non: 12:30\n",
                "- not a dash",
                "-x",
                "{{$}}",
            ],
            nested: vec![BTreeMap::from([
                ("yes", "off"),
                ("z", "line\n\n  indented"),
            ])],
            script: "set -e\necho 'done'",
            after: "y",
            count: 3,
            flag: false,
            none: None,
            empty: vec![],
            lists: vec![vec!["a", "b"]],
        };
        assert_eq!(
            to_yaml(&doc).unwrap(),
            "list:\n- 'no'\n- keep\n- |\n  no\n  on: 12:30\n- '- not a dash'\n- -x\n- '{{$}}'\nnested:\n- 'yes': 'off'\n  z: |-\n    line\n\n      indented\nscript: |-\n  set -e\n  echo 'done'\nafter: 'y'\ncount: 3\nflag: false\nnone: null\nempty: []\nlists:\n- - a\n  - b\n"
        );
    }

    #[test]
    fn what_no_other_style_writes_exactly_is_double_quoted() {
        let doc = json!({
            "tab": "a\tb",
            "trailing": "line \nnext",
            "leading": "  indented\nnext",
            "breaks": "two\n\n",
            "nel": "a\u{85}b",
            "ls": "a\u{2028}b",
            "bell": "\u{7}",
            "quote": "it's \"x\"",
        });
        assert_eq!(
            to_yaml(&doc).unwrap(),
            "tab: \"a\\tb\"\ntrailing: \"line \\nnext\"\nleading: \"  indented\\nnext\"\nbreaks: \"two\\n\\n\"\nnel: \"a\\x85b\"\nls: \"a\\Lb\"\nbell: \"\\x07\"\nquote: it's \"x\"\n"
        );
    }

    /// A key past YAML's 1024 characters of an implicit key is written as an explicit one
    /// (`? key`), which every reader takes, whatever its value.
    #[test]
    fn long_keys_are_explicit() {
        let long = "k".repeat(2000);
        let doc = serde_json::json!({
            "top": {&long: {"a": [1, {&long: "v"}]}, "short": 1},
            &long: [1, 2],
            "after": null,
        });
        let yaml = to_yaml(&doc).unwrap();
        assert!(yaml.contains(&format!("? {long}\n")), "{yaml}");
        let read: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(read, doc);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[ -~\n\t]{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("yes"),
                Just("~"),
                Just("0x1F"),
                Just("- a"),
                Just("a: b"),
                Just("a #b"),
                Just("---"),
                Just("1e5"),
                Just(".inf"),
                Just("")
            ]
            .prop_map(|s| Value::String(s.to_owned())),
        ];
        scalar.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z0-9 :#'-]{0,6}", inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// A YAML parser reads back every value we write.
        #[test]
        fn a_yaml_parser_reads_back_what_is_written(value in json_value()) {
            let yaml = to_yaml(&value).unwrap();
            let read: Value = serde_norway::from_str(&yaml)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
            prop_assert_eq!(read, value, "{}", yaml);
        }
    }
}
