//! Phase 2: Python. One cell's Python text in, our small [`ast`] view out.
//!
//! This is the only module that knows the parser crate (ruff's `ruff_python_parser`, chosen for
//! its typed AST, its error recovery that reports every syntax error of a cell, and its
//! maintenance; see README). Swapping parsers touches this folder only.

pub(crate) mod ast;
mod convert;
mod facts;
mod semantic;
pub(crate) use semantic::CellScope;

pub(crate) use facts::{Facts, ModuleLevelOnly};

use std::panic::{AssertUnwindSafe, catch_unwind};

use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::Ranged;

use crate::diagnostic::{Diagnostic, Span};

/// `repr(float)` for the values notebooks use: `1.0`, `0.1`, `1e-05`.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else if f.is_finite() && f.abs() >= 1e-4 && f.abs() < 1e16 {
        format!("{f}")
    } else if f.is_nan() {
        "nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        }
    }
}

/// Every cell of a notebook, parsed: `Some(statements)` for a Python cell that parsed, `None`
/// for other cells and for cells with syntax errors (whose errors are in `diagnostics`).
#[derive(Debug, Default)]
pub(crate) struct ParsedNotebook {
    pub(crate) cells: Vec<Option<Vec<TopLevel>>>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl ParsedNotebook {
    /// Whether some Python cell could not be parsed.
    pub(crate) fn has_syntax_errors(&self) -> bool {
        !self.diagnostics.is_empty()
    }
}

/// Parses every Python cell of the notebook.
pub(crate) fn parse_notebook(notebook: &crate::notebook::Notebook) -> ParsedNotebook {
    let cells: Vec<(usize, &crate::notebook::Cell)> = notebook.cells.iter().enumerate().collect();
    let results = crate::parallel::map(&cells, |(index, cell)| {
        // A `%%define_component` cell's code becomes a function's body.
        let top = if cell.magic == Some(crate::notebook::CellMagic::DefineComponent) {
            semantic::CellScope::FunctionBody
        } else {
            semantic::CellScope::Notebook
        };
        cell.is_python().then(|| {
            // Errors are found in the cell's Python, where IPython lines are spaces; they are
            // shown on its source, where a blanked character may be several bytes wide.
            parse_cell(*index, &cell.python, top).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|mut error| {
                        if let Some(span) = &mut error.span {
                            span.start = clamp_to_char_boundary(&cell.source, span.start);
                            span.end =
                                clamp_to_char_boundary(&cell.source, span.end).max(span.start);
                        }
                        error
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let mut parsed = ParsedNotebook::default();
    for result in results {
        match result {
            Some(Ok(stmts)) => parsed.cells.push(Some(stmts)),
            Some(Err(errors)) => {
                parsed.diagnostics.extend(errors);
                parsed.cells.push(None);
            }
            None => parsed.cells.push(None),
        }
    }
    parsed
}

/// A top-level statement of a cell with the facts of its whole subtree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TopLevel {
    pub(crate) stmt: ast::Stmt,
    pub(crate) facts: Facts,
}

/// Parses one cell. `text` is the cell's Python (`IPython` lines already blanked). Returns the
/// statements, or every syntax error in the cell.
pub(crate) fn parse_cell(
    cell: usize,
    text: &str,
    top: semantic::CellScope,
) -> Result<Vec<TopLevel>, Vec<Diagnostic>> {
    // CPython's tokenizer refuses more than 200 nested brackets; refusing them here too keeps
    // the parser's recursion (and its stack) bounded on any input.
    if let Some(at) = too_deeply_nested(text) {
        return Err(vec![
            Diagnostic::error(
                Span::new(cell, at, at + 1),
                format!(
                    "Python syntax error: too many nested parentheses (Python allows {MAX_NESTING})"
                ),
            )
            .with_hint("split the expression into named parts"),
        ]);
    }
    // Guard against parser panics on pathological input (ruff has had such bugs, e.g.
    // astral-sh/ruff#21705): a panic in a dependency must become a diagnostic, not a crash.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let options = ParseOptions::from(Mode::Module)
            .with_target_version(ruff_python_ast::PythonVersion::PY313);
        parse_unchecked(text, options)
    }));
    let Ok(parsed) = parsed else {
        return Err(vec![
            Diagnostic::error(
                Span::new(cell, 0, 0),
                "the Python parser failed on this cell",
            )
            .with_hint("this is a bug in automlops; please report it with the cell's text"),
        ]);
    };
    if !parsed.errors().is_empty() {
        return Err(syntax_errors(cell, text, &parsed));
    }
    let module = parsed.into_syntax();
    let Some(module) = module.as_module() else {
        return Ok(Vec::new());
    };
    // What CPython's compiler refuses beyond the grammar.
    let refused = semantic::errors(text, &module.body, top);
    if !refused.is_empty() {
        return Err(refused
            .into_iter()
            .map(|(range, message)| {
                let start = clamp_to_char_boundary(text, range.start().to_usize());
                let end = clamp_to_char_boundary(text, range.end().to_usize()).max(start);
                Diagnostic::error(
                    Span::new(cell, start, end),
                    format!("Python syntax error: {}", lowercase_first(&message)),
                )
            })
            .collect());
    }
    let converter = convert::Converter { cell, text };
    Ok(module
        .body
        .iter()
        .map(|stmt| TopLevel {
            stmt: converter.stmt(stmt),
            facts: facts::collect(cell, stmt),
        })
        .collect())
}

/// Syntax errors worth showing. Error recovery reports the consequences of one mistake too
/// (`expected ','` on the next line, `unexpected EOF` after an unclosed bracket); an error on the
/// same or the next line of one already kept, and an end-of-file error after any other, are
/// left out, so each real mistake is reported once.
fn syntax_errors(
    cell: usize,
    text: &str,
    parsed: &ruff_python_parser::Parsed<ruff_python_ast::Mod>,
) -> Vec<Diagnostic> {
    // In the order they stand, each located by one binary search and one forward walk over
    // the tokens, so that a cell of many errors takes linear time.
    let mut errors: Vec<_> = parsed.errors().iter().collect();
    errors.sort_by_key(|error| error.range().start());
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |offset: usize| newlines.partition_point(|&n| n < offset);
    let mut brackets = Brackets::new(parsed);
    let mut kept: Vec<Diagnostic> = Vec::new();
    let mut last_line: Option<usize> = None;
    for error in errors {
        let range = error.range();
        let start = clamp_to_char_boundary(text, range.start().to_usize());
        let end = clamp_to_char_boundary(text, range.end().to_usize()).max(start);
        let line = line_of(start);
        let unclosed = brackets.unclosed_before(start);
        let message = lowercase_first(&error.error.to_string());
        let cascade = last_line.is_some_and(|last| line <= last + 1)
            || (!kept.is_empty() && message.contains("EOF"));
        if cascade {
            continue;
        }
        last_line = Some(line);
        // An error on a later line than an unclosed bracket is the bracket's fault, and the
        // bracket is where the fix goes (CPython says the same: "'(' was never closed").
        if let Some((open, bracket)) = unclosed
            && line_of(open) < line
        {
            kept.push(
                Diagnostic::error(
                    Span::new(cell, open, open + 1),
                    format!("Python syntax error: `{bracket}` was never closed"),
                )
                .with_hint(format!("Python noticed at line {}: {message}", line + 1)),
            );
            continue;
        }
        kept.push(Diagnostic::error(
            Span::new(cell, start, end),
            format!("Python syntax error: {message}"),
        ));
    }
    kept
}

/// The brackets open at a point of the cell, walking its tokens forward once.
struct Brackets<'a> {
    tokens: std::slice::Iter<'a, ruff_python_ast::token::Token>,
    next: Option<&'a ruff_python_ast::token::Token>,
    open: Vec<(usize, char)>,
}

impl<'a> Brackets<'a> {
    fn new(parsed: &'a ruff_python_parser::Parsed<ruff_python_ast::Mod>) -> Self {
        let mut tokens = parsed.tokens().iter();
        let next = tokens.next();
        Self {
            tokens,
            next,
            open: Vec::new(),
        }
    }

    /// The innermost bracket opened before `offset` and not closed before it; `offset`s
    /// come in increasing order.
    fn unclosed_before(&mut self, offset: usize) -> Option<(usize, char)> {
        use ruff_python_ast::token::TokenKind;
        while let Some(token) = self.next
            && token.range().start().to_usize() < offset
        {
            let at = token.range().start().to_usize();
            match token.kind() {
                TokenKind::Lpar => self.open.push((at, '(')),
                TokenKind::Lsqb => self.open.push((at, '[')),
                TokenKind::Lbrace => self.open.push((at, '{')),
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                    self.open.pop();
                }
                _ => {}
            }
            self.next = self.tokens.next();
        }
        self.open.last().copied()
    }
}

/// `MAXLEVEL` of `CPython`'s tokenizer: brackets nest at most this deep.
const MAX_NESTING: usize = 200;

/// Where a bracket opens past [`MAX_NESTING`], if one does: brackets counted outside strings
/// and comments (a string, f-strings included, is skipped whole), in one pass.
fn too_deeply_nested(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'\'' | b'"') => {
                let triple = bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]);
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'\n' if !triple => break,
                        c if c == quote
                            && (!triple
                                || bytes.get(i..i + 3) == Some(&[quote, quote, quote][..])) =>
                        {
                            i += if triple { 2 } else { 0 };
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn clamp_to_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::ast::{Expr, Stmt};
    use super::*;

    /// An error in a blanked IPython line (spaces in the cell's Python) lies on the source's
    /// characters, however many bytes they take (a fuzz finding: U+2028 after a `%`).
    #[test]
    fn errors_in_blanked_lines_lie_on_the_source_characters() {
        let notebook = crate::notebook::Notebook::from_code_cells(
            "n.ipynb",
            &["@dsl.component\n%\u{2028}%define_component\ndef f():\n    pass\n"],
        );
        let parsed = parse_notebook(&notebook);
        assert!(!parsed.diagnostics.is_empty());
        let source = &notebook.cells[0].source;
        for diagnostic in &parsed.diagnostics {
            let span = diagnostic.span.expect("located");
            assert!(source.is_char_boundary(span.start) && source.is_char_boundary(span.end));
        }
    }

    #[test]
    fn brackets_nest_at_most_as_deep_as_cpython_allows() {
        let deep = |n: usize| format!("x = {}{}\n", "(".repeat(n), ")".repeat(n));
        assert_eq!(too_deeply_nested(&deep(200)), None);
        assert_eq!(too_deeply_nested(&deep(201)), Some(4 + 200));
        // Brackets in strings and comments do not count.
        let quoted = format!(
            "x = '{0}' + \"{0}\" + '''{0}\n{0}''' # {0}\ny = 1\n",
            "(".repeat(300)
        );
        assert_eq!(too_deeply_nested(&quoted), None);
        assert_eq!(too_deeply_nested("s = 'a\\'((' + ')'\n"), None);
        let errors = parse_cell(0, &deep(100_000), semantic::CellScope::Notebook).unwrap_err();
        assert!(
            errors[0].message.contains("too many nested parentheses"),
            "{errors:?}"
        );
    }

    #[test]
    fn every_syntax_error_of_a_cell_is_reported() {
        let errors = parse_cell(
            3,
            "def f(:\n    return\nx = = 1\n",
            semantic::CellScope::Notebook,
        )
        .unwrap_err();
        assert!(errors.len() >= 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.span.unwrap().cell == 3));
    }

    #[test]
    fn decorated_function_spans_cover_def_without_decorators() {
        let text = "@dsl.component(base_image='x')\ndef f(a: int = 1) -> str:\n    '''Doc.'''\n    return 'a'\n";
        let stmts = parse_cell(0, text, semantic::CellScope::Notebook).unwrap();
        let Stmt::FunctionDef(def) = &stmts[0].stmt else {
            panic!()
        };
        assert_eq!(def.name, "f");
        assert!(text[def.def_span.start..def.def_span.end].starts_with("def f("));
        assert_eq!(def.docstring.as_deref(), Some("Doc."));
        assert!(matches!(def.decorators[0], Expr::Call { .. }));
        assert_eq!(def.params[0].name, "a");
    }
}
