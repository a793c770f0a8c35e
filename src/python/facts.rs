//! Facts gathered by walking a whole statement, nested blocks included: the names it reads and
//! the modules it imports. Used to keep only the imports a component needs and to derive its
//! requirements.

use std::collections::{BTreeMap, BTreeSet};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as py, ExprContext};
use ruff_text_size::Ranged;

use crate::diagnostic::Span;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    /// Every name read anywhere in the statement, with where it is first read.
    pub(crate) used_names: BTreeMap<String, Span>,
    /// Every name the statement binds anywhere: assignment and loop targets, function, class
    /// and parameter names, imports, `except ... as`, `with ... as`, match captures.
    pub(crate) bound_names: BTreeSet<String>,
    /// Whether a `from x import *` hides what is bound.
    pub(crate) star_import: bool,
    /// Every imported module, as written (`sklearn.tree`, `google.cloud.bigquery` for
    /// `from google.cloud import bigquery`), with where.
    pub(crate) imported_modules: Vec<(String, Span)>,
    /// The first construct that means something else, or nothing, inside a function body than
    /// at the top of a module: `from x import *`, `from __future__ import ...`, and `yield` or
    /// `await` outside any function of the statement. A custom component's code becomes a
    /// function's body.
    pub(crate) module_level_only: Option<(Span, ModuleLevelOnly)>,
}

/// What [`Facts::module_level_only`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModuleLevelOnly {
    StarImport,
    FutureImport,
    Yield,
    Await,
}

impl Facts {
    /// Adds the facts of a later statement.
    pub(crate) fn merge(&mut self, later: &Facts) {
        for (name, span) in &later.used_names {
            self.used_names.entry(name.clone()).or_insert(*span);
        }
        self.bound_names.extend(later.bound_names.iter().cloned());
        self.imported_modules
            .extend(later.imported_modules.iter().cloned());
        self.star_import |= later.star_import;
        self.module_level_only = self.module_level_only.or(later.module_level_only);
    }
}

struct Collector {
    cell: usize,
    facts: Facts,
    /// How many functions (and lambdas) of the statement enclose the node being visited.
    functions: usize,
}

impl Collector {
    fn span(&self, range: ruff_text_size::TextRange) -> Span {
        Span::new(self.cell, range.start().to_usize(), range.end().to_usize())
    }

    fn bind(&mut self, name: &str) {
        self.facts.bound_names.insert(name.to_owned());
    }

    fn module_level_only(&mut self, range: ruff_text_size::TextRange, what: ModuleLevelOnly) {
        if self.facts.module_level_only.is_none() {
            self.facts.module_level_only = Some((self.span(range), what));
        }
    }
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a py::Stmt) {
        let span = self.span(stmt.range());
        match stmt {
            py::Stmt::Import(import) => {
                for alias in &import.names {
                    self.facts
                        .imported_modules
                        .push((alias.name.as_str().to_owned(), span));
                    let binding = alias.asname.as_ref().map_or_else(
                        || alias.name.as_str().split('.').next().unwrap_or_default(),
                        |a| a.as_str(),
                    );
                    self.bind(binding);
                }
            }
            py::Stmt::ImportFrom(import) => {
                if import
                    .module
                    .as_ref()
                    .is_some_and(|m| m.as_str() == "__future__")
                {
                    self.module_level_only(import.range(), ModuleLevelOnly::FutureImport);
                }
                for alias in &import.names {
                    if alias.name.as_str() == "*" {
                        self.facts.star_import = true;
                        self.module_level_only(import.range(), ModuleLevelOnly::StarImport);
                    } else {
                        let binding = alias
                            .asname
                            .as_ref()
                            .unwrap_or(&alias.name)
                            .as_str()
                            .to_owned();
                        self.bind(&binding);
                    }
                }
                if import.level == 0
                    && let Some(module) = &import.module
                {
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
            py::Stmt::FunctionDef(def) => {
                self.bind(def.name.as_str());
                self.functions += 1;
                walk_stmt(self, stmt);
                self.functions -= 1;
                return;
            }
            py::Stmt::ClassDef(class) => self.bind(class.name.as_str()),
            py::Stmt::Global(global) => {
                for name in &global.names {
                    self.bind(name.as_str());
                }
            }
            py::Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    self.bind(name.as_str());
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a py::Expr) {
        if let py::Expr::Name(name) = expr {
            if name.ctx == ExprContext::Load {
                let span = self.span(name.range());
                self.facts
                    .used_names
                    .entry(name.id.as_str().to_owned())
                    .or_insert(span);
            } else {
                self.bind(name.id.as_str());
            }
        }
        if let py::Expr::Named(named) = expr
            && let py::Expr::Name(name) = named.target.as_ref()
        {
            self.bind(name.id.as_str());
        }
        if self.functions == 0 {
            match expr {
                py::Expr::Yield(_) | py::Expr::YieldFrom(_) => {
                    self.module_level_only(expr.range(), ModuleLevelOnly::Yield);
                }
                py::Expr::Await(_) => self.module_level_only(expr.range(), ModuleLevelOnly::Await),
                _ => {}
            }
        }
        if let py::Expr::Lambda(_) = expr {
            self.functions += 1;
            walk_expr(self, expr);
            self.functions -= 1;
            return;
        }
        walk_expr(self, expr);
    }

    fn visit_parameter(&mut self, parameter: &'a py::Parameter) {
        self.bind(parameter.name.as_str());
        ruff_python_ast::visitor::walk_parameter(self, parameter);
    }

    fn visit_except_handler(&mut self, handler: &'a py::ExceptHandler) {
        let py::ExceptHandler::ExceptHandler(handler_inner) = handler;
        if let Some(name) = &handler_inner.name {
            self.bind(name.as_str());
        }
        ruff_python_ast::visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a py::Pattern) {
        match pattern {
            py::Pattern::MatchAs(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            py::Pattern::MatchStar(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            py::Pattern::MatchMapping(p) => {
                if let Some(name) = &p.rest {
                    self.bind(name.as_str());
                }
            }
            _ => {}
        }
        ruff_python_ast::visitor::walk_pattern(self, pattern);
    }
}

pub(super) fn collect(cell: usize, stmt: &py::Stmt) -> Facts {
    let mut collector = Collector {
        cell,
        facts: Facts::default(),
        functions: 0,
    };
    // A function's decorators are not part of the code that runs (components are emitted
    // without them), so their names do not count.
    // The walk of a function definition, without its decorators (`walk_stmt` without the
    // first step), instead of walking a copy with the decorators removed.
    if let py::Stmt::FunctionDef(def) = stmt {
        collector.bind(def.name.as_str());
        if let Some(type_params) = &def.type_params {
            collector.visit_type_params(type_params);
        }
        collector.visit_parameters(&def.parameters);
        if let Some(returns) = &def.returns {
            collector.visit_annotation(returns);
        }
        collector.functions += 1;
        collector.visit_body(&def.body);
    } else {
        collector.visit_stmt(stmt);
    }
    collector.facts
}
