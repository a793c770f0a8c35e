//! Typed reads of evaluated [`Value`]s, reporting what was expected where it was not found.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};

use super::scan::Arg;
use super::value::{Kind, Value};

/// Reads the keyword arguments of one call.
pub(crate) struct Args<'a> {
    pub(crate) given: &'a [Arg],
    /// The call, for "missing argument" errors.
    pub(crate) span: Span,
    /// `AutoMLOps.makeComponent`, for messages.
    pub(crate) callee: &'static str,
}

impl<'a> Args<'a> {
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.given
            .iter()
            .rev()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    pub(crate) fn required(&self, name: &str, diagnostics: &mut Diagnostics) -> Option<&'a Value> {
        let value = self.get(name);
        if value.is_none() {
            diagnostics.push(Diagnostic::error(
                self.span,
                format!("`{}` needs the argument `{name}`", self.callee),
            ));
        }
        value
    }

    /// Warns about keyword arguments the callee does not take.
    pub(crate) fn warn_unknown(&self, known: &[&str], diagnostics: &mut Diagnostics) {
        for arg in self.given {
            if !known.contains(&arg.name.as_str()) {
                diagnostics.push(
                    Diagnostic::warning(
                        arg.span,
                        format!(
                            "`{}` has no argument `{}`; it is ignored",
                            self.callee, arg.name
                        ),
                    )
                    .with_optional_hint(
                        super::suggest::did_you_mean(&arg.name, known.iter().copied())
                            .map(|s| format!("did you mean `{s}`?")),
                    ),
                );
            }
        }
    }
}

pub(crate) fn string(value: &Value, what: &str, diagnostics: &mut Diagnostics) -> Option<String> {
    if let Kind::Str(s) = &value.kind {
        Some(s.clone())
    } else {
        diagnostics.push(mismatch(value, what, "a string"));
        None
    }
}

pub(crate) fn list<'a>(
    value: &'a Value,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<&'a [Value]> {
    if let Kind::List(items) = &value.kind {
        Some(items)
    } else {
        diagnostics.push(mismatch(value, what, "a list"));
        None
    }
}

pub(crate) type Entries = [(String, Option<Span>, Value)];

pub(crate) fn dict<'a>(
    value: &'a Value,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<&'a Entries> {
    if let Kind::Dict(entries) = &value.kind {
        Some(entries)
    } else {
        diagnostics.push(mismatch(value, what, "a dict"));
        None
    }
}

pub(crate) fn entry<'a>(entries: &'a Entries, key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .rev()
        .find(|(k, _, _)| k == key)
        .map(|(_, _, v)| v)
}

/// The error for a value of the wrong shape, or for one that is not known statically.
pub(crate) fn mismatch(value: &Value, what: &str, expected: &str) -> Diagnostic {
    value.unknown_error(what).unwrap_or_else(|| {
        Diagnostic::error(
            value.span,
            format!("{what} must be {expected}, not {}", value.describe()),
        )
    })
}

/// Python identifiers as components and parameters need them (ASCII, not a keyword).
pub(crate) fn is_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// KFP's (and Vertex AI's) rule for pipeline names: `^[a-z0-9][a-z0-9-]{0,127}$`.
pub(crate) fn is_pipeline_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=128).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}
