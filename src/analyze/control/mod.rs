//! Control flow in a pipeline body: `with dsl.If(...)`, `dsl.Elif`, `dsl.Else`,
//! `dsl.Condition`, `dsl.ParallelFor` and `dsl.ExitHandler` blocks become groups, numbered and
//! nested as kfp 2.17.3 does it, with kfp's checks and a few of our own where kfp would emit a
//! broken pipeline.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::GroupKind;
use crate::python::ast::{Expr, Keyword, Stmt};

use super::kfp::Body;

mod condition;
mod exit_handler;
mod parallel_for;
mod reach;

pub(super) use parallel_for::LoopRef;

const SUPPORTED_WITH: &str = "a pipeline body supports `with dsl.If(...)`, `dsl.Elif(...)`, `dsl.Else()`, `dsl.Condition(...)`, `dsl.ParallelFor(...) as item` and `dsl.ExitHandler(exit_task)`";

/// The dsl class a `with` calls: `If` for `dsl.If(...)`, `kfp.dsl.If(...)` or an imported `If(...)`.
fn dsl_class(func: &Expr) -> Option<String> {
    let known = [
        "If",
        "Elif",
        "Else",
        "Condition",
        "ParallelFor",
        "ExitHandler",
    ];
    dsl_member(func).filter(|class| known.contains(&class.as_str()))
}

/// The member of kfp's `dsl` module that `func` names, however the notebook reaches it:
/// `dsl.Collected`, `kfp.dsl.Collected`, `v2.dsl.Collected`, `kfp.v2.dsl.Collected`, or
/// `Collected` imported on its own.
pub(super) fn dsl_member(func: &Expr) -> Option<String> {
    let name = func.dotted_name()?;
    match name.rsplit_once('.') {
        None => Some(name),
        Some((prefix, member)) => {
            matches!(prefix, "dsl" | "kfp.dsl" | "v2.dsl" | "kfp.v2.dsl").then(|| member.to_owned())
        }
    }
}

/// A dsl call's arguments by parameter name: positional ones first, then keywords.
fn bind<'e>(
    class: &str,
    params: &[&str],
    args: &'e [Expr],
    keywords: &'e [Keyword],
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Option<&'e Expr>>> {
    let mut bound: Vec<Option<&Expr>> = vec![None; params.len()];
    let mut ok = true;
    for (index, arg) in args.iter().enumerate() {
        if let Some(slot) = bound.get_mut(index) {
            *slot = Some(arg);
        } else {
            diagnostics.push(Diagnostic::error(
                arg.span(),
                format!(
                    "`dsl.{class}` takes at most {} positional arguments",
                    params.len()
                ),
            ));
            ok = false;
        }
    }
    for keyword in keywords {
        let position = keyword
            .name
            .as_deref()
            .and_then(|name| params.iter().position(|p| *p == name));
        match position {
            Some(index) if bound[index].is_none() => bound[index] = Some(&keyword.value),
            Some(_) => {
                diagnostics.push(Diagnostic::error(
                    keyword.span,
                    format!("`{}` is given twice", params[position.unwrap_or(0)]),
                ));
                ok = false;
            }
            None => {
                diagnostics.push(
                    Diagnostic::error(
                        keyword.span,
                        format!(
                            "`dsl.{class}` has no argument `{}`",
                            keyword.name.as_deref().unwrap_or("**")
                        ),
                    )
                    .with_hint(format!(
                        "its arguments are {}",
                        super::wiring::list_names(params.iter().copied())
                    )),
                );
                ok = false;
            }
        }
    }
    ok.then_some(bound)
}

impl Body<'_> {
    pub(super) fn with_block(
        &mut self,
        items: &[(Expr, Option<Expr>)],
        body: &[Stmt],
        span: Span,
        diagnostics: &mut Diagnostics,
    ) {
        let [(context, target)] = items else {
            diagnostics.push(
                Diagnostic::error(span, "open one dsl block per `with` statement")
                    .with_hint("nest the blocks instead"),
            );
            return;
        };
        let class = match context {
            Expr::Call { func, .. } => dsl_class(func),
            _ => None,
        };
        let Some(class) = class else {
            diagnostics.push(
                Diagnostic::error(
                    context.span(),
                    "this `with` is not a kfp control-flow block",
                )
                .with_hint(SUPPORTED_WITH),
            );
            return;
        };
        let Expr::Call { args, keywords, .. } = context else {
            return;
        };
        if class != "ParallelFor"
            && let Some(target) = target
        {
            diagnostics.push(Diagnostic::error(
                target.span(),
                format!("`dsl.{class}` gives no value to bind with `as`"),
            ));
        }
        let opened = match class.as_str() {
            "If" | "Condition" => self.open_if(&class, context.span(), args, keywords, diagnostics),
            "Elif" | "Else" => {
                self.open_branch(&class, context.span(), args, keywords, diagnostics)
            }
            "ParallelFor" => {
                self.open_loop(context.span(), target.as_ref(), args, keywords, diagnostics)
            }
            _ => self.open_exit_handler(context.span(), args, keywords, diagnostics),
        };
        let Some(group) = opened else {
            // The block is reported; its statements are still checked, in the enclosing
            // group, so their own mistakes show and later uses of their tasks resolve.
            let item = match target {
                Some(Expr::Name(name, _)) if class == "ParallelFor" => Some(name.clone()),
                _ => None,
            };
            if let Some(item) = &item {
                self.poisoned.insert(item.clone());
            }
            for stmt in body {
                self.stmt(stmt, 1, diagnostics);
            }
            if let Some(item) = &item {
                self.poisoned.remove(item);
            }
            if class != "Else" && class != "ParallelFor" && class != "ExitHandler" {
                let end = (self.wiring.current, self.wiring.body_of_current().len());
                self.failed_chain = Some(end);
            }
            return;
        };
        let before = diagnostics.has_errors();
        for stmt in body {
            self.stmt(stmt, 1, diagnostics);
        }
        if let GroupKind::Loop(lp) = &self.wiring.groups[group].kind {
            let variable = lp.variable.clone();
            self.loop_vars.remove(&variable);
            self.closed_loops.insert(variable);
            self.check_unused_item(group, context.span(), diagnostics);
        }
        // An `If`/`Elif` chain without `Else` inside this block leaves kfp inside the chain's
        // wrapper: kfp would close the wrapper here instead of this block, and put everything
        // after the block inside it.
        if self.wiring.current != Some(group) {
            let open = self.wiring.current.unwrap_or(group);
            diagnostics.push(
                Diagnostic::error(
                    self.chain_spans.get(&open).copied().unwrap_or(span),
                    "kfp 2.17.3 leaves a `dsl.If`/`dsl.Elif` chain without `dsl.Else` open, so inside another block it would swallow the statements after that block",
                )
                .with_hint("add a `with dsl.Else():` branch, turn the `dsl.Elif` into its own `dsl.If`, or move the chain to the top level of the pipeline"),
            );
            while self.wiring.current.is_some() && self.wiring.current != Some(group) {
                self.wiring.close_group();
            }
        }
        if self.wiring.groups[group].body.is_empty() && before == diagnostics.has_errors() {
            diagnostics.push(
                Diagnostic::error(context.span(), format!("this `dsl.{class}` block calls no component"))
                    .with_hint("call a component in it or remove the block: kfp 2.17.3 compiles an empty block into a component with neither a DAG nor an executor, which the pipeline spec does not allow"),
            );
        }
        self.wiring.close_group();
        if class == "Else" {
            // `Else` ends the chain: its wrapper closes with it.
            self.wiring.close_group();
        }
    }

    /// `name=` of a dsl block: a string known before the pipeline runs.
    fn display_name(&self, expr: Option<&Expr>, diagnostics: &mut Diagnostics) -> Option<String> {
        let expr = expr?;
        match self.env.eval(expr, self.source_of).to_json() {
            // kfp falls back to the group's own name for an empty one.
            Some(serde_json::Value::String(name)) => Some(name).filter(|n| !n.is_empty()),
            Some(serde_json::Value::Null) => None,
            _ => {
                diagnostics.push(Diagnostic::error(
                    expr.span(),
                    "the block's `name` must be a string known before the pipeline runs",
                ));
                None
            }
        }
    }
}
