//! Every Terraform file we write, read back by another HCL implementation (hcl-rs) and compared
//! with the document model it was written from: the blocks, their labels, the attributes in
//! order and every expression, strings compared as the text they stand for (escapes decoded,
//! `$${` read as a literal `${`) and interpolations as the expressions they hold. The runner
//! module's static files are parsed too.

use std::collections::BTreeMap;

use super::hcl::{Expr, Item, Part};

/// An expression as both sides can say it.
#[derive(Debug, PartialEq)]
enum Node {
    Bool(bool),
    Number(String),
    /// A string or template: its literal text and interpolations, adjacent literals joined.
    Text(Vec<Piece>),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
    /// Anything else (references, calls, conditionals), as hcl-rs parses it.
    Other(String),
}

#[derive(Debug, PartialEq)]
enum Piece {
    Literal(String),
    Interpolation(Node),
}

#[derive(Debug, PartialEq)]
enum Structure {
    Attribute(String, Node),
    Block(String, Vec<String>, Vec<Structure>),
}

fn push_literal(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Literal(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Literal(text.to_owned()));
    }
}

/// An expression hcl-rs parsed.
fn parsed(expr: &hcl::Expression) -> Node {
    use hcl::Expression as E;
    match expr {
        E::Bool(b) => Node::Bool(*b),
        E::Number(n) => Node::Number(n.to_string()),
        E::String(s) => {
            let mut pieces = Vec::new();
            push_literal(&mut pieces, s);
            Node::Text(pieces)
        }
        E::TemplateExpr(template) => {
            let template = hcl::Template::from_expr(template).expect("a template hcl-rs reads");
            let mut pieces = Vec::new();
            for element in template.elements() {
                match element {
                    hcl::template::Element::Literal(text) => push_literal(&mut pieces, text),
                    hcl::template::Element::Interpolation(i) => {
                        pieces.push(Piece::Interpolation(parsed(&i.expr)));
                    }
                    hcl::template::Element::Directive(d) => {
                        panic!("we write no template directives: {d:?}")
                    }
                }
            }
            Node::Text(pieces)
        }
        E::Array(items) => Node::List(items.iter().map(parsed).collect()),
        E::Object(object) => Node::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        hcl::ObjectKey::Identifier(id) => id.as_str().to_owned(),
                        hcl::ObjectKey::Expression(E::String(s)) => s.clone(),
                        other => panic!("we write no such key: {other:?}"),
                    };
                    (key, parsed(value))
                })
                .collect(),
        ),
        other => Node::Other(format!("{other:?}")),
    }
}

/// Parses the text of one expression, as we write it raw.
fn expression(text: &str) -> hcl::Expression {
    let body = hcl::parse(&format!("x = {text}\n"))
        .unwrap_or_else(|e| panic!("`{text}` is not an HCL expression: {e}"));
    match body.into_iter().next() {
        Some(hcl::Structure::Attribute(attribute)) => attribute.expr,
        other => panic!("`{text}`: {other:?}"),
    }
}

/// An expression of our model.
fn meant(expr: &Expr) -> Node {
    match expr {
        Expr::Template(parts) => {
            let mut pieces = Vec::new();
            for part in parts {
                match part {
                    Part::Literal(text) => push_literal(&mut pieces, text),
                    Part::Interpolation(text) => {
                        pieces.push(Piece::Interpolation(parsed(&expression(text))));
                    }
                }
            }
            Node::Text(pieces)
        }
        Expr::Raw(text) => parsed(&expression(text)),
        Expr::Bool(b) => Node::Bool(*b),
        Expr::Number(n) => Node::Number(n.to_string()),
        Expr::List(items) => Node::List(items.iter().map(meant).collect()),
        Expr::Object(entries) => Node::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), meant(value)))
                .collect(),
        ),
    }
}

fn parsed_body(body: &hcl::Body) -> Vec<Structure> {
    body.iter()
        .map(|structure| match structure {
            hcl::Structure::Attribute(a) => {
                Structure::Attribute(a.key.as_str().to_owned(), parsed(&a.expr))
            }
            hcl::Structure::Block(b) => Structure::Block(
                b.identifier.as_str().to_owned(),
                b.labels
                    .iter()
                    .map(|label| match label {
                        hcl::BlockLabel::Identifier(id) => id.as_str().to_owned(),
                        hcl::BlockLabel::String(s) => s.clone(),
                    })
                    .collect(),
                parsed_body(&b.body),
            ),
        })
        .collect()
}

fn meant_body(items: &[Item]) -> Vec<Structure> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Attribute(key, value) => Some(Structure::Attribute(key.clone(), meant(value))),
            Item::Block(block) => Some(Structure::Block(
                block.kind.clone(),
                block.labels.clone(),
                meant_body(&block.items),
            )),
            Item::Blank | Item::Comment(_) => None,
        })
        .collect()
}

/// The analyses of every example, and of the first under each option that changes what
/// Terraform holds.
fn analyses() -> Vec<crate::analyze::Analysis> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        for inner in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            let inner = inner.unwrap().path();
            if inner.extension().is_some_and(|e| e == "ipynb") {
                paths.push(inner);
            }
        }
    }
    paths.sort();
    let notebooks: Vec<_> = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            crate::notebook::Notebook::parse("n.ipynb", &text).unwrap()
        })
        .collect();
    let variants: &[&[(&str, &str)]] = &[
        &[],
        &[("run_local", "true"), ("schedule", "No Schedule Specified")],
        &[("run_local", "false"), ("schedule", "0 3 * * *")],
        &[
            ("run_local", "false"),
            ("source_repo_type", "github"),
            ("github_repo", "my-org/beans"),
            (
                "github_connection",
                "projects/my-project/locations/us-central1/connections/gh",
            ),
        ],
        &[
            ("run_local", "false"),
            (
                "pipeline_runner_sa",
                "runner@shared-project.iam.gserviceaccount.com",
            ),
        ],
        &[("run_local", "false"), ("naming_prefix", "beans")],
    ];
    let mut analyses = Vec::new();
    for (i, notebook) in notebooks.iter().enumerate() {
        for (v, variant) in variants.iter().enumerate() {
            if v > 0 && i > 0 {
                continue;
            }
            let flags: BTreeMap<String, String> = variant
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let inputs = crate::analyze::Inputs {
                flags: &flags,
                pipeline_params: None,
                parameters: &[],
                options_call: None,
                files: None,
            };
            let mut diagnostics = crate::diagnostic::Diagnostics::default();
            let parsed = crate::python::parse_notebook(notebook);
            if let Some(analysis) =
                crate::analyze::analyze(notebook, parsed, &inputs, &mut diagnostics)
                && !diagnostics.has_errors()
            {
                analyses.push(analysis);
            }
        }
    }
    analyses
}

#[test]
fn every_terraform_file_reads_back_as_the_model_it_was_written_from() {
    let analyses = analyses();
    assert!(analyses.len() >= 10, "only {} analyses", analyses.len());
    let mut compared = 0;
    for analysis in &analyses {
        let plan = super::plan(analysis);
        for (name, items) in super::documents(&plan) {
            let text = super::hcl::file(&items);
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(parsed_body(&body), meant_body(&items), "{name}:\n{text}");
            compared += 1;
        }
    }
    for (path, text) in super::MODULES {
        hcl::parse(text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    assert!(compared >= 50, "only {compared} files compared");
}

/// Strings that mean something to HCL (`${`, `%{`, quotes, backslashes, newlines) read back
/// as the text they were, not as templates.
#[test]
fn strings_read_back_as_their_text() {
    let tricky = "a ${b} %{c} $${d} \"q\" \\ back\nline\ttab é";
    let items = vec![Item::Attribute("x".to_owned(), Expr::str(tricky))];
    let body = hcl::parse(&super::hcl::file(&items)).unwrap();
    assert_eq!(parsed_body(&body), meant_body(&items));
    assert_eq!(
        meant_body(&items),
        [Structure::Attribute(
            "x".to_owned(),
            Node::Text(vec![Piece::Literal(tricky.to_owned())])
        )]
    );
}
