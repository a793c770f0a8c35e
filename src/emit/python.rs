//! Python source text: string literals and literals of JSON values. Every notebook value that
//! lands in generated Python goes through here, so a quote or a newline in a value stays data.

use std::fmt::Write as _;

/// A single-quoted Python string literal that evaluates to `text`.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The Python literal of a JSON value (`True`, `None`, `{'a': 1.5}`).
pub(crate) fn literal(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => {
                format!("{f:.1}")
            }
            _ => n.to_string(),
        },
        Value::String(s) => string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", string(k), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `json.dumps(value, sort_keys=True)`: `, ` and `: ` separators, non-ASCII escaped,
/// floats as Python prints them. kfp writes a literal loop list this way.
pub(crate) fn json_dumps(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => crate::python::float_repr(n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => json_string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(json_dumps).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", json_string(k), json_dumps(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// A JSON string as Python's `json` module writes it (`ensure_ascii=True`).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// The inside of a `"""docstring"""`: backslashes and triple quotes escaped.
pub(crate) fn docstring(text: &str) -> String {
    text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

/// Indents every non-blank line of code by `prefix`. Lines inside a multi-line string are
/// string contents and stay exactly as they are.
pub(crate) fn indent(text: &str, prefix: &str) -> String {
    let in_string = crate::lexical::lines_inside_strings(text, |_| false);
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            if in_string.get(index).copied().unwrap_or(false) {
                line.to_owned()
            } else if line.trim().is_empty() {
                String::new()
            } else {
                format!("{prefix}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes the indentation common to every non-blank line of code; string contents stay.
pub(crate) fn dedent(text: &str) -> String {
    let in_string = crate::lexical::lines_inside_strings(text, |_| false);
    let code = |index: usize| !in_string.get(index).copied().unwrap_or(false);
    let indent = text
        .lines()
        .enumerate()
        .filter(|(index, line)| code(*index) && !line.trim().is_empty())
        .map(|(_, line)| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            if code(index) {
                line.get(indent..).unwrap_or("").trim_end()
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_indenting_keeps_multiline_strings_intact() {
        let body = "sql = \"\"\"\nSELECT *\n  FROM t\n\"\"\"\nrun(sql)";
        assert_eq!(
            indent(body, "    "),
            "    sql = \"\"\"\nSELECT *\n  FROM t\n\"\"\"\n    run(sql)"
        );
        assert_eq!(dedent("  a = '''\n  x\n'''\n  b"), "a = '''\n  x\n'''\nb");
    }

    #[test]
    fn hostile_strings_stay_data() {
        assert_eq!(string("it's\n\"x\"\\"), r#"'it\'s\n"x"\\'"#);
        assert_eq!(
            literal(&serde_json::json!({"a": [1, 2.5, true, null], "b": "'; import os"})),
            r"{'a': [1, 2.5, True, None], 'b': '\'; import os'}"
        );
        assert_eq!(docstring(r#"say """hi""" \o"#), r#"say \"\"\"hi\"\"\" \\o"#);
    }

    #[test]
    fn json_dumps_writes_what_python_writes() {
        // json.dumps([{"n": 10, "b": [0.5, 1e-05, True, None]}, "é\n\"x\""], sort_keys=True)
        assert_eq!(
            json_dumps(&serde_json::json!([{"n": 10, "b": [0.5, 1e-5, true, null]}, "é\n\"x\""])),
            r#"[{"b": [0.5, 1e-05, true, null], "n": 10}, "\u00e9\n\"x\""]"#
        );
    }
}
