//! Where values may flow between blocks: kfp passes a value into blocks, never out of them,
//! and version 2.17.3 stops passing one below a loop whose item's name contains its name.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Argument, GroupKind};

use super::super::kfp::Body;

impl Body<'_> {
    /// kfp's name for a value, as it names the inputs that pass it into blocks.
    /// kfp's name for a value as it passes into blocks: a loop item's whole item, fields
    /// included (a field is selected at the task).
    pub(in crate::analyze) fn kfp_channel_name(&self, argument: &Argument) -> Option<String> {
        let argument = match argument {
            Argument::Constant(_) => return None,
            Argument::LoopItem { group, .. } => &Argument::LoopItem {
                group: *group,
                field: None,
            },
            other => other,
        };
        Some(crate::model::channel_name(
            &self.wiring.tasks,
            &self.wiring.groups,
            argument,
        ))
    }

    /// The name kfp gives the item of a loop group (`xs-loop-item`); `None` for other groups.
    pub(in crate::analyze) fn loop_item_name(&self, group: usize) -> Option<String> {
        matches!(self.wiring.groups.get(group)?.kind, GroupKind::Loop(_))
            .then(|| self.kfp_channel_name(&Argument::LoopItem { group, field: None }))
            .flatten()
    }

    /// kfp 2.17.3 stops passing a value down into nested blocks at the first loop whose item's
    /// name contains the value's name (a substring test in `get_inputs_for_all_groups`): `s`
    /// or `xs` inside a loop over `xs` (`xs-loop-item`). Below such a loop the value is
    /// missing, and the pipeline kfp writes cannot run. `here` is the chain of groups around
    /// the reader (a task, or a block that reads the value itself): the innermost one must
    /// receive the value.
    pub(in crate::analyze) fn passed_by_kfp(
        &self,
        argument: &Argument,
        here: &[usize],
        span: Span,
        diagnostics: &mut Diagnostics,
    ) -> bool {
        // Only the groups between where the value is made and the reader's own pass it on:
        // at the top level and one block deep (most readers) there are none.
        let Some((_, passing)) = here.split_last() else {
            return true;
        };
        if passing.is_empty() {
            return true;
        }
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
        if passing.len() <= origin {
            return true;
        }
        let Some(name) = self.kfp_channel_name(argument) else {
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
    pub(in crate::analyze) fn check_group_names(&self, diagnostics: &mut Diagnostics) {
        for task in &self.wiring.tasks {
            if self.wiring.groups.iter().any(|g| g.name == task.name) {
                diagnostics.push(
                    Diagnostic::error(task.span, format!("kfp names this task `{}`, as it names one of the pipeline's control-flow blocks", task.name))
                        .with_hint("rename the component: `condition`, `for_loop`, `exit_handler` and `condition_branches` clash with the names of blocks"),
                );
            }
        }
    }

    /// Whether the output of `producer` can be read here: kfp passes values into enclosing
    /// blocks only, never out of a `dsl.If`, `dsl.ParallelFor` or `dsl.ExitHandler` block.
    /// `here` is the chain of groups of the consumer; `data` is false for `.after(...)`, which
    /// may wait for a whole loop.
    pub(in crate::analyze) fn reachable(
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
                    if data {
                        "the exit task of a `dsl.ExitHandler` cannot pass outputs to other tasks"
                    } else {
                        "no task may wait for the exit task of a `dsl.ExitHandler`: it runs when the handler's tasks end"
                    },
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
}
