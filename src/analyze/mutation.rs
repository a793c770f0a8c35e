//! Module-level statements that change a value rather than assign it: `N += 1`,
//! `CONFIG["lr"] = 0.5`, `params.update(...)`, `LAYERS.append(3)`. The ones whose effect is
//! known statically are applied; the others, and assignments inside `if`/`for`/`try`/`with`
//! blocks, which automlops does not run, make a name *uncertain*: the compile uses its value
//! as assigned outside them, and says so where that value is used.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::python::Facts;
use crate::python::ast::{Expr, Stmt};

use super::value::{Env, Kind, Uncertain, Value};

/// Methods that change the object they are called on.
const MUTATORS: &[&str] = &[
    "add",
    "append",
    "clear",
    "discard",
    "extend",
    "insert",
    "pop",
    "popitem",
    "remove",
    "reverse",
    "setdefault",
    "sort",
    "update",
];

/// Applies `stmt` to `env` if it changes a module-level value. Returns whether it did anything.
pub(crate) fn apply(
    stmt: &Stmt,
    facts: &Facts,
    env: &mut Env,
    source: &dyn Fn(Span) -> String,
) -> bool {
    match stmt {
        Stmt::AugAssign {
            target: Expr::Name(name, name_span),
            op,
            value,
            span,
        } => {
            let sum = Expr::BinOp {
                left: Box::new(Expr::Name(name.clone(), *name_span)),
                op: *op,
                right: Box::new(value.clone()),
                span: *span,
            };
            let result = env.eval(&sum, source);
            env.bind(name, result);
            true
        }
        Stmt::AugAssign { target, span, .. } => {
            if let Some(name) = base_name(target) {
                uncertain(env, name, *span, format!("`{}`", one_line(&source(*span))));
            }
            true
        }
        Stmt::Assign {
            targets,
            value,
            span,
        } if targets.iter().any(|t| matches!(t, Expr::Subscript { .. })) => {
            let value = env.eval(value, source);
            for target in targets {
                if let Expr::Subscript {
                    value: container,
                    index,
                    ..
                } = target
                    && let Some(name) = base_name(container)
                    && !set_item(env, container, index, &value, source)
                {
                    uncertain(env, name, *span, format!("`{}`", one_line(&source(*span))));
                }
            }
            true
        }
        Stmt::Expr(Expr::Call {
            func,
            args,
            keywords,
            span,
        }) => {
            let Expr::Attribute {
                value: object,
                attr,
                ..
            } = func.as_ref()
            else {
                return false;
            };
            let Expr::Name(name, _) = object.as_ref() else {
                return false;
            };
            if !MUTATORS.contains(&attr.as_str()) || env.get(name).is_none() {
                return false;
            }
            let Some(current) = env.get(name).cloned() else {
                return false;
            };
            let argument = args.first().map(|a| env.eval(a, source));
            let changed = match (attr.as_str(), current.kind, argument) {
                ("append", Kind::List(mut items), Some(item)) if args.len() == 1 => {
                    std::sync::Arc::make_mut(&mut items).push(item);
                    Some(Kind::List(items))
                }
                (
                    "extend",
                    Kind::List(mut items),
                    Some(Value {
                        kind: Kind::List(more),
                        ..
                    }),
                ) if args.len() == 1 => {
                    std::sync::Arc::make_mut(&mut items).extend(more.iter().cloned());
                    Some(Kind::List(items))
                }
                ("update", Kind::Dict(mut entries), argument) if args.len() <= 1 => {
                    let mut new: Vec<(String, Option<Span>, Value)> = match argument {
                        Some(Value {
                            kind: Kind::Dict(more),
                            ..
                        }) => more.to_vec(),
                        None => Vec::new(),
                        Some(_) => return uncertain_call(env, name, *span, source),
                    };
                    for keyword in keywords {
                        let Some(key) = &keyword.name else {
                            return uncertain_call(env, name, *span, source);
                        };
                        new.push((
                            key.clone(),
                            Some(keyword.span),
                            env.eval(&keyword.value, source),
                        ));
                    }
                    let entries_mut = std::sync::Arc::make_mut(&mut entries);
                    for (key, key_span, value) in new {
                        match entries_mut.iter_mut().find(|(k, _, _)| *k == key) {
                            Some(entry) => entry.2 = value,
                            None => entries_mut.push((key, key_span, value)),
                        }
                    }
                    Some(Kind::Dict(entries))
                }
                _ => None,
            };
            match changed {
                Some(kind) => env.replace(name, Value::new(kind, current.span)),
                None => {
                    uncertain_call(env, name, *span, source);
                }
            }
            true
        }
        Stmt::With { span, .. } | Stmt::For { span, .. } => {
            let how = if matches!(stmt, Stmt::With { .. }) {
                "the `with` block"
            } else {
                "the `for` loop"
            };
            block(facts, env, *span, how);
            true
        }
        Stmt::Other { kind, span }
            if matches!(
                *kind,
                "an `if` statement"
                    | "a `while` loop"
                    | "a `try` statement"
                    | "a `match` statement"
            ) =>
        {
            let how = match *kind {
                "an `if` statement" => "the `if` statement",
                "a `while` loop" => "the `while` loop",
                "a `try` statement" => "the `try` statement",
                _ => "the `match` statement",
            };
            block(facts, env, *span, how);
            true
        }
        _ => false,
    }
}

/// Names bound inside a block that is not run: known ones become uncertain, new ones unknown.
fn block(facts: &Facts, env: &mut Env, span: Span, how: &str) {
    for name in &facts.bound_names {
        if env.get(name).is_some() {
            uncertain(env, name, span, how.to_owned());
        } else {
            env.bind_opaque(name, span, &format!("{name}, assigned inside {how}"));
        }
    }
}

fn uncertain(env: &mut Env, name: &str, span: Span, how: String) {
    env.mark_uncertain(
        name,
        Uncertain {
            name: name.to_owned(),
            span,
            how,
        },
    );
}

fn uncertain_call(env: &mut Env, name: &str, span: Span, source: &dyn Fn(Span) -> String) -> bool {
    uncertain(env, name, span, format!("`{}`", one_line(&source(span))));
    true
}

/// `X[k] = value` on a known dict or list; false when it cannot be applied statically.
fn set_item(
    env: &mut Env,
    container: &Expr,
    index: &Expr,
    value: &Value,
    source: &dyn Fn(Span) -> String,
) -> bool {
    let Expr::Name(name, _) = container else {
        return false;
    };
    let Some(current) = env.get(name).cloned() else {
        return false;
    };
    let key = env.eval(index, source);
    let kind = match (current.kind, key.kind) {
        (Kind::Dict(mut entries), Kind::Str(key)) => {
            let entries_mut = std::sync::Arc::make_mut(&mut entries);
            match entries_mut.iter_mut().find(|(k, _, _)| *k == key) {
                Some(entry) => entry.2 = value.clone(),
                None => entries_mut.push((key, Some(index.span()), value.clone())),
            }
            Kind::Dict(entries)
        }
        (Kind::List(mut items), Kind::Int(i)) => {
            let Some(slot) = usize::try_from(i)
                .ok()
                .and_then(|i| std::sync::Arc::make_mut(&mut items).get_mut(i))
            else {
                return false;
            };
            *slot = value.clone();
            Kind::List(items)
        }
        _ => return false,
    };
    env.replace(name, Value::new(kind, current.span));
    true
}

/// The variable at the root of `X`, `X[k]`, `X.attr`.
fn base_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(name, _) => Some(name),
        Expr::Subscript { value, .. } | Expr::Attribute { value, .. } => base_name(value),
        _ => None,
    }
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 50 {
        format!("{}...", line.chars().take(47).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Warns, once per statement, about the uncertain names an evaluation read.
pub(crate) fn report(
    env: &Env,
    reported: &mut BTreeSet<(String, Span)>,
    diagnostics: &mut Diagnostics,
) {
    for uncertain in env.take_touched() {
        if reported.insert((uncertain.name.clone(), uncertain.span)) {
            diagnostics.push(
                Diagnostic::warning(
                    uncertain.span,
                    format!(
                        "`{}` is changed by {}, which automlops does not run; the compile uses the value assigned outside it",
                        uncertain.name, uncertain.how
                    ),
                )
                .with_hint(format!(
                    "assign `{}` directly at the top level of a cell, or set it with `-p {}=VALUE`",
                    uncertain.name, uncertain.name
                )),
            );
        }
    }
}
