//! The syntax errors `CPython` reports when it compiles, beyond what the parser sees: a `break`
//! outside a loop, `return` in a class body, a parameter named twice, `*a = [1, 2]`, `await`
//! outside an `async` function, `nonlocal x` with no `x` to bind, a NUL character. ruff's
//! `SemanticSyntaxChecker` knows these rules; it needs to be walked over the tree with the
//! scope it is in, which this module does.
//!
//! A notebook runs under IPython, which allows `await` at the top level of a cell; a
//! `%%define_component` cell's code becomes the body of a function, where `return` is allowed
//! (and where analysis reports a top-level `yield`, `await`, `import *` or `__future__`
//! import in its own words).

use std::cell::RefCell;
use std::collections::HashSet;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, PythonVersion, Stmt};
use ruff_python_parser::semantic_errors::{
    SemanticSyntaxChecker, SemanticSyntaxContext, SemanticSyntaxError,
};
use ruff_text_size::{Ranged, TextRange};

/// Where the cell's top level is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellScope {
    /// A module run by IPython: top-level `await` is allowed.
    Notebook,
    /// The body of a (synchronous) function.
    FunctionBody,
}

#[derive(Debug)]
enum Scope {
    Module,
    Function {
        is_async: bool,
        parameters: HashSet<String>,
        bindings: HashSet<String>,
    },
    Lambda,
    Class,
    Comprehension {
        is_async: bool,
        is_generator: bool,
    },
}

struct Context<'a> {
    source: &'a str,
    /// Innermost last; each with how many loops enclose the point within it.
    scopes: Vec<(Scope, usize)>,
    errors: RefCell<Vec<SemanticSyntaxError>>,
    /// The cell's code is a function's body (`%%define_component`).
    function_body: bool,
}

impl Context<'_> {
    fn innermost(&self) -> &Scope {
        self.scopes
            .last()
            .map_or(&Scope::Module, |(scope, _)| scope)
    }

    /// The innermost scope that is not a comprehension.
    fn enclosing(&self) -> &Scope {
        self.scopes
            .iter()
            .rev()
            .map(|(scope, _)| scope)
            .find(|scope| !matches!(scope, Scope::Comprehension { .. }))
            .unwrap_or(&Scope::Module)
    }
}

impl SemanticSyntaxContext for Context<'_> {
    fn future_annotations_or_stub(&self) -> bool {
        false
    }

    fn lazy_import_context(
        &self,
    ) -> Option<ruff_python_parser::semantic_errors::LazyImportContext> {
        None
    }

    fn python_version(&self) -> PythonVersion {
        PythonVersion::PY313
    }

    fn source(&self) -> &str {
        self.source
    }

    fn global(&self, _name: &str) -> Option<TextRange> {
        None
    }

    fn has_nonlocal_binding(&self, name: &str) -> bool {
        // A function enclosing the current one binds it.
        self.scopes
            .iter()
            .rev()
            .skip(1)
            .any(|(scope, _)| matches!(scope, Scope::Function { bindings, parameters, .. } if bindings.contains(name) || parameters.contains(name)))
    }

    fn in_async_context(&self) -> bool {
        matches!(self.enclosing(), Scope::Function { is_async: true, .. })
    }

    fn in_await_allowed_context(&self) -> bool {
        match self.enclosing() {
            Scope::Function { is_async, .. } => *is_async,
            // IPython runs a cell's top-level `await`.
            Scope::Module => true,
            Scope::Lambda | Scope::Class | Scope::Comprehension { .. } => false,
        }
    }

    fn in_yield_allowed_context(&self) -> bool {
        matches!(self.enclosing(), Scope::Function { .. } | Scope::Lambda)
    }

    fn in_sync_comprehension(&self) -> bool {
        self.scopes.iter().any(|(scope, _)| {
            matches!(
                scope,
                Scope::Comprehension {
                    is_async: false,
                    ..
                }
            )
        })
    }

    fn in_class_body_comprehension(&self) -> bool {
        matches!(self.innermost(), Scope::Comprehension { .. })
            && matches!(self.enclosing(), Scope::Class)
    }

    fn in_module_scope(&self) -> bool {
        matches!(self.innermost(), Scope::Module)
    }

    fn in_function_scope(&self) -> bool {
        matches!(self.enclosing(), Scope::Function { .. } | Scope::Lambda)
    }

    fn in_generator_context(&self) -> bool {
        matches!(
            self.innermost(),
            Scope::Comprehension {
                is_generator: true,
                ..
            }
        )
    }

    /// IPython's leniencies (a top-level `async` comprehension, as a top-level `await`) hold for
    /// a cell, not for a cell whose body becomes a function (`%%define_component`).
    fn in_notebook(&self) -> bool {
        !self.function_body
    }

    fn report_semantic_error(&self, error: SemanticSyntaxError) {
        use ruff_python_parser::semantic_errors::SemanticSyntaxErrorKind as Kind;
        let at_top = self.scopes.len() == 1;
        let said_elsewhere = self.function_body
            && at_top
            && matches!(
                error.kind,
                Kind::ReturnOutsideFunction
                    | Kind::YieldOutsideFunction(_)
                    | Kind::LateFutureImport
                    | Kind::AwaitOutsideAsyncFunction(
                        ruff_python_parser::semantic_errors::AwaitOutsideAsyncFunctionKind::Await
                    )
            );
        if !said_elsewhere {
            self.errors.borrow_mut().push(error);
        }
    }

    fn in_loop_context(&self) -> bool {
        self.scopes.last().is_some_and(|(_, loops)| *loops > 0)
    }

    fn is_bound_parameter(&self, name: &str) -> bool {
        matches!(self.innermost(), Scope::Function { parameters, .. } if parameters.contains(name))
    }
}

struct Walker<'a> {
    checker: SemanticSyntaxChecker,
    context: Context<'a>,
}

impl Walker<'_> {
    fn in_scope(&mut self, scope: Scope, walk: impl FnOnce(&mut Self)) {
        self.context.scopes.push((scope, 0));
        walk(self);
        self.context.scopes.pop();
    }

    fn in_loop(&mut self, walk: impl FnOnce(&mut Self)) {
        if let Some((_, loops)) = self.context.scopes.last_mut() {
            *loops += 1;
        }
        walk(self);
        if let Some((_, loops)) = self.context.scopes.last_mut() {
            *loops -= 1;
        }
    }
}

fn parameter_names(parameters: &ast::Parameters) -> HashSet<String> {
    parameters
        .iter()
        .map(|p| p.name().as_str().to_owned())
        .collect()
}

/// The names a function body binds, not descending into nested scopes.
fn bindings(body: &[Stmt]) -> HashSet<String> {
    struct Collect(HashSet<String>);
    impl<'a> Visitor<'a> for Collect {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(def) => {
                    self.0.insert(def.name.as_str().to_owned());
                }
                Stmt::ClassDef(class) => {
                    self.0.insert(class.name.as_str().to_owned());
                }
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        let first = bound.as_str().split('.').next().unwrap_or_default();
                        self.0.insert(first.to_owned());
                    }
                }
                Stmt::ImportFrom(import) => {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        self.0.insert(bound.as_str().to_owned());
                    }
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(name) if name.ctx.is_store() => {
                    self.0.insert(name.id.as_str().to_owned());
                }
                Expr::Lambda(_)
                | Expr::ListComp(_)
                | Expr::SetComp(_)
                | Expr::DictComp(_)
                | Expr::Generator(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut collect = Collect(HashSet::new());
    collect.visit_body(body);
    collect.0
}

impl<'a> Visitor<'a> for Walker<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.checker.visit_stmt(stmt, &self.context);
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameters(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_annotation(returns);
                }
                let scope = Scope::Function {
                    is_async: def.is_async,
                    parameters: parameter_names(&def.parameters),
                    bindings: bindings(&def.body),
                };
                self.in_scope(scope, |walker| walker.visit_body(&def.body));
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.in_scope(Scope::Class, |walker| walker.visit_body(&class.body));
            }
            Stmt::For(for_) => {
                self.visit_expr(&for_.target);
                self.visit_expr(&for_.iter);
                self.in_loop(|walker| walker.visit_body(&for_.body));
                self.visit_body(&for_.orelse);
            }
            Stmt::While(while_) => {
                self.visit_expr(&while_.test);
                self.in_loop(|walker| walker.visit_body(&while_.body));
                self.visit_body(&while_.orelse);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.checker.visit_expr(expr, &self.context);
        match expr {
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                self.in_scope(Scope::Lambda, |walker| walker.visit_expr(&lambda.body));
            }
            Expr::ListComp(ast::ExprListComp { generators, .. })
            | Expr::SetComp(ast::ExprSetComp { generators, .. })
            | Expr::DictComp(ast::ExprDictComp { generators, .. })
            | Expr::Generator(ast::ExprGenerator { generators, .. }) => {
                let scope = Scope::Comprehension {
                    is_async: generators.iter().any(|g| g.is_async),
                    is_generator: matches!(expr, Expr::Generator(_)),
                };
                self.in_scope(scope, |walker| visitor::walk_expr(walker, expr));
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// The errors `CPython`'s compiler reports in `body` (the statements of a cell), each with its
/// range and message.
pub(crate) fn errors(source: &str, body: &[Stmt], top: CellScope) -> Vec<(TextRange, String)> {
    let mut found = Vec::new();
    if let Some(at) = source.find('\0') {
        let at = ruff_text_size::TextSize::try_from(at).unwrap_or_default();
        found.push((
            TextRange::new(at, at),
            "source code cannot contain null bytes".to_owned(),
        ));
    }
    let mut walker = Walker {
        checker: SemanticSyntaxChecker::new(),
        context: Context {
            source,
            scopes: vec![(Scope::Module, 0)],
            errors: RefCell::new(Vec::new()),
            function_body: top == CellScope::FunctionBody,
        },
    };
    walker.visit_body(body);
    found.extend(
        walker
            .context
            .errors
            .into_inner()
            .into_iter()
            .map(|error| (error.range(), error.to_string())),
    );
    found
}
