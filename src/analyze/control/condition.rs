//! `dsl.If`, `dsl.Elif`, `dsl.Else` and `dsl.Condition`: the chain of condition groups kfp
//! builds (with its `condition-branches` wrapper), and the comparisons kfp can write as CEL.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Argument, Branch, Comparison, Condition, GroupKind, IoType, Node, ParamType};
use crate::python::ast::{CmpOp, Expr, Keyword};

use super::super::kfp::Body;
use super::bind;

impl Body<'_> {
    pub(in crate::analyze) fn open_if(
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
    pub(in crate::analyze) fn open_branch(
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
    pub(in crate::analyze) fn comparison(
        &mut self,
        expr: &Expr,
        diagnostics: &mut Diagnostics,
    ) -> Option<Comparison> {
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
    pub(in crate::analyze) fn operand_type(&self, arg: &Argument) -> Result<ParamType, String> {
        let ty = match arg {
            Argument::Constant(value) => match ParamType::of_value(value) {
                None => return Err("`None`".to_owned()),
                Some(ParamType::List) => return Err("a list".to_owned()),
                Some(ParamType::Struct) => return Err("a dict".to_owned()),
                Some(ty) => ty,
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
}
