//! Mistakes in the user's notebook, located by cell and byte range.
//!
//! Every phase reports problems as [`Diagnostic`]s and keeps going, so one run shows all of them.
//! Rendering (cell, line, column, source frame, `help:`) happens once, at the edge, in
//! [`crate::render`]; nothing here knows about terminals.

use std::fmt;

/// A byte range inside one notebook cell. `cell` is the 0-based index of the cell in the
/// notebook (markdown and raw cells count), `start..end` a byte range of that cell's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub cell: usize,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(crate) fn new(cell: usize, start: usize, end: usize) -> Self {
        Self { cell, start, end }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem with the notebook. `span` is `None` for problems that belong to no source
/// location, such as a missing `AutoMLOps.go(...)` call.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Option<Span>,
    pub message: String,
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub(crate) fn error(span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span: span.into(),
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub(crate) fn warning(span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(span, message)
        }
    }

    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Adds a hint only when there is one, as did-you-mean suggestions sometimes are not.
    #[must_use]
    pub(crate) fn with_optional_hint(self, hint: Option<String>) -> Self {
        match hint {
            Some(hint) => self.with_hint(hint),
            None => self,
        }
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects diagnostics across a phase so that one run reports all of them.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub(crate) fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    pub(crate) fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Diagnostics in notebook order (by cell, then position), errors before warnings at the
    /// same place, so output is stable whatever order the checks ran in.
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.span.is_some(), a.span, a.severity).cmp(&(b.span.is_some(), b.span, b.severity))
        });
        self.items.dedup();
        self.items
    }
}
