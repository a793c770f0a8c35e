//! Renders diagnostics for people: `error: ...`, the notebook cell, line and column, the source
//! line with the span underlined, and `help:` lines. Colour only when writing to a terminal.

use std::fmt::Write as _;

use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::notebook::Notebook;

/// Where a span is, as people count: 1-based cell (all cells count), line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub cell: usize,
    pub line: usize,
    pub column: usize,
}

#[must_use]
pub fn locate(notebook: &Notebook, span: Span) -> Option<(Location, &str)> {
    let cell = notebook.cells.get(span.cell)?;
    let source = &cell.source;
    let start = span.start.min(source.len());
    let before = source.get(..start)?;
    let (line, line_start) = cell.line_of(start);
    let line = line + 1;
    let column = before[line_start..].chars().count() + 1;
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    Some((
        Location {
            cell: span.cell + 1,
            line,
            column,
        },
        source[line_start..line_end].trim_end_matches('\r'),
    ))
}

#[must_use]
pub fn render(notebook: &Notebook, diagnostic: &Diagnostic, color: bool) -> String {
    let (bold, red, yellow, blue, reset) = if color {
        (
            "\x1b[1m",
            "\x1b[1;31m",
            "\x1b[1;33m",
            "\x1b[1;34m",
            "\x1b[0m",
        )
    } else {
        ("", "", "", "", "")
    };
    let severity_color = match diagnostic.severity {
        Severity::Error => red,
        Severity::Warning => yellow,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{severity_color}{}{reset}{bold}: {}{reset}",
        diagnostic.severity, diagnostic.message
    );
    if let Some(span) = diagnostic.span
        && let Some((location, text)) = locate(notebook, span)
    {
        let gutter = " ".repeat(location.line.to_string().len());
        let _ = writeln!(
            out,
            "{gutter}{blue}-->{reset} {}, cell {}, line {}, column {}",
            notebook.name, location.cell, location.line, location.column
        );
        let _ = writeln!(out, "{gutter} {blue}|{reset}");
        // Tabs are shown as four spaces, so the caret lines up under the span.
        let shown = text.replace('\t', "    ");
        let _ = writeln!(out, "{blue}{}{reset} {blue}|{reset} {shown}", location.line);
        let indent: usize = text
            .chars()
            .take(location.column - 1)
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum();
        let first_line_len = text.chars().count().saturating_sub(location.column - 1);
        let width = notebook.cells[span.cell]
            .source
            .get(span.start..span.end)
            .map_or(1, |s| s.chars().count())
            .clamp(1, first_line_len.max(1));
        let _ = writeln!(
            out,
            "{gutter} {blue}|{reset} {}{severity_color}{}{reset}",
            " ".repeat(indent),
            "^".repeat(width)
        );
    }
    for hint in &diagnostic.hints {
        let _ = writeln!(out, "  {blue}= help:{reset} {hint}");
    }
    out
}
