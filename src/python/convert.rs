//! Converts ruff's AST into our [`super::ast`] view, attaching cell-relative spans.

use ruff_python_ast as py;
use ruff_text_size::{Ranged, TextRange};

use super::ast::{
    BinOp, CmpOp, Expr, FStringPart, FunctionDef, Import, ImportedName, Keyword, Param, Stmt,
};
use crate::diagnostic::Span;

pub(super) struct Converter<'a> {
    pub(super) cell: usize,
    pub(super) text: &'a str,
}

impl Converter<'_> {
    fn span(&self, range: TextRange) -> Span {
        Span::new(self.cell, range.start().to_usize(), range.end().to_usize())
    }

    pub(super) fn stmts(&self, stmts: &[py::Stmt]) -> Vec<Stmt> {
        stmts.iter().map(|stmt| self.stmt(stmt)).collect()
    }

    pub(super) fn stmt(&self, stmt: &py::Stmt) -> Stmt {
        let span = self.span(stmt.range());
        match stmt {
            py::Stmt::FunctionDef(def) => Stmt::FunctionDef(self.function(def)),
            py::Stmt::Assign(assign) => Stmt::Assign {
                targets: assign.targets.iter().map(|t| self.expr(t)).collect(),
                value: self.expr(&assign.value),
                span,
            },
            py::Stmt::AnnAssign(assign) => Stmt::AnnAssign {
                target: self.expr(&assign.target),
                value: assign.value.as_deref().map(|v| self.expr(v)),
                span,
            },
            py::Stmt::Expr(expr) => Stmt::Expr(self.expr(&expr.value)),
            py::Stmt::Import(import) => Stmt::Import(Import {
                from: None,
                names: import.names.iter().map(imported_name).collect(),
                span,
            }),
            py::Stmt::ImportFrom(import) => {
                let mut module = ".".repeat(import.level as usize);
                if let Some(name) = &import.module {
                    module.push_str(name.as_str());
                }
                Stmt::Import(Import {
                    from: Some(module),
                    names: import.names.iter().map(imported_name).collect(),
                    span,
                })
            }
            py::Stmt::With(with) => Stmt::With {
                items: with
                    .items
                    .iter()
                    .map(|item| {
                        (
                            self.expr(&item.context_expr),
                            item.optional_vars.as_deref().map(|v| self.expr(v)),
                        )
                    })
                    .collect(),
                body: self.stmts(&with.body),
                span,
            },
            py::Stmt::For(for_) => Stmt::For {
                target: self.expr(&for_.target),
                iter: self.expr(&for_.iter),
                body: self.stmts(&for_.body),
                span,
            },
            py::Stmt::AugAssign(assign) => Stmt::AugAssign {
                target: self.expr(&assign.target),
                op: binop_of(assign.op),
                value: self.expr(&assign.value),
                span,
            },
            py::Stmt::Pass(_) => Stmt::Pass(span),
            py::Stmt::Return(ret) => Stmt::Return(ret.value.as_deref().map(|v| self.expr(v)), span),
            other => Stmt::Other {
                kind: stmt_kind(other),
                span,
            },
        }
    }

    fn function(&self, def: &py::StmtFunctionDef) -> FunctionDef {
        let span = self.span(def.range());
        // ruff's function range starts at the first decorator; the `def` keyword follows the
        // last decorator's line.
        // The `def` keyword is the last one before the name: a comment between the decorators
        // and the function may contain the word too.
        let def_start = if def.decorator_list.is_empty() {
            span.start
        } else {
            let name_start = def.name.range().start().to_usize();
            let keyword = self.text[..name_start].rfind("def").unwrap_or(span.start);
            if def.is_async {
                self.text[..keyword].rfind("async").unwrap_or(keyword)
            } else {
                keyword
            }
        };
        let parameters = &def.parameters;
        let variadic = parameters
            .vararg
            .as_deref()
            .or(parameters.kwarg.as_deref())
            .map(|p| self.span(p.range()))
            .or_else(|| parameters.posonlyargs.first().map(|p| self.span(p.range())));
        let params = parameters
            .posonlyargs
            .iter()
            .chain(&parameters.args)
            .chain(&parameters.kwonlyargs)
            .map(|p| Param {
                name: p.parameter.name.as_str().to_owned(),
                annotation: p.parameter.annotation.as_deref().map(|a| self.expr(a)),
                default: p.default.as_deref().map(|d| self.expr(d)),
                span: self.span(p.range()),
            })
            .collect();
        let docstring = def.body.first().and_then(|stmt| match stmt {
            py::Stmt::Expr(expr) => match expr.value.as_ref() {
                py::Expr::StringLiteral(literal) => Some(literal.value.to_str().to_owned()),
                _ => None,
            },
            _ => None,
        });
        FunctionDef {
            name: def.name.as_str().to_owned(),
            name_span: self.span(def.name.range()),
            decorators: def
                .decorator_list
                .iter()
                .map(|d| self.expr(&d.expression))
                .collect(),
            params,
            variadic,
            returns: def.returns.as_deref().map(|r| self.expr(r)),
            docstring,
            body: if is_pipeline_like(def) {
                self.stmts(&def.body)
            } else {
                Vec::new()
            },
            span,
            def_span: Span::new(self.cell, def_start, span.end),
        }
    }

    fn expr(&self, expr: &py::Expr) -> Expr {
        let span = self.span(expr.range());
        match expr {
            py::Expr::Name(name) => Expr::Name(name.id.as_str().to_owned(), span),
            py::Expr::Attribute(attr) => Expr::Attribute {
                value: Box::new(self.expr(&attr.value)),
                attr: attr.attr.as_str().to_owned(),
                span,
            },
            py::Expr::Call(call) => Expr::Call {
                func: Box::new(self.expr(&call.func)),
                args: call.arguments.args.iter().map(|a| self.expr(a)).collect(),
                keywords: call
                    .arguments
                    .keywords
                    .iter()
                    .map(|k| Keyword {
                        name: k.arg.as_ref().map(|a| a.as_str().to_owned()),
                        value: self.expr(&k.value),
                        span: self.span(k.range()),
                    })
                    .collect(),
                span,
            },
            py::Expr::Subscript(sub) => Expr::Subscript {
                value: Box::new(self.expr(&sub.value)),
                index: Box::new(self.expr(&sub.slice)),
                span,
            },
            py::Expr::StringLiteral(literal) => Expr::Str(literal.value.to_str().to_owned(), span),
            py::Expr::FString(fstring) => Expr::FString(self.fstring(&fstring.value), span),
            py::Expr::NumberLiteral(number) => match &number.value {
                py::Number::Int(int) => match int.as_i64() {
                    Some(value) => Expr::Int(value, span),
                    None => Expr::TooLarge(span),
                },
                py::Number::Float(value) if value.is_infinite() => Expr::TooLarge(span),
                py::Number::Float(value) => Expr::Float(*value, span),
                py::Number::Complex { .. } => Expr::Other {
                    kind: "a complex number",
                    span,
                },
            },
            py::Expr::BooleanLiteral(boolean) => Expr::Bool(boolean.value, span),
            py::Expr::NoneLiteral(_) => Expr::None(span),
            py::Expr::List(list) => {
                Expr::List(list.elts.iter().map(|e| self.expr(e)).collect(), span)
            }
            py::Expr::Tuple(tuple) => {
                Expr::Tuple(tuple.elts.iter().map(|e| self.expr(e)).collect(), span)
            }
            py::Expr::Dict(dict) => Expr::Dict(
                dict.items
                    .iter()
                    .map(|item| {
                        (
                            item.key.as_ref().map(|k| self.expr(k)),
                            self.expr(&item.value),
                        )
                    })
                    .collect(),
                span,
            ),
            py::Expr::BinOp(binop) => Expr::BinOp {
                left: Box::new(self.expr(&binop.left)),
                op: binop_of(binop.op),
                right: Box::new(self.expr(&binop.right)),
                span,
            },
            py::Expr::Compare(compare) if compare.ops.len() == 1 => Expr::Compare {
                left: Box::new(self.expr(&compare.left)),
                op: cmpop_of(compare.ops[0]),
                right: Box::new(self.expr(&compare.comparators[0])),
                span,
            },
            py::Expr::Compare(_) => Expr::Other {
                kind: "a chained comparison",
                span,
            },
            // The smallest 64-bit integer, whose digits alone do not fit.
            py::Expr::UnaryOp(unary)
                if unary.op == py::UnaryOp::USub
                    && matches!(unary.operand.as_ref(), py::Expr::NumberLiteral(number)
                        if matches!(&number.value, py::Number::Int(int) if int.as_u64() == Some(1 << 63))) =>
            {
                Expr::Int(i64::MIN, span)
            }
            py::Expr::UnaryOp(unary) if unary.op == py::UnaryOp::USub => {
                Expr::Neg(Box::new(self.expr(&unary.operand)), span)
            }
            other => Expr::Other {
                kind: expr_kind(other),
                span,
            },
        }
    }

    fn fstring(&self, value: &py::FStringValue) -> Vec<FStringPart> {
        let mut parts = Vec::new();
        for part in value {
            match part {
                py::FStringPart::Literal(literal) => {
                    parts.push(FStringPart::Literal(literal.value.to_string()));
                }
                py::FStringPart::FString(fstring) => {
                    for element in &fstring.elements {
                        match element {
                            py::InterpolatedStringElement::Literal(literal) => {
                                parts.push(FStringPart::Literal(literal.value.to_string()));
                            }
                            py::InterpolatedStringElement::Interpolation(interpolation) => {
                                parts.push(FStringPart::Expr {
                                    expr: self.expr(&interpolation.expression),
                                    plain: interpolation.debug_text.is_none()
                                        && interpolation.format_spec.is_none()
                                        && matches!(
                                            interpolation.conversion,
                                            py::ConversionFlag::None | py::ConversionFlag::Str
                                        ),
                                });
                            }
                        }
                    }
                }
            }
        }
        parts
    }
}

/// Whether a function may be a pipeline or a container component: a decorator named
/// `pipeline` (`@dsl.pipeline`, `@AutoMLOps.pipeline(...)`) or `container_component`. Only
/// their bodies are read statement by statement; a component's is read as source text and
/// through its facts, so its statements are not converted (most of a notebook's code is
/// component bodies).
fn is_pipeline_like(def: &py::StmtFunctionDef) -> bool {
    def.decorator_list.iter().any(|decorator| {
        let mut callee = &decorator.expression;
        if let py::Expr::Call(call) = callee {
            callee = &call.func;
        }
        match callee {
            py::Expr::Name(name) => matches!(name.id.as_str(), "pipeline" | "container_component"),
            py::Expr::Attribute(attr) => {
                matches!(attr.attr.as_str(), "pipeline" | "container_component")
            }
            _ => false,
        }
    })
}

fn cmpop_of(op: py::CmpOp) -> CmpOp {
    match op {
        py::CmpOp::Eq => CmpOp::Eq,
        py::CmpOp::NotEq => CmpOp::NotEq,
        py::CmpOp::Lt => CmpOp::Lt,
        py::CmpOp::LtE => CmpOp::LtE,
        py::CmpOp::Gt => CmpOp::Gt,
        py::CmpOp::GtE => CmpOp::GtE,
        _ => CmpOp::Other,
    }
}

fn binop_of(op: py::Operator) -> BinOp {
    match op {
        py::Operator::Add => BinOp::Add,
        py::Operator::Sub => BinOp::Sub,
        py::Operator::Mult => BinOp::Mult,
        _ => BinOp::Other,
    }
}

fn imported_name(alias: &py::Alias) -> ImportedName {
    ImportedName {
        name: alias.name.as_str().to_owned(),
        alias: alias.asname.as_ref().map(|a| a.as_str().to_owned()),
    }
}

fn stmt_kind(stmt: &py::Stmt) -> &'static str {
    match stmt {
        py::Stmt::ClassDef(_) => "a class definition",
        py::Stmt::If(_) => "an `if` statement",
        py::Stmt::While(_) => "a `while` loop",
        py::Stmt::Try(_) => "a `try` statement",
        py::Stmt::Match(_) => "a `match` statement",
        py::Stmt::AugAssign(_) => "an augmented assignment",
        py::Stmt::Delete(_) => "a `del` statement",
        py::Stmt::Raise(_) => "a `raise` statement",
        py::Stmt::Assert(_) => "an `assert` statement",
        py::Stmt::Global(_) | py::Stmt::Nonlocal(_) => "a scope declaration",
        _ => "a statement",
    }
}

fn expr_kind(expr: &py::Expr) -> &'static str {
    match expr {
        py::Expr::Lambda(_) => "a lambda",
        py::Expr::UnaryOp(unary) if unary.op == py::UnaryOp::Not => "a `not` expression",
        py::Expr::Compare(_) => "a comparison",
        py::Expr::BoolOp(_) => "a boolean operation",
        py::Expr::If(_) => "a conditional expression",
        py::Expr::ListComp(_) | py::Expr::SetComp(_) | py::Expr::DictComp(_) => "a comprehension",
        py::Expr::Generator(_) => "a generator",
        py::Expr::Set(_) => "a set",
        py::Expr::Starred(_) => "a starred expression",
        py::Expr::BytesLiteral(_) => "a bytes literal",
        py::Expr::Await(_) => "an `await`",
        _ => "an expression",
    }
}
