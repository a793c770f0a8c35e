//! A small HCL document model and its writer. The output is exactly what `terraform fmt`
//! writes (hclwrite's rules: two-space indent; `=` aligned across a run of consecutive
//! single-line attributes, a run broken by a blank line, a comment, a block, or a multi-line
//! value). Every string from the notebook goes through [`escape`], so `${...}`, `%{...}`,
//! quotes and newlines in a value stay data.
//!
//! Why not hcl-rs's document types: they hold no comments and no blank lines, and the files we
//! write explain each resource with comments and group attributes as `terraform fmt` keeps
//! them; so the model and the writer stay ours, and hcl-rs is the independent reader: every
//! file written from this model is parsed back with it and compared with the model
//! (`parse_back.rs`).

use std::fmt::Write as _;

/// An expression on the right of `=`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A quoted template: literal text (escaped on output) and `${...}` interpolations.
    Template(Vec<Part>),
    /// An expression we write ourselves: a reference (`var.region`), a call (`toset(...)`).
    /// Never built from notebook text.
    Raw(String),
    Bool(bool),
    Number(i64),
    List(Vec<Expr>),
    /// Always written over several lines, one attribute per line.
    Object(Vec<(String, Expr)>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Literal(String),
    Interpolation(String),
}

impl Expr {
    pub(crate) fn str(text: impl Into<String>) -> Self {
        Expr::Template(vec![Part::Literal(text.into())])
    }

    pub(crate) fn raw(text: impl Into<String>) -> Self {
        Expr::Raw(text.into())
    }

    /// `"text${expr}text..."` from alternating parts.
    pub(crate) fn template(parts: Vec<Part>) -> Self {
        Expr::Template(parts)
    }

    /// The expression on one line, as it appears inside another expression.
    pub(crate) fn inline(&self) -> String {
        let mut out = String::new();
        self.write_single_line(&mut out);
        out
    }

    fn is_multiline(&self) -> bool {
        match self {
            Expr::Object(entries) => !entries.is_empty(),
            Expr::List(items) => {
                self.single_line_len() > 80 || items.iter().any(Expr::is_multiline)
            }
            _ => false,
        }
    }

    fn single_line_len(&self) -> usize {
        let mut out = String::new();
        self.write_single_line(&mut out);
        out.len()
    }

    fn write_single_line(&self, out: &mut String) {
        match self {
            Expr::Template(parts) => {
                out.push('"');
                for part in parts {
                    match part {
                        Part::Literal(text) => out.push_str(&escape(text)),
                        Part::Interpolation(expr) => {
                            let _ = write!(out, "${{{expr}}}");
                        }
                    }
                }
                out.push('"');
            }
            Expr::Raw(text) => out.push_str(text),
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Expr::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Expr::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_single_line(out);
                }
                out.push(']');
            }
            Expr::Object(entries) if entries.is_empty() => out.push_str("{}"),
            Expr::Object(_) => {}
        }
    }

    fn write(&self, out: &mut String, indent: usize) {
        if !self.is_multiline() {
            self.write_single_line(out);
            return;
        }
        let inner = "  ".repeat(indent + 1);
        match self {
            Expr::List(items) => {
                out.push_str("[\n");
                for item in items {
                    out.push_str(&inner);
                    item.write(out, indent + 1);
                    out.push_str(",\n");
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
            }
            Expr::Object(entries) => {
                out.push_str("{\n");
                let items: Vec<Item> = entries
                    .iter()
                    .map(|(key, value)| Item::Attribute(object_key(key), value.clone()))
                    .collect();
                write_items(out, &items, indent + 1);
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
            _ => self.write_single_line(out),
        }
    }
}

/// An object key: bare when it is an identifier, quoted otherwise (`"Content-Type"`).
fn object_key(key: &str) -> String {
    let identifier = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if identifier {
        key.to_owned()
    } else {
        format!("\"{}\"", escape(key))
    }
}

/// The body of a quoted HCL string for `text`: quotes, backslashes and control characters
/// escaped, and template sequences (`${`, `%{`) doubled so they stay literal.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(ch);
                out.push(ch);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One line (or construct) of a body.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Item {
    Attribute(String, Expr),
    Block(Block),
    Blank,
    Comment(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Block {
    pub(crate) kind: String,
    pub(crate) labels: Vec<String>,
    pub(crate) items: Vec<Item>,
}

impl Block {
    pub(crate) fn new(kind: &str, labels: &[&str]) -> Self {
        Self {
            kind: kind.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            items: Vec::new(),
        }
    }

    #[must_use]
    pub(crate) fn attr(mut self, key: &str, value: Expr) -> Self {
        self.items.push(Item::Attribute(key.to_owned(), value));
        self
    }

    #[must_use]
    pub(crate) fn blank(mut self) -> Self {
        self.items.push(Item::Blank);
        self
    }

    #[must_use]
    pub(crate) fn comment(mut self, text: &str) -> Self {
        self.items.push(Item::Comment(text.to_owned()));
        self
    }

    /// Adds a nested block, separated from what precedes it by a blank line, as
    /// `terraform fmt`-formatted code usually is.
    #[must_use]
    pub(crate) fn block(mut self, block: Block) -> Self {
        if !self.items.is_empty() && self.items.last() != Some(&Item::Blank) {
            self.items.push(Item::Blank);
        }
        self.items.push(Item::Block(block));
        self
    }
}

/// A whole file: top-level items, written with a blank line between blocks.
pub(crate) fn file(items: &[Item]) -> String {
    let mut out = String::new();
    write_items(&mut out, items, 0);
    out
}

fn write_items(out: &mut String, items: &[Item], indent: usize) {
    let pad = "  ".repeat(indent);
    let mut index = 0;
    while index < items.len() {
        match &items[index] {
            Item::Attribute(..) => {
                // A run of single-line attributes is aligned on `=`.
                let run_end = items[index..]
                    .iter()
                    .position(
                        |item| !matches!(item, Item::Attribute(_, value) if !value.is_multiline()),
                    )
                    .map_or(items.len(), |offset| index + offset);
                if run_end == index {
                    // A multi-line attribute stands alone.
                    if let Item::Attribute(key, value) = &items[index] {
                        let _ = write!(out, "{pad}{key} = ");
                        value.write(out, indent);
                        out.push('\n');
                    }
                    index += 1;
                    continue;
                }
                let width = items[index..run_end]
                    .iter()
                    .map(|item| match item {
                        Item::Attribute(key, _) => key.chars().count(),
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for item in &items[index..run_end] {
                    if let Item::Attribute(key, value) = item {
                        let spaces = width - key.chars().count();
                        let _ = write!(out, "{pad}{key}{} = ", " ".repeat(spaces));
                        value.write(out, indent);
                        out.push('\n');
                    }
                }
                index = run_end;
            }
            Item::Block(block) => {
                out.push_str(&pad);
                out.push_str(&block.kind);
                for label in &block.labels {
                    let _ = write!(out, " \"{}\"", escape(label));
                }
                if block.items.is_empty() {
                    out.push_str(" {}\n");
                } else {
                    out.push_str(" {\n");
                    write_items(out, &block.items, indent + 1);
                    out.push_str(&pad);
                    out.push_str("}\n");
                }
                index += 1;
            }
            Item::Blank => {
                out.push('\n');
                index += 1;
            }
            Item::Comment(text) => {
                let _ = writeln!(out, "{pad}# {text}");
                index += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_align_in_runs_broken_by_multiline_values() {
        let block = Block::new("resource", &["google_storage_bucket", "b"])
            .attr("name", Expr::str("x"))
            .attr("uniform_bucket_level_access", Expr::Bool(true))
            .attr(
                "labels",
                Expr::Object(vec![
                    ("managed-by".into(), Expr::str("automlops")),
                    ("env".into(), Expr::raw("var.env")),
                ]),
            )
            .attr("location", Expr::raw("var.region"))
            .block(Block::new("versioning", &[]).attr("enabled", Expr::Bool(true)));
        assert_eq!(
            file(&[Item::Block(block)]),
            r#"resource "google_storage_bucket" "b" {
  name                        = "x"
  uniform_bucket_level_access = true
  labels = {
    managed-by = "automlops"
    env        = var.env
  }
  location = var.region

  versioning {
    enabled = true
  }
}
"#
        );
    }

    #[test]
    fn notebook_strings_stay_literal() {
        assert_eq!(
            escape("a \"b\" ${var.x} %{ if } \\ \n"),
            r#"a \"b\" $${var.x} %%{ if } \\ \n"#
        );
        let expr = Expr::template(vec![
            Part::Literal("gs://".into()),
            Part::Interpolation("var.bucket".into()),
            Part::Literal("/${x}".into()),
        ]);
        let mut out = String::new();
        expr.write(&mut out, 0);
        assert_eq!(out, r#""gs://${var.bucket}/$${x}""#);
    }

    #[test]
    fn long_lists_break_one_item_per_line() {
        let items: Vec<Expr> = (0..12)
            .map(|i| Expr::str(format!("service-{i}.googleapis.com")))
            .collect();
        let text = file(&[Item::Attribute("services".into(), Expr::List(items))]);
        assert!(text.starts_with("services = [\n  \"service-0.googleapis.com\",\n"));
        assert!(text.ends_with("\",\n]\n"));
    }
}
