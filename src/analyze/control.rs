//! Control flow in a pipeline body: `with dsl.If(...)`, `dsl.Elif`, `dsl.Else`,
//! `dsl.Condition`, `dsl.ParallelFor` and `dsl.ExitHandler` blocks become groups, numbered and
//! nested as kfp 2.17.3 does it, with kfp's checks and a few of our own where kfp would emit a
//! broken pipeline.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    Argument, Branch, Comparison, Condition, GroupKind, IoType, Loop, LoopItems, Node, ParamType,
};
use crate::python::ast::{CmpOp, Expr, Keyword, Stmt};

use super::kfp::Body;

const SUPPORTED_WITH: &str = "a pipeline body supports `with dsl.If(...)`, `dsl.Elif(...)`, `dsl.Else()`, `dsl.Condition(...)`, `dsl.ParallelFor(...) as item` and `dsl.ExitHandler(exit_task)`";

/// The dsl class a `with` calls: `If` for `dsl.If(...)`, `kfp.dsl.If(...)` or an imported `If(...)`.
fn dsl_class(func: &Expr) -> Option<String> {
    let name = func.dotted_name()?;
    let (prefix, class) = name.rsplit_once('.').unwrap_or(("", &name));
    let known = [
        "If",
        "Elif",
        "Else",
        "Condition",
        "ParallelFor",
        "ExitHandler",
    ];
    (matches!(prefix, "" | "dsl" | "kfp.dsl" | "v2.dsl" | "kfp.v2.dsl") && known.contains(&class))
        .then(|| class.to_owned())
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
                    .with_hint("a block needs at least one component call; remove the block or call a component in it"),
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

    fn open_if(
        &mut self,
        class: &str,
        span: Span,
        args: &[Expr],
        keywords: &[Keyword],
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        let bound = bind(class, &["condition", "name"], args, keywords, diagnostics)?;
        let Some(condition) = bound[0] else {
            diagnostics.push(Diagnostic::error(
                span,
                format!("`dsl.{class}` needs a condition"),
            ));
            return None;
        };
        let comparison = self.comparison(condition, diagnostics)?;
        let display_name = self.display_name(bound[1], diagnostics);
        let branch = if class == "If" {
            Branch::If
        } else {
            Branch::Condition
        };
        let id = self.wiring.next_group_id();
        Some(self.wiring.open_group(
            format!("condition-{id}"),
            display_name,
            GroupKind::Condition(Condition {
                branch,
                all: vec![comparison],
            }),
        ))
    }

    /// `dsl.Elif(...)` or `dsl.Else()`: continues the chain of the `If` block just before.
    fn open_branch(
        &mut self,
        class: &str,
        span: Span,
        args: &[Expr],
        keywords: &[Keyword],
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        let params: &[&str] = if class == "Elif" {
            &["condition", "name"]
        } else {
            &["name"]
        };
        let bound = bind(class, params, args, keywords, diagnostics)?;
        let previous = self
            .wiring
            .body_of_current()
            .last()
            .copied()
            .and_then(|node| match node {
                Node::Group(g) => match &self.wiring.groups[g].kind {
                    GroupKind::Condition(c) => Some((g, c.clone())),
                    _ => None,
                },
                Node::Task(_) => None,
            });
        let Some((previous, previous_condition)) = previous else {
            let here = (self.wiring.current, self.wiring.body_of_current().len());
            if self.failed_chain == Some(here) {
                // The chain's earlier block was refused, and reported.
                return None;
            }
            let after_else = matches!(
                self.wiring.body_of_current().last(),
                Some(Node::Group(g)) if matches!(self.wiring.groups[*g].kind, GroupKind::Branches)
            );
            diagnostics.push(
                Diagnostic::error(
                    span,
                    if after_else {
                        format!("`dsl.{class}` cannot follow a `dsl.Else` block")
                    } else {
                        format!("`dsl.{class}` must directly follow a `dsl.If` or `dsl.Elif` block")
                    },
                )
                .with_hint("write the chain as `with dsl.If(...):`, then `with dsl.Elif(...):` blocks, then at most one `with dsl.Else():`, with nothing in between"),
            );
            return None;
        };
        let own = if class == "Elif" {
            let Some(condition) = bound[0] else {
                diagnostics.push(Diagnostic::error(span, "`dsl.Elif` needs a condition"));
                return None;
            };
            Some(self.comparison(condition, diagnostics)?)
        } else {
            None
        };
        let display_name = self.display_name(bound[params.len() - 1], diagnostics);
        // What must hold after the earlier branches failed: their negations.
        let mut all = previous_condition.all.clone();
        if let Some(last) = all.last_mut() {
            last.negate = true;
        }
        let branch = if let Some(own) = own {
            all.push(own);
            Branch::Elif
        } else {
            Branch::Else
        };
        if previous_condition.branch != Branch::Elif {
            // The first `Elif`/`Else` wraps the chain in a `condition-branches` group. It takes
            // the next number and swaps it with the `If`'s, as kfp does.
            let id = self.wiring.next_group_id();
            let if_name = std::mem::replace(
                &mut self.wiring.groups[previous].name,
                format!("condition-{id}"),
            );
            let if_id = if_name.rsplit('-').next().unwrap_or_default().to_owned();
            self.wiring
                .wrap_last(previous, format!("condition-branches-{if_id}"));
            self.chain_spans
                .insert(self.wiring.current.unwrap_or(previous), span);
        }
        let id = self.wiring.next_group_id();
        Some(self.wiring.open_group(
            format!("condition-{id}"),
            display_name,
            GroupKind::Condition(Condition { branch, all }),
        ))
    }

    /// `left op right` of a condition, checked as kfp checks it, and where kfp would write a
    /// condition that cannot mean what the notebook says.
    fn comparison(&mut self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<Comparison> {
        let Expr::Compare {
            left, op, right, ..
        } = expr
        else {
            diagnostics.push(
                Diagnostic::error(
                    expr.span(),
                    format!("a kfp condition is one comparison, found {}", expr.describe()),
                )
                .with_hint("compare a pipeline parameter, a task output or a loop item with `==`, `!=`, `<`, `<=`, `>` or `>=`, e.g. `dsl.If(task.output == \"yes\")`; combine conditions by nesting blocks"),
            );
            return None;
        };
        if *op == CmpOp::Other {
            diagnostics.push(Diagnostic::error(
                expr.span(),
                "kfp conditions compare with `==`, `!=`, `<`, `<=`, `>` or `>=`",
            ));
            return None;
        }
        for side in [left.as_ref(), right.as_ref()] {
            if let Expr::Other { kind, span } = side {
                diagnostics.push(
                    Diagnostic::error(*span, format!("a kfp condition cannot compare {kind}"))
                        .with_hint("compare a pipeline parameter, a task output or a loop item with a string, a number or a boolean"),
                );
                return None;
            }
        }
        let left_arg = self.argument(left, diagnostics);
        let right_arg = self.argument(right, diagnostics);
        let (left_arg, right_arg) = (left_arg?, right_arg?);
        // The block reads its operands itself: they must reach the block it is in.
        let here = self.wiring.current_chain();
        for (arg, side) in [(&left_arg, left.as_ref()), (&right_arg, right.as_ref())] {
            if !self.passed_by_kfp(arg, &here, side.span(), diagnostics) {
                return None;
            }
        }
        if matches!(left_arg, Argument::Constant(_)) && matches!(right_arg, Argument::Constant(_)) {
            diagnostics.push(
                Diagnostic::error(
                    expr.span(),
                    "this condition is known before the pipeline runs",
                )
                .with_hint(
                    "at least one side must be a pipeline parameter, a task output or a loop item",
                ),
            );
            return None;
        }
        let mut types = Vec::new();
        for (arg, side) in [(&left_arg, left.as_ref()), (&right_arg, right.as_ref())] {
            match self.operand_type(arg) {
                Ok(ty) => types.push(ty),
                Err(what) => {
                    diagnostics.push(
                        Diagnostic::error(side.span(), format!("a kfp condition cannot compare {what}"))
                            .with_hint("compare a string, a number or a boolean; compute anything else in a component and compare its output"),
                    );
                    return None;
                }
            }
            if let Argument::Constant(serde_json::Value::String(text)) = arg
                && (text.contains(['\'', '\\']) || text.chars().any(char::is_control))
            {
                diagnostics.push(
                    Diagnostic::error(side.span(), "kfp writes this string into the condition unescaped, so a quote, a backslash or a control character (a newline) in it breaks the condition")
                        .with_hint("compare with a string without `'`, `\\` or control characters"),
                );
                return None;
            }
        }
        let numbers = |t: ParamType| matches!(t, ParamType::Integer | ParamType::Double);
        if types[0] != types[1] && !(numbers(types[0]) && numbers(types[1])) {
            let mut diagnostic = Diagnostic::error(
                expr.span(),
                format!(
                    "this condition compares {} with {}: kfp would cast one side to the other's type, which does not compare what the notebook says",
                    types[0], types[1]
                ),
            );
            let loop_item = |a: &Argument| {
                matches!(a, Argument::LoopItem { group, field }
                    if self.wiring.loop_item_type(*group, field.is_some()).is_none())
            };
            diagnostic = if loop_item(&left_arg) || loop_item(&right_arg) {
                diagnostic.with_hint("kfp types the item of a `list` parameter or of a task output as a string: compare it with a string, or annotate the parameter with its items' type (`List[int]`), or loop over a literal list")
            } else {
                diagnostic.with_hint(
                    "compare values of the same type (an integer and a float may be compared)",
                )
            };
            diagnostics.push(diagnostic);
            return None;
        }
        // `3 < x` is `x > 3` to Python: the constant has no comparison with a kfp value, so
        // Python asks the value, with the operator reflected. A loop item's class derives from
        // the class of parameters and outputs, and Python asks the derived class first: `n < item`
        // is `item > n`.
        let reflect = matches!(
            (&left_arg, &right_arg),
            (Argument::Constant(_), _)
                | (
                    Argument::PipelineParam(_) | Argument::TaskOutput { .. },
                    Argument::LoopItem { .. }
                )
        );
        if reflect {
            let reflected = match op {
                CmpOp::Lt => CmpOp::Gt,
                CmpOp::LtE => CmpOp::GtE,
                CmpOp::Gt => CmpOp::Lt,
                CmpOp::GtE => CmpOp::LtE,
                other => *other,
            };
            return Some(Comparison {
                left: right_arg,
                op: reflected.symbol(),
                right: left_arg,
                negate: false,
            });
        }
        Some(Comparison {
            left: left_arg,
            op: op.symbol(),
            right: right_arg,
            negate: false,
        })
    }

    /// The type kfp gives a condition operand; `Err` says what cannot be compared.
    fn operand_type(&self, arg: &Argument) -> Result<ParamType, String> {
        let ty = match arg {
            Argument::Constant(value) => match value {
                serde_json::Value::String(_) => ParamType::String,
                serde_json::Value::Bool(_) => ParamType::Boolean,
                serde_json::Value::Number(n) if n.is_f64() => ParamType::Double,
                serde_json::Value::Number(_) => ParamType::Integer,
                serde_json::Value::Null => return Err("`None`".to_owned()),
                serde_json::Value::Array(_) => return Err("a list".to_owned()),
                serde_json::Value::Object(_) => return Err("a dict".to_owned()),
            },
            Argument::LoopItem { group, field } => {
                match self.wiring.loop_item_type(*group, field.is_some()) {
                    Some(IoType::Parameter(ty)) => ty,
                    // kfp types the item of a list parameter or output as a string.
                    _ => ParamType::String,
                }
            }
            other => match self.wiring.argument_type(other) {
                Some(IoType::Parameter(ty)) => ty,
                Some(IoType::Artifact(ty) | IoType::ArtifactList(ty)) => {
                    return Err(format!("an artifact ({})", ty.python()));
                }
                None => ParamType::String,
            },
        };
        match ty {
            ParamType::List | ParamType::Struct => Err(format!("a value of type {ty}")),
            ty => Ok(ty),
        }
    }

    fn open_loop(
        &mut self,
        span: Span,
        target: Option<&Expr>,
        args: &[Expr],
        keywords: &[Keyword],
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        let bound = bind(
            "ParallelFor",
            &["items", "name", "parallelism"],
            args,
            keywords,
            diagnostics,
        )?;
        let variable = match target {
            None => String::new(),
            Some(Expr::Name(name, _)) => name.clone(),
            Some(other) => {
                diagnostics.push(Diagnostic::error(
                    other.span(),
                    "bind the loop item to a plain name: `as item`",
                ));
                return None;
            }
        };
        let Some(items_expr) = bound[0] else {
            diagnostics.push(Diagnostic::error(span, "`dsl.ParallelFor` needs `items`"));
            return None;
        };
        let display_name = self.display_name(bound[1], diagnostics);
        let parallelism = match bound[2] {
            None => 0,
            Some(expr) => match self.env.eval(expr, self.source_of).to_json() {
                Some(serde_json::Value::Null) => 0,
                Some(serde_json::Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => {
                    n.as_i64().unwrap_or(0)
                }
                _ => {
                    diagnostics.push(
                        Diagnostic::error(expr.span(), "`parallelism` must be an integer of 0 or more, known before the pipeline runs")
                            .with_hint("0 runs every iteration at once"),
                    );
                    return None;
                }
            },
        };
        let items = self.argument(items_expr, diagnostics)?;
        let (items, item_type, field_type) = match items {
            Argument::Constant(serde_json::Value::Array(values)) => {
                let (item_type, field_type) =
                    raw_item_types(&values, items_expr.span(), diagnostics)?;
                let code = self.wiring.next_group_id();
                (
                    LoopItems::Raw { values, code },
                    Some(item_type),
                    Some(field_type),
                )
            }
            Argument::Constant(_) => {
                diagnostics.push(
                    Diagnostic::error(items_expr.span(), "`dsl.ParallelFor` loops over a list")
                        .with_hint("pass a literal list, a list pipeline parameter or a task output that is a list"),
                );
                return None;
            }
            Argument::LoopItem { .. } => {
                diagnostics.push(
                    Diagnostic::error(
                        items_expr.span(),
                        "a loop over a loop item is not supported yet",
                    )
                    .with_hint(
                        "loop over a list pipeline parameter, a task output or a literal list",
                    ),
                );
                return None;
            }
            channel => {
                let here = self.wiring.current_chain();
                if !self.passed_by_kfp(&channel, &here, items_expr.span(), diagnostics) {
                    return None;
                }
                match self.wiring.argument_type(&channel) {
                    Some(IoType::Parameter(ParamType::List)) | None => {}
                    Some(other) => {
                        diagnostics.push(
                            Diagnostic::error(
                                items_expr.span(),
                                format!("`dsl.ParallelFor` loops over a list, but this is {other}"),
                            )
                            .with_hint(
                                "declare the parameter or output as `list` (or `List[...]`)",
                            ),
                        );
                        return None;
                    }
                }
                // kfp reads the items' type from a parameter's annotation (`List[int]`); a
                // task output comes through its component.yaml, which does not keep it.
                let (item_type, field_type) = match &channel {
                    Argument::PipelineParam(name) => self
                        .wiring
                        .params
                        .iter()
                        .find(|p| &p.name == name)
                        .map_or((None, None), |p| p.items),
                    _ => (None, None),
                };
                (LoopItems::Channel(channel), item_type, field_type)
            }
        };
        let id = self.wiring.next_group_id();
        let group = self.wiring.open_group(
            format!("for-loop-{id}"),
            display_name,
            GroupKind::Loop(Loop {
                items,
                parallelism,
                variable: variable.clone(),
                item_type,
                field_type,
            }),
        );
        if !variable.is_empty() {
            // The loop variable takes the name over: a task or an earlier loop's item of the
            // same name is gone from here on, as in Python.
            self.tasks.remove(&variable);
            self.poisoned.remove(&variable);
            self.closed_loops.remove(&variable);
            self.loop_vars.insert(variable, group);
        }
        Some(group)
    }

    fn open_exit_handler(
        &mut self,
        span: Span,
        args: &[Expr],
        keywords: &[Keyword],
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        let bound = bind(
            "ExitHandler",
            &["exit_task", "name"],
            args,
            keywords,
            diagnostics,
        )?;
        if let Some(current) = self.wiring.current {
            let mut diagnostic = Diagnostic::error(
                span,
                "kfp allows `dsl.ExitHandler` only at the top level of the pipeline",
            );
            if matches!(self.wiring.groups[current].kind, GroupKind::Branches) {
                diagnostic = diagnostic.with_hint("a `dsl.If`/`dsl.Elif` chain without `dsl.Else` above is still open in kfp: add a `with dsl.Else():` branch to it");
            }
            diagnostics.push(diagnostic);
            return None;
        }
        let Some(exit_expr) = bound[0] else {
            diagnostics.push(Diagnostic::error(
                span,
                "`dsl.ExitHandler` needs the exit task",
            ));
            return None;
        };
        let exit_task = match exit_expr {
            Expr::Name(name, _) if self.tasks.contains_key(name) => self.tasks[name],
            Expr::Name(name, _) if self.poisoned.contains(name) => return None,
            // `dsl.ExitHandler(notify(...))` creates the exit task right there.
            Expr::Call { .. } => self.task_expr(exit_expr, None, diagnostics)?,
            other => {
                diagnostics.push(
                    Diagnostic::error(other.span(), "`dsl.ExitHandler` takes a task: a component call, or the variable of a task created before it")
                        .with_hint("write `exit_task = notify(...)` above, then `with dsl.ExitHandler(exit_task):`"),
                );
                return None;
            }
        };
        let task = &self.wiring.tasks[exit_task];
        let depends = !task.after.is_empty()
            || task
                .arguments
                .iter()
                .any(|(_, a)| matches!(a, Argument::TaskOutput { .. }));
        let used = self.wiring.tasks.iter().any(|t| {
            t.after.contains(&exit_task)
                || t.arguments.iter().any(
                    |(_, a)| matches!(a, Argument::TaskOutput { task, .. } if *task == exit_task),
                )
        });
        let reused = self.wiring.exit_handler_of(exit_task).is_some();
        let problem = if task.group.is_some() {
            Some("the exit task must be created at the top level of the pipeline")
        } else if depends {
            Some(
                "the exit task cannot depend on other tasks: kfp runs it after the block, whatever happened",
            )
        } else if used {
            Some("no task may use the exit task's outputs or wait for it")
        } else if reused {
            Some("this task is already the exit task of another `dsl.ExitHandler`")
        } else {
            None
        };
        if let Some(problem) = problem {
            diagnostics.push(Diagnostic::error(exit_expr.span(), problem));
            return None;
        }
        let display_name = self.display_name(bound[1], diagnostics);
        let id = self.wiring.next_group_id();
        Some(self.wiring.open_group(
            format!("exit-handler-{id}"),
            display_name,
            GroupKind::ExitHandler { exit_task },
        ))
    }

    /// `dsl.Collected(task.output)`: what kfp supports of it, and we with it: a parameter
    /// output of a task directly inside a loop, used after the loop, in the block that holds
    /// the loop or one inside it.
    pub(super) fn collected(
        &self,
        task: usize,
        output: String,
        span: Span,
        diagnostics: &mut Diagnostics,
    ) -> Option<Argument> {
        let producer = &self.wiring.tasks[task];
        let in_loop = producer
            .group
            .filter(|g| matches!(self.wiring.groups[*g].kind, GroupKind::Loop(_)));
        let Some(group) = in_loop else {
            diagnostics.push(
                Diagnostic::error(span, format!("`{}` is not directly inside a `dsl.ParallelFor`, so there is nothing to collect", producer.variable))
                    .with_hint("collect the output of a task created directly in the loop's block"),
            );
            return None;
        };
        let here = self.wiring.current_chain();
        let holder = crate::model::chain(&self.wiring.groups, self.wiring.groups[group].parent);
        if !here.starts_with(&holder) || here.contains(&group) {
            diagnostics.push(
                Diagnostic::error(
                    span,
                    "collect a loop's outputs after the loop, in the block that holds it or in one inside that block",
                )
                .with_hint(
                    "collecting across nested loops is not supported yet",
                ),
            );
            return None;
        }
        let component = &self.wiring.components[producer.component];
        let artifact = matches!(
            component.output(&output).map(|o| o.ty),
            Some(IoType::Artifact(_))
        );
        if artifact && here != holder {
            diagnostics.push(
                Diagnostic::error(span, "kfp 2.17.3 cannot pass collected artifacts into a block (its compiler fails on them)")
                    .with_hint("use the collected artifacts in the block that holds the loop, and pass what the task makes of them into the block"),
            );
            return None;
        }
        Some(Argument::Collected { task, output })
    }

    /// kfp's name for a value, as it names the inputs that pass it into blocks.
    fn kfp_channel_name(&self, argument: &Argument) -> Option<String> {
        match argument {
            Argument::Constant(_) => None,
            Argument::PipelineParam(name) => Some(name.clone()),
            Argument::TaskOutput { task, output } => {
                Some(format!("{}-{output}", self.wiring.tasks[*task].name))
            }
            Argument::Collected { task, output } => {
                let task = &self.wiring.tasks[*task];
                let group = &self.wiring.groups[task.group?];
                Some(format!(
                    "{}-pipelinechannel--{}-{output}",
                    group.name, task.name
                ))
            }
            Argument::LoopItem { group, .. } => self.loop_item_name(*group),
        }
    }

    fn loop_item_name(&self, group: usize) -> Option<String> {
        let GroupKind::Loop(lp) = &self.wiring.groups.get(group)?.kind else {
            return None;
        };
        Some(match &lp.items {
            LoopItems::Channel(items) => format!("{}-loop-item", self.kfp_channel_name(items)?),
            LoopItems::Raw { code, .. } => format!("loop-item-param-{code}"),
        })
    }

    /// kfp 2.17.3 stops passing a value down into nested blocks at the first loop whose item's
    /// name contains the value's name (a substring test in `get_inputs_for_all_groups`): `s`
    /// or `xs` inside a loop over `xs` (`xs-loop-item`). Below such a loop the value is
    /// missing, and the pipeline kfp writes cannot run. `here` is the chain of groups around
    /// the reader (a task, or a block that reads the value itself): the innermost one must
    /// receive the value.
    pub(super) fn passed_by_kfp(
        &self,
        argument: &Argument,
        here: &[usize],
        span: Span,
        diagnostics: &mut Diagnostics,
    ) -> bool {
        let Some(name) = self.kfp_channel_name(argument) else {
            return true;
        };
        let origin = match argument {
            Argument::TaskOutput { task, .. } => self.wiring.task_chain(*task).len(),
            Argument::Collected { task, .. } => {
                self.wiring.task_chain(*task).len().saturating_sub(1)
            }
            Argument::LoopItem { group, .. } => here
                .iter()
                .position(|g| g == group)
                .map_or(here.len(), |p| p + 1),
            _ => 0,
        };
        let Some((_, passing)) = here.split_last() else {
            return true;
        };
        for &group in passing.iter().skip(origin) {
            if let Some(item) = self.loop_item_name(group)
                && item.contains(&name)
            {
                diagnostics.push(
                    Diagnostic::error(span, format!("kfp 2.17.3 does not pass `{name}` into the blocks inside the loop whose item it names `{item}`: it tests whether one name contains the other, so the pipeline it writes cannot run"))
                        .with_hint("rename the parameter, the task or the loop's list so that neither name contains the other"),
                );
                return false;
            }
        }
        true
    }

    /// A task kfp names as a block (`condition-2` for a component named `condition`) would
    /// share its component entry with the block's.
    pub(super) fn check_group_names(&self, diagnostics: &mut Diagnostics) {
        for task in &self.wiring.tasks {
            if self.wiring.groups.iter().any(|g| g.name == task.name) {
                diagnostics.push(
                    Diagnostic::error(task.span, format!("kfp names this task `{}`, as it names one of the pipeline's control-flow blocks", task.name))
                        .with_hint("rename the component: `condition`, `for_loop`, `exit_handler` and `condition_branches` clash with the names of blocks"),
                );
            }
        }
    }

    /// kfp gives a `dsl.PipelineTaskFinalStatus` input only to the exit task of an exit
    /// handler, and refuses it anywhere else.
    pub(super) fn check_final_status(&self, diagnostics: &mut Diagnostics) {
        for (index, task) in self.wiring.tasks.iter().enumerate() {
            let component = &self.wiring.components[task.component];
            let status = component
                .inputs
                .iter()
                .find(|i| i.ty == IoType::Parameter(ParamType::TaskFinalStatus));
            if let Some(status) = status
                && self.wiring.exit_handler_of(index).is_none()
            {
                diagnostics.push(
                    Diagnostic::error(
                        task.span,
                        format!(
                            "component `{}` takes `{}: dsl.PipelineTaskFinalStatus`, which kfp gives only to the exit task of a `dsl.ExitHandler`",
                            component.name, status.name
                        ),
                    )
                    .with_hint(format!(
                        "make this task an exit task: `{} = {}(...)`, then `with dsl.ExitHandler({}):` around the tasks it reports on",
                        task.variable, component.name, task.variable
                    )),
                );
            }
        }
    }

    /// Whether the output of `producer` can be read here: kfp passes values into enclosing
    /// blocks only, never out of a `dsl.If`, `dsl.ParallelFor` or `dsl.ExitHandler` block.
    /// `here` is the chain of groups of the consumer; `data` is false for `.after(...)`, which
    /// may wait for a whole loop.
    pub(super) fn reachable(
        &self,
        producer: usize,
        here: &[usize],
        data: bool,
        span: Span,
        diagnostics: &mut Diagnostics,
    ) -> bool {
        let from = self.wiring.task_chain(producer);
        if here.starts_with(&from) {
            if self.wiring.exit_handler_of(producer).is_some() {
                diagnostics.push(Diagnostic::error(
                    span,
                    "the exit task of a `dsl.ExitHandler` cannot pass outputs to other tasks",
                ));
                return false;
            }
            return true;
        }
        let common = from.iter().zip(here).take_while(|(a, b)| a == b).count();
        let block = from[common..]
            .iter()
            .map(|g| &self.wiring.groups[*g])
            .find(|g| !matches!(g.kind, GroupKind::Branches));
        let what = match block.map(|g| &g.kind) {
            Some(GroupKind::Loop(_)) if !data => return true,
            Some(GroupKind::Loop(_)) => "a `dsl.ParallelFor` block (one value per iteration)",
            Some(GroupKind::ExitHandler { .. }) => "a `dsl.ExitHandler` block",
            _ => "a `dsl.If`/`dsl.Elif`/`dsl.Else` block (it may not run)",
        };
        let hint = if !data {
            "`.after(...)` may wait for a task of the same block or of an enclosing one, or for a whole `dsl.ParallelFor` loop; a task inside a `dsl.If` block may not run at all"
        } else if matches!(block.map(|g| &g.kind), Some(GroupKind::Loop(_))) {
            "kfp passes values into blocks, never out of them: use the output inside the loop, or pass `dsl.Collected(task.output)` to a list input after the loop to get every iteration's value"
        } else {
            "kfp passes values into blocks, never out of them: use the output inside the block that created it"
        };
        diagnostics.push(
            Diagnostic::error(
                span,
                format!(
                    "`{}` was created inside {what} that this point is not in",
                    self.wiring.tasks[producer].variable
                ),
            )
            .with_hint(hint),
        );
        false
    }

    /// A loop variable, or one of its fields (`item.n`).
    pub(super) fn loop_item(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> LoopRef {
        match expr {
            Expr::Name(name, _) => match self.loop_vars.get(name) {
                Some(&group) => LoopRef::Item(Argument::LoopItem { group, field: None }),
                None => LoopRef::NotOne,
            },
            Expr::Attribute { value, attr, span } => {
                let Expr::Name(name, _) = value.as_ref() else {
                    return LoopRef::NotOne;
                };
                let Some(&group) = self.loop_vars.get(name) else {
                    return LoopRef::NotOne;
                };
                if let GroupKind::Loop(Loop {
                    items: LoopItems::Raw { values, .. },
                    ..
                }) = &self.wiring.groups[group].kind
                {
                    let keys: Vec<&str> = match values.first() {
                        Some(serde_json::Value::Object(first)) => {
                            first.keys().map(String::as_str).collect()
                        }
                        _ => Vec::new(),
                    };
                    if keys.is_empty() {
                        diagnostics.push(Diagnostic::error(
                            *span,
                            format!(
                                "the items of `{name}` are not dicts, so `.{attr}` names nothing"
                            ),
                        ));
                        return LoopRef::Refused;
                    }
                    if !keys.contains(&attr.as_str()) {
                        diagnostics.push(
                            Diagnostic::error(
                                *span,
                                format!("the items of `{name}` have no key `{attr}`"),
                            )
                            .with_hint(
                                match super::suggest::did_you_mean(attr, keys.iter().copied()) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => format!(
                                        "their keys are {}",
                                        super::wiring::list_names(keys.iter().copied())
                                    ),
                                },
                            ),
                        );
                        return LoopRef::Refused;
                    }
                    // kfp 2.17.3 cannot pass a field of a literal list's item into a nested
                    // block (an assertion fails), and inside a non-loop block it leaks an input
                    // the root does not have (kubeflow/pipelines#13273).
                    let here = self.wiring.current_chain();
                    let loop_at = here.iter().position(|g| *g == group).unwrap_or(0);
                    let nested = here.len() > loop_at + 1;
                    let inside_block = here[..loop_at]
                        .iter()
                        .any(|g| !matches!(self.wiring.groups[*g].kind, GroupKind::Loop(_)));
                    if nested || inside_block {
                        diagnostics.push(
                            Diagnostic::error(*span, if nested {
                                "kfp 2.17.3 cannot compile a field of a literal list's item used in a block nested inside its loop"
                            } else {
                                "kfp 2.17.3 compiles a field of a literal list's item inside a `dsl.If` or `dsl.ExitHandler` block into a pipeline that fails to run (kubeflow/pipelines#13273)"
                            })
                            .with_hint("make the list a pipeline parameter (`items: list = [...]`) and loop over that, or pass the whole item and read the field in the component"),
                        );
                        return LoopRef::Refused;
                    }
                }
                LoopRef::Item(Argument::LoopItem {
                    group,
                    field: Some(attr.clone()),
                })
            }
            _ => LoopRef::NotOne,
        }
    }
}

/// What a name or attribute is with respect to the open loops.
pub(super) enum LoopRef {
    /// Not a loop variable.
    NotOne,
    Item(Argument),
    /// A loop variable used wrongly (reported).
    Refused,
}

/// kfp's types for a literal list's items: the first element's type, and for dicts the type
/// of the first value of the first dict, which kfp gives every field.
fn raw_item_types(
    values: &[serde_json::Value],
    span: Span,
    diagnostics: &mut Diagnostics,
) -> Option<(ParamType, ParamType)> {
    let kind = |value: &serde_json::Value| match value {
        serde_json::Value::String(_) => Some(ParamType::String),
        serde_json::Value::Bool(_) => Some(ParamType::Boolean),
        serde_json::Value::Number(n) if n.is_f64() => Some(ParamType::Double),
        serde_json::Value::Number(_) => Some(ParamType::Integer),
        serde_json::Value::Array(_) => Some(ParamType::List),
        serde_json::Value::Object(_) => Some(ParamType::Struct),
        serde_json::Value::Null => None,
    };
    let Some(first) = values.first() else {
        diagnostics.push(Diagnostic::error(
            span,
            "`dsl.ParallelFor` over an empty list runs nothing; kfp refuses it",
        ));
        return None;
    };
    let Some(item_type) = kind(first) else {
        diagnostics.push(Diagnostic::error(
            span,
            "kfp cannot type a loop over a list whose first item is `None`",
        ));
        return None;
    };
    let field_type = match first {
        serde_json::Value::Object(map) => {
            if let Some(Some(ty)) = map.values().next().map(kind) {
                ty
            } else {
                {
                    diagnostics.push(Diagnostic::error(span, "kfp types the fields of dict items from the first value of the first dict, which must be a string, number, boolean, list or dict"));
                    return None;
                }
            }
        }
        _ => ParamType::String,
    };
    if let serde_json::Value::Object(first_map) = first {
        let same_keys = values.iter().all(|v| {
            matches!(v, serde_json::Value::Object(m) if m.len() == first_map.len() && m.keys().all(|k| first_map.contains_key(k)))
        });
        if !same_keys {
            diagnostics.push(Diagnostic::error(
                span,
                "the dict items of a `dsl.ParallelFor` must all have the same keys",
            ));
            return None;
        }
    }
    Some((item_type, field_type))
}
