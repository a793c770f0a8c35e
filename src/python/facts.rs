//! Facts gathered by walking a whole statement, nested blocks included: the names it reads and
//! the modules it imports. Used to keep only the imports a component needs and to derive its
//! requirements.

use std::collections::BTreeSet;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as py, ExprContext};
use ruff_text_size::Ranged;

use crate::diagnostic::Span;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    /// Every name read anywhere in the statement.
    pub(crate) used_names: BTreeSet<String>,
    /// Every imported module, as written (`sklearn.tree`, `google.cloud.bigquery` for
    /// `from google.cloud import bigquery`), with where.
    pub(crate) imported_modules: Vec<(String, Span)>,
}

struct Collector {
    cell: usize,
    facts: Facts,
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a py::Stmt) {
        let span = Span::new(
            self.cell,
            stmt.range().start().to_usize(),
            stmt.range().end().to_usize(),
        );
        match stmt {
            py::Stmt::Import(import) => {
                for alias in &import.names {
                    self.facts
                        .imported_modules
                        .push((alias.name.as_str().to_owned(), span));
                }
            }
            py::Stmt::ImportFrom(import) if import.level == 0 => {
                if let Some(module) = &import.module {
                    for alias in &import.names {
                        // `from google.cloud import bigquery` may import a submodule; report the
                        // longest plausible module and let the requirements table decide.
                        let name = if alias.name.as_str() == "*" {
                            module.as_str().to_owned()
                        } else {
                            format!("{}.{}", module.as_str(), alias.name.as_str())
                        };
                        self.facts.imported_modules.push((name, span));
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a py::Expr) {
        if let py::Expr::Name(name) = expr
            && name.ctx == ExprContext::Load
        {
            self.facts.used_names.insert(name.id.as_str().to_owned());
        }
        walk_expr(self, expr);
    }
}

pub(super) fn collect(cell: usize, stmt: &py::Stmt) -> Facts {
    let mut collector = Collector {
        cell,
        facts: Facts::default(),
    };
    collector.visit_stmt(stmt);
    collector.facts
}
