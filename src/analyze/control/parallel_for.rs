//! `dsl.ParallelFor` and its items (a list parameter, a task output or a literal list, and
//! fields of dict items), and `dsl.Collected`, which gathers a loop's outputs after it.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Argument, GroupKind, IoType, Loop, LoopItems, ParamType};
use crate::python::ast::{Expr, Keyword};

use super::super::kfp::Body;
use super::bind;

impl Body<'_> {
    pub(in crate::analyze) fn open_loop(
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

    /// `dsl.Collected(task.output)`: what kfp supports of it, and we with it: a parameter
    /// output of a task directly inside a loop, used after the loop, in the block that holds
    /// the loop or one inside it.
    /// kfp 2.17.3 passes a loop's list only along with its item: a loop over a parameter or an
    /// output whose item nothing reads loses its list inside a block (a dangling input), and
    /// its dependency on the task that makes the list.
    pub(in crate::analyze) fn check_unused_item(
        &self,
        group: usize,
        span: Span,
        diagnostics: &mut Diagnostics,
    ) {
        let GroupKind::Loop(lp) = &self.wiring.groups[group].kind else {
            return;
        };
        let LoopItems::Channel(items) = &lp.items else {
            return;
        };
        let in_block = self.wiring.groups[group].parent.is_some();
        if !in_block && !matches!(items, Argument::TaskOutput { .. }) {
            return;
        }
        let reads = |argument: &Argument| matches!(argument, Argument::LoopItem { group: g, .. } if *g == group);
        let used = self
            .wiring
            .tasks
            .iter()
            .any(|t| t.arguments.iter().any(|(_, a)| reads(a)))
            || self.wiring.groups.iter().any(|g| match &g.kind {
                GroupKind::Condition(c) => c.all.iter().any(|c| reads(&c.left) || reads(&c.right)),
                GroupKind::Loop(inner) => matches!(&inner.items, LoopItems::Channel(a) if reads(a)),
                _ => false,
            });
        if !used {
            diagnostics.push(
                Diagnostic::error(span, "kfp 2.17.3 compiles a loop over a parameter or a task output whose item nothing reads into a pipeline that cannot run (it leaves out the list the loop iterates over, or the wait for the task that makes it)")
                    .with_hint("read the item in the loop (`as item`, then `item` in an argument), or loop over a literal list"),
            );
        }
    }

    pub(in crate::analyze) fn collected(
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
            let inside_loop = self
                .wiring
                .task_chain(task)
                .iter()
                .any(|g| matches!(self.wiring.groups[*g].kind, GroupKind::Loop(_)));
            diagnostics.push(if inside_loop {
                Diagnostic::error(span, format!("`{}` is inside a block within its loop: collecting its outputs is not supported yet", producer.variable))
                    .with_hint("collect the output of a task created directly in the loop's block")
            } else {
                Diagnostic::error(span, format!("`{}` is not inside a `dsl.ParallelFor`, so there is nothing to collect", producer.variable))
                    .with_hint("pass `task.output` itself")
            });
            return None;
        };
        let here = self.wiring.current_chain();
        let holder = crate::model::chain(&self.wiring.groups, self.wiring.groups[group].parent);
        if here.contains(&group) {
            diagnostics.push(
                Diagnostic::error(
                    span,
                    "a loop's outputs are collected after the loop, not inside it",
                )
                .with_hint("inside the loop, pass `task.output` itself"),
            );
            return None;
        }
        if !here.starts_with(&holder) {
            let nested = holder
                .iter()
                .any(|g| matches!(self.wiring.groups[*g].kind, GroupKind::Loop(_)));
            diagnostics.push(
                Diagnostic::error(span, "`dsl.Collected` is used outside the block that holds the loop")
                    .with_hint(if nested {
                        "collecting across nested loops is not supported yet"
                    } else {
                        "kfp passes values into blocks, never out of them: collect in the block that holds the loop, after it"
                    }),
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

    /// A loop variable, or one of its fields (`item.n`).
    pub(in crate::analyze) fn loop_item(
        &self,
        expr: &Expr,
        diagnostics: &mut Diagnostics,
    ) -> LoopRef {
        match expr {
            Expr::Name(name, _) => match self.loop_vars.get(name) {
                Some(&group) => LoopRef::Item(Argument::LoopItem { group, field: None }),
                None => LoopRef::NotOne,
            },
            Expr::Attribute { value, attr, span } => {
                let Expr::Name(name, _) = value.as_ref() else {
                    return LoopRef::NotOne;
                };
                if self.poisoned.contains(name) {
                    // The item of a refused loop (reported).
                    return LoopRef::Refused;
                }
                let Some(&group) = self.loop_vars.get(name) else {
                    return LoopRef::NotOne;
                };
                if KFP_ITEM_ATTRIBUTES.contains(&attr.as_str()) {
                    diagnostics.push(
                        Diagnostic::error(*span, format!("`{name}.{attr}` names an attribute of kfp's loop item, not a field of the item, so kfp 2.17.3 does not read the field"))
                            .with_hint(format!("rename the field `{attr}` in the items")),
                    );
                    return LoopRef::Refused;
                }
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
                                match crate::analyze::suggest::did_you_mean(
                                    attr,
                                    keys.iter().copied(),
                                ) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => format!(
                                        "their keys are {}",
                                        crate::analyze::wiring::list_names(keys.iter().copied())
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

/// Attributes of kfp's loop item objects: `item.name` reads kfp's attribute, never a field of
/// the item, and a literal dict item with one of these keys (but `value`) fails in kfp.
const KFP_ITEM_ATTRIBUTES: &[&str] = &[
    "name",
    "task",
    "task_name",
    "pattern",
    "channel_type",
    "full_name",
    "value",
    "items_or_pipeline_channel",
    "is_with_items_loop_argument",
    "loop_argument",
    "subvar_name",
];

/// What a name or attribute is with respect to the open loops.
pub(in crate::analyze) enum LoopRef {
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
    let kind = ParamType::of_value;
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
    if let serde_json::Value::Object(first_map) = first
        && let Some(key) = first_map
            .keys()
            .find(|k| *k != "value" && KFP_ITEM_ATTRIBUTES.contains(&k.as_str()))
    {
        diagnostics.push(
            Diagnostic::error(span, format!("kfp 2.17.3 fails on dict items with the key `{key}`: it is the name of an attribute of its loop items"))
                .with_hint(format!("rename the key `{key}`")),
        );
        return None;
    }
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
