//! `dsl.ExitHandler(exit_task)`, and the `dsl.PipelineTaskFinalStatus` only an exit task may
//! take.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Argument, GroupKind, IoType, ParamType};
use crate::python::ast::{Expr, Keyword};

use super::super::kfp::Body;
use super::bind;

impl Body<'_> {
    pub(in crate::analyze) fn open_exit_handler(
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
        // Named as an exit task: even if refused below, it is not reported as one that is not.
        self.exit_tasks.insert(exit_task);
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

    /// kfp gives a `dsl.PipelineTaskFinalStatus` input only to the exit task of an exit
    /// handler, and refuses it anywhere else.
    pub(in crate::analyze) fn check_final_status(&self, diagnostics: &mut Diagnostics) {
        for (index, task) in self.wiring.tasks.iter().enumerate() {
            let component = &self.wiring.components[task.component];
            let status = component
                .inputs
                .iter()
                .find(|i| i.ty == IoType::Parameter(ParamType::TaskFinalStatus));
            if let Some(status) = status
                && !self.exit_tasks.contains(&index)
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
}
