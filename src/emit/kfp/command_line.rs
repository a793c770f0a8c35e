//! A container component's command-line elements as kfp writes them into the IR: text as
//! it is; a `ConcatPlaceholder` or `IfPresentPlaceholder` as the JSON text Python's
//! `json.dumps` gives its dict (`{"Concat": [...]}`), with placeholders nested in it as dicts.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::model::{CommandLine, Elements};

/// The element's IR string.
pub(super) fn to_ir(element: &CommandLine) -> String {
    match element {
        CommandLine::Text(text) => text.clone(),
        other => python_dumps(&to_struct(other)),
    }
}

/// kfp's `convert_command_line_element_to_string_or_struct`.
fn to_struct(element: &CommandLine) -> Value {
    match element {
        CommandLine::Text(text) => Value::String(text.clone()),
        CommandLine::Concat(items) => {
            let mut map = Map::new();
            map.insert(
                "Concat".to_owned(),
                Value::Array(items.iter().map(to_struct).collect()),
            );
            Value::Object(map)
        }
        CommandLine::IfPresent {
            input,
            then,
            otherwise,
        } => {
            let mut inner = Map::new();
            inner.insert("InputName".to_owned(), Value::String(input.clone()));
            inner.insert("Then".to_owned(), elements(then));
            // kfp leaves out an `else_` that is empty.
            if let Some(otherwise) = otherwise.as_ref().filter(|e| !is_empty(e)) {
                inner.insert("Else".to_owned(), elements(otherwise));
            }
            let mut map = Map::new();
            map.insert("IfPresent".to_owned(), Value::Object(inner));
            Value::Object(map)
        }
    }
}

fn is_empty(elements: &Elements) -> bool {
    matches!(elements, Elements::List(items) if items.is_empty())
}

fn elements(elements: &Elements) -> Value {
    match elements {
        Elements::One(element) => to_struct(element),
        Elements::List(items) => Value::Array(items.iter().map(to_struct).collect()),
    }
}

/// Python's `json.dumps` with its defaults: `", "` and `": "` between items, every character
/// outside printable ASCII escaped as `\uXXXX` (UTF-16, lower-case hex).
fn python_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_value(item, out);
            }
            out.push('}');
        }
        // Only strings, lists and dicts are built above.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{CommandLine, Elements, to_ir};

    fn text(s: &str) -> CommandLine {
        CommandLine::Text(s.to_owned())
    }

    // Expected texts are what `json.dumps` gives in Python 3.11 for the same dicts.
    #[test]
    fn placeholders_are_python_json_texts() {
        let concat = CommandLine::Concat(vec![text("a"), text("{{$.inputs.parameters['name']}}")]);
        assert_eq!(
            to_ir(&concat),
            r#"{"Concat": ["a", "{{$.inputs.parameters['name']}}"]}"#
        );
        let if_present = CommandLine::IfPresent {
            input: "n".to_owned(),
            then: Elements::List(vec![text("--n"), text("{{$.inputs.parameters['n']}}")]),
            otherwise: Some(Elements::List(vec![text("x")])),
        };
        assert_eq!(
            to_ir(&if_present),
            r#"{"IfPresent": {"InputName": "n", "Then": ["--n", "{{$.inputs.parameters['n']}}"], "Else": ["x"]}}"#
        );
        let nested = CommandLine::Concat(vec![CommandLine::IfPresent {
            input: "n".to_owned(),
            then: Elements::One(Box::new(text("y"))),
            otherwise: Some(Elements::List(Vec::new())),
        }]);
        assert_eq!(
            to_ir(&nested),
            r#"{"Concat": [{"IfPresent": {"InputName": "n", "Then": "y"}}]}"#
        );
    }

    #[test]
    fn non_ascii_and_controls_are_escaped_as_python_does() {
        let concat = CommandLine::Concat(vec![text("é\u{1F600}\"\\\n\u{7f}\u{1}")]);
        assert_eq!(
            to_ir(&concat),
            r#"{"Concat": ["\u00e9\ud83d\ude00\"\\\n\u007f\u0001"]}"#
        );
    }
}
