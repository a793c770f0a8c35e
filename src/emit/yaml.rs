//! YAML output through serde, so values are quoted by a YAML serializer, never by hand; plus
//! the one thing the serializer does not know: its readers are YAML 1.1.
//!
//! `serde_norway` quotes a string that a YAML 1.2 reader would take for something else (`true`,
//! `1.5`, `null`). The readers of what we write are YAML 1.1: PyYAML in kfp and in the runner,
//! Cloud Build's parser. YAML 1.1 reads more plain scalars as non-strings: `yes`, `no`, `on`
//! and `off` as booleans, `2024-01-01` as a date, `1_000` and `12:30` as integers, `=` as a
//! value key, `<<` as a merge key. A string parameter default `"off"` would reach the
//! component as `False`. So every plain scalar the serializer wrote (a key or a value, never
//! the lines of a block scalar) that YAML 1.1 would resolve to something else is
//! single-quoted.

use std::sync::LazyLock;

use regex::Regex;

pub(crate) fn to_yaml(value: &impl serde::Serialize) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(value).map(|text| quote_yaml11(&text))
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

/// The YAML 1.2 core schema's non-strings. A plain scalar of this form is one the serializer
/// wrote as a number, a boolean or null (it quotes strings of this form), and stays as is.
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

/// Single-quotes the plain scalars of `serde_norway`'s block-style output that a YAML 1.1
/// reader would not read as strings.
fn quote_yaml11(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Inside a block scalar (`key: |`), lines indented deeper than its key are its content.
    let mut block_key_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        let indent = content.len() - content.trim_start_matches(' ').len();
        if let Some(key_indent) = block_key_indent {
            if content.trim().is_empty() || indent > key_indent {
                out.push_str(line);
                continue;
            }
            block_key_indent = None;
        }
        // Sequence dashes, then a `key: value`, a `key:` or a bare value.
        let mut start = indent;
        while content[start..].starts_with("- ") {
            start += 2;
        }
        if content[start..].trim() == "-" {
            out.push_str(line);
            continue;
        }
        out.push_str(&content[..start]);
        let rest = &content[start..];
        match split_key(rest) {
            Some((key, value)) => {
                push_plain(&mut out, key);
                out.push(':');
                if !value.is_empty() {
                    out.push(' ');
                    if value.starts_with('|') || value.starts_with('>') {
                        block_key_indent = Some(start);
                        out.push_str(value);
                    } else {
                        push_plain(&mut out, value);
                    }
                }
            }
            // `- |`: a block scalar as a sequence item; its lines are deeper than the dash.
            None if rest.starts_with('|') || rest.starts_with('>') => {
                block_key_indent = Some(indent);
                out.push_str(rest);
            }
            None => push_plain(&mut out, rest),
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `key: value` or `key:` split at the mapping colon, the key plain or quoted.
fn split_key(rest: &str) -> Option<(&str, &str)> {
    let key_end = match rest.chars().next()? {
        quote @ ('\'' | '"') => {
            // The closing quote: `''` escapes `'` in single quotes, `\` escapes in double.
            let bytes = rest.as_bytes();
            let mut i = 1;
            loop {
                match bytes.get(i)? {
                    b'\\' if quote == '"' => i += 2,
                    b'\'' if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    &b if b == quote as u8 => break i + 1,
                    _ => i += 1,
                }
            }
        }
        '[' | '{' | '|' | '>' | '!' | '&' | '*' => return None,
        _ => rest
            .find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?,
    };
    let after = &rest[key_end..];
    if after == ":" {
        Some((&rest[..key_end], ""))
    } else {
        after
            .strip_prefix(": ")
            .map(|value| (&rest[..key_end], value))
    }
}

/// A plain scalar as is, or single-quoted if YAML 1.1 would not read it as a string.
fn push_plain(out: &mut String, scalar: &str) {
    if may_not_be_a_string(scalar)
        && YAML11_NOT_A_STRING.is_match(scalar)
        && !YAML12_NOT_A_STRING.is_match(scalar)
    {
        out.push('\'');
        out.push_str(&scalar.replace('\'', "''"));
        out.push('\'');
    } else {
        out.push_str(scalar);
    }
}

/// Whether a scalar could be one of YAML 1.1's non-strings, judged by its first character: a
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
        ] {
            map.insert(key, value);
        }
        assert_eq!(
            to_yaml(&map).unwrap(),
            "a: 'yes'\nb: 'No'\nc: '2024-01-01'\nd: '1_000'\ne: '12:30'\nf: '='\ng: '<<'\nh: '0b101'\ni: plain text\nj: gs://bucket/path\nk: 'ready: yes'\nl: .\nm: '1_0.5'\n'off': 'on'\n"
        );
    }

    #[test]
    fn sequences_and_nested_keys_are_quoted_but_block_scalars_are_not() {
        #[derive(serde::Serialize)]
        struct Doc {
            list: Vec<&'static str>,
            nested: Vec<BTreeMap<&'static str, &'static str>>,
            script: &'static str,
            after: &'static str,
            count: i64,
            ratio: f64,
            flag: bool,
            none: Option<i64>,
            numeric_text: &'static str,
        }
        let doc = Doc {
            list: vec!["no", "keep", "no\non: 12:30\n"],
            nested: vec![BTreeMap::from([("yes", "off"), ("z", "ok")])],
            script: "no\non: 12:30\n",
            after: "y",
            count: 3,
            ratio: 0.5,
            flag: false,
            none: None,
            numeric_text: "3",
        };
        assert_eq!(
            to_yaml(&doc).unwrap(),
            "list:\n- 'no'\n- keep\n- |\n  no\n  on: 12:30\nnested:\n- 'yes': 'off'\n  z: ok\nscript: |\n  no\n  on: 12:30\nafter: 'y'\ncount: 3\nratio: 0.5\nflag: false\nnone: null\nnumeric_text: '3'\n"
        );
    }
}
