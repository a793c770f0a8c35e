//! Builds the pipeline's DAG task by task, with the checks both syntaxes share: every argument
//! names an input, its type fits, no required input is left out. Task names are made unique
//! the way KFP does it (`train-model`, `train-model-2`).

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Argument, Component, Group, GroupKind, IoType, Node, PipelineParam, Task};

use super::suggest::did_you_mean;

/// Components whose definitions have errors: calls of them are not checked again, so one
/// mistake gives one error.
#[derive(Debug, Default)]
pub(crate) struct Failed {
    pub(crate) names: std::collections::BTreeSet<String>,
    /// A cell could not be parsed, or a component's name could not be read, so any component
    /// may be the one that failed.
    pub(crate) unreadable_definitions: bool,
}

impl Failed {
    pub(crate) fn covers(&self, name: &str) -> bool {
        self.unreadable_definitions || self.names.contains(name)
    }
}

/// A component call as the notebook writes it.
pub(crate) struct Call {
    /// An index into the components.
    pub(crate) component: usize,
    pub(crate) variable: String,
    /// The arguments whose values resolved.
    pub(crate) written: Vec<WrittenArgument>,
    /// Every input name the call gives, resolved or not: an argument whose value was rejected
    /// is wrong, not missing.
    pub(crate) attempted: Vec<String>,
    /// False when the call's arguments cannot all be known (positional arguments), so missing
    /// ones are not reported.
    pub(crate) complete: bool,
    pub(crate) after: Vec<usize>,
    pub(crate) span: Span,
}

/// One argument as written, with where.
pub(crate) struct WrittenArgument {
    pub(crate) input: String,
    pub(crate) input_span: Span,
    pub(crate) value: Argument,
    pub(crate) value_span: Span,
}

pub(crate) struct Wiring<'a> {
    pub(crate) components: &'a [Component],
    pub(crate) params: &'a [PipelineParam],
    pub(crate) tasks: Vec<Task>,
    pub(crate) groups: Vec<Group>,
    /// The root body: tasks and groups in notebook order.
    pub(crate) body: Vec<Node>,
    /// The group new tasks and groups go into; `None` is the root DAG.
    pub(crate) current: Option<usize>,
    name_counts: HashMap<String, usize>,
    /// kfp's pipeline-wide counter for group names and static loop items.
    group_ids: usize,
}

impl<'a> Wiring<'a> {
    pub(crate) fn new(components: &'a [Component], params: &'a [PipelineParam]) -> Self {
        Self {
            components,
            params,
            tasks: Vec::new(),
            groups: Vec::new(),
            body: Vec::new(),
            current: None,
            name_counts: HashMap::new(),
            group_ids: 0,
        }
    }

    /// The pipeline's tasks, groups and root body.
    pub(crate) fn finish(self) -> (Vec<Task>, Vec<Group>, Vec<Node>) {
        (self.tasks, self.groups, self.body)
    }

    /// The next number of kfp's group counter.
    pub(crate) fn next_group_id(&mut self) -> usize {
        self.group_ids += 1;
        self.group_ids
    }

    fn push_node(&mut self, node: Node) {
        match self.current {
            Some(group) => self.groups[group].body.push(node),
            None => self.body.push(node),
        }
    }

    /// Opens a group inside the current one and makes it current.
    pub(crate) fn open_group(
        &mut self,
        name: String,
        display_name: Option<String>,
        kind: GroupKind,
    ) -> usize {
        self.groups.push(Group {
            name,
            display_name,
            kind,
            parent: self.current,
            body: Vec::new(),
        });
        let group = self.groups.len() - 1;
        self.push_node(Node::Group(group));
        self.current = Some(group);
        group
    }

    /// The body new nodes go into.
    pub(crate) fn body_of_current(&self) -> &[Node] {
        match self.current {
            Some(group) => &self.groups[group].body,
            None => &self.body,
        }
    }

    /// Moves `last`, the last node of the current body, into a new `condition-branches`
    /// group in its place, and makes that group current.
    pub(crate) fn wrap_last(&mut self, last: usize, name: String) {
        match self.current {
            Some(group) => self.groups[group].body.pop(),
            None => self.body.pop(),
        };
        let wrapper = self.open_group(name, None, GroupKind::Branches);
        self.groups[wrapper].body.push(Node::Group(last));
        self.groups[last].parent = Some(wrapper);
    }

    /// The exit handler group whose exit task `task` is.
    pub(crate) fn exit_handler_of(&self, task: usize) -> Option<usize> {
        crate::model::exit_handler_of(&self.groups, task)
    }

    /// Closes the current group: its parent becomes current.
    pub(crate) fn close_group(&mut self) {
        if let Some(group) = self.current {
            self.current = self.groups[group].parent;
        }
    }

    /// The groups around the current position, outermost first.
    pub(crate) fn current_chain(&self) -> Vec<usize> {
        crate::model::chain(&self.groups, self.current)
    }

    /// The groups around a task, outermost first.
    pub(crate) fn task_chain(&self, task: usize) -> Vec<usize> {
        crate::model::chain(&self.groups, self.tasks[task].group)
    }

    /// The type an argument carries.
    pub(crate) fn argument_type(&self, argument: &Argument) -> Option<IoType> {
        match argument {
            Argument::PipelineParam(name) => self
                .params
                .iter()
                .find(|p| &p.name == name)
                .map(|p| IoType::Parameter(p.ty)),
            Argument::Constant(_) => None,
            Argument::TaskOutput { task, output } => {
                let component = &self.components[self.tasks[*task].component];
                component.output(output).map(|o| o.ty)
            }
            Argument::LoopItem { group, field } => self.loop_item_type(*group, field.is_some()),
            Argument::Collected { task, output } => {
                let component = &self.components[self.tasks[*task].component];
                Some(match component.output(output).map(|o| o.ty) {
                    Some(IoType::Artifact(ty)) => IoType::ArtifactList(ty),
                    _ => IoType::Parameter(crate::model::ParamType::List),
                })
            }
        }
    }

    /// The type kfp checks a loop item against: known for a literal list (from its first
    /// element, as kfp takes it); an item of a list parameter or output is not checked.
    pub(crate) fn loop_item_type(&self, group: usize, field: bool) -> Option<IoType> {
        let GroupKind::Loop(lp) = &self.groups[group].kind else {
            return None;
        };
        if field { lp.field_type } else { lp.item_type }.map(IoType::Parameter)
    }

    fn describe(&self, argument: &Argument) -> String {
        match argument {
            Argument::PipelineParam(name) => format!("pipeline parameter `{name}`"),
            Argument::Constant(value) => format!("the constant `{}`", python_literal(value)),
            Argument::TaskOutput { task, output } if output == "Output" => {
                format!("the return value of task `{}`", self.tasks[*task].variable)
            }
            Argument::TaskOutput { task, output } => {
                format!("output `{output}` of task `{}`", self.tasks[*task].variable)
            }
            Argument::Collected { task, output } => format!(
                "output `{output}` of task `{}` collected over its loop",
                self.tasks[*task].variable
            ),
            Argument::LoopItem { group, field } => {
                let variable = match &self.groups[*group].kind {
                    GroupKind::Loop(lp) => lp.variable.as_str(),
                    _ => "item",
                };
                match field {
                    Some(field) => format!("loop item field `{variable}.{field}`"),
                    None => format!("loop item `{variable}`"),
                }
            }
        }
    }

    /// Adds a call of a component. Reports every problem with the arguments and still adds the
    /// task (with the good arguments), so later tasks that use it are checked too.
    pub(crate) fn add_task(&mut self, call: Call, diagnostics: &mut Diagnostics) -> usize {
        let Call {
            component,
            variable,
            written,
            attempted,
            complete,
            after,
            span: call_span,
        } = call;
        let spec = &self.components[component];
        let mut arguments: Vec<(String, Argument)> = Vec::new();
        for arg in written {
            let Some(input) = spec.input(&arg.input) else {
                let names = spec.inputs.iter().map(|i| i.name.as_str());
                let hint = did_you_mean(&arg.input, names).map_or_else(
                    || {
                        format!(
                            "its inputs are {}",
                            list_names(spec.inputs.iter().map(|i| i.name.as_str()))
                        )
                    },
                    |s| format!("did you mean `{s}`?"),
                );
                diagnostics.push(
                    Diagnostic::error(
                        arg.input_span,
                        format!("component `{}` has no input `{}`", spec.name, arg.input),
                    )
                    .with_hint(hint),
                );
                continue;
            };
            if arguments.iter().any(|(name, _)| name == &arg.input) {
                diagnostics.push(Diagnostic::error(
                    arg.input_span,
                    format!(
                        "input `{}` of component `{}` is given twice",
                        arg.input, spec.name
                    ),
                ));
                continue;
            }
            let fits = match (&arg.value, self.argument_type(&arg.value), input.ty) {
                (Argument::Constant(value), _, IoType::Parameter(ty)) => ty.accepts_argument(value),
                (Argument::Constant(_), _, IoType::Artifact(_) | IoType::ArtifactList(_)) => false,
                (_, Some(IoType::Parameter(have)), IoType::Parameter(want)) => have == want,
                (_, Some(IoType::Artifact(have)), IoType::Artifact(want))
                | (_, Some(IoType::ArtifactList(have)), IoType::ArtifactList(want)) => {
                    have.compatible(want)
                }
                (_, Some(_), _) => false,
                (_, None, _) => true,
            };
            if matches!(arg.value, Argument::Constant(serde_json::Value::Null)) {
                diagnostics.push(
                    Diagnostic::error(
                        arg.value_span,
                        format!(
                            "`None` cannot be passed to input `{}` of component `{}`",
                            arg.input, spec.name
                        ),
                    )
                    .with_hint(format!("leave `{}` out to use its default", arg.input)),
                );
                continue;
            }
            if !fits {
                let have = self
                    .argument_type(&arg.value)
                    .map_or_else(|| constant_kind(&arg.value).to_owned(), |t| t.to_string());
                let mut diagnostic = Diagnostic::error(
                    arg.value_span,
                    format!(
                        "input `{}` of component `{}` is {}, but {} is {have}",
                        arg.input,
                        spec.name,
                        input.ty,
                        self.describe(&arg.value)
                    ),
                );
                if let (IoType::Artifact(_), Some(IoType::Parameter(_)) | None) =
                    (input.ty, self.argument_type(&arg.value))
                {
                    diagnostic = diagnostic
                        .with_hint("artifacts come from other tasks: pass `task.outputs[\"name\"]` of a task that outputs one");
                }
                if let Argument::Constant(value) = &arg.value
                    && crate::model::holds_none(value)
                {
                    diagnostic = diagnostic
                        .with_hint("kfp refuses `None` inside a constant list or dict: use a value, or leave the entry out");
                }
                if input.ty == IoType::Parameter(crate::model::ParamType::TaskFinalStatus) {
                    diagnostic = diagnostic.with_hint("kfp fills this input in for the exit task of a `dsl.ExitHandler`: leave it out");
                }
                if let (
                    IoType::Parameter(crate::model::ParamType::Double),
                    Argument::Constant(serde_json::Value::Number(n)),
                ) = (input.ty, &arg.value)
                    && let Some(n) = n.as_i64()
                {
                    diagnostic = diagnostic.with_hint(format!(
                        "kfp refuses an integer for a `float` input: write `{n}.0`"
                    ));
                }
                diagnostics.push(diagnostic);
                continue;
            }
            arguments.push((arg.input, arg.value));
        }
        let missing: Vec<&str> = spec
            .inputs
            .iter()
            .filter(|input| {
                !input.optional
                    && !attempted.contains(&input.name)
                    && !arguments.iter().any(|(name, _)| name == &input.name)
            })
            .map(|input| input.name.as_str())
            .collect();
        if complete && !missing.is_empty() {
            let plural = if missing.len() == 1 { "" } else { "s" };
            diagnostics.push(Diagnostic::error(
                call_span,
                format!(
                    "component `{}` is missing the argument{plural} {}",
                    spec.name,
                    list_names(missing.iter().copied())
                ),
            ));
        }
        // Inputs in declaration order, as the generated code lists them.
        arguments.sort_by_key(|(name, _)| spec.inputs.iter().position(|i| &i.name == name));
        let base = spec.kfp_name();
        let count = self.name_counts.entry(base.clone()).or_insert(0);
        *count += 1;
        let name = if *count == 1 {
            base
        } else {
            format!("{base}-{count}")
        };
        self.tasks.push(Task {
            name,
            component,
            variable,
            arguments,
            after,
            span: call_span,
            settings: crate::model::TaskSettings::default(),
            group: self.current,
        });
        let task = self.tasks.len() - 1;
        self.push_node(Node::Task(task));
        task
    }
}

/// A constant as Python writes it, for messages.
fn python_literal(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "None".to_owned(),
        serde_json::Value::Bool(true) => "True".to_owned(),
        serde_json::Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

fn constant_kind(argument: &Argument) -> &'static str {
    match argument {
        Argument::Constant(serde_json::Value::String(_)) => "a string",
        Argument::Constant(serde_json::Value::Number(n)) if n.is_f64() => "a float",
        Argument::Constant(serde_json::Value::Number(_)) => "an integer",
        Argument::Constant(serde_json::Value::Bool(_)) => "a boolean",
        Argument::Constant(serde_json::Value::Array(_)) => "a list",
        Argument::Constant(serde_json::Value::Object(_)) => "a dict",
        _ => "a constant",
    }
}

/// "`a`, `b` and `c`".
pub(crate) fn list_names<'s>(names: impl IntoIterator<Item = &'s str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    match names.as_slice() {
        [] => "(none)".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
