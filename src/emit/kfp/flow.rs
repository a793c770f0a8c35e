//! Control flow in the IR, as kfp 2.17.3 encodes it: each group is a task of its parent DAG
//! whose component is a DAG of its own. Values cross into a group as inputs named
//! `pipelinechannel--<channel>`, passed down through every group between where the value is
//! made and where it is used (kfp stops below a loop whose item's name contains the value's;
//! analysis refuses the pipelines where that leaves a group without the value); dependencies
//! hold between the outermost groups that differ.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyze::Analysis;
use crate::model::{Argument, GroupKind, IoType, LoopItems, Node, ParamType, Pipeline};

pub(super) struct Flow<'a> {
    pub(super) analysis: &'a Analysis,
    /// What each group takes from outside, by input name.
    pub(super) inputs: Vec<BTreeMap<String, Argument>>,
    /// What each task or group waits for, among its siblings.
    pub(super) dependencies: BTreeMap<Node, BTreeSet<Node>>,
    /// The outputs each loop collects (`dsl.Collected`), by output name: the task and its
    /// output.
    pub(super) collected: Vec<BTreeMap<String, (usize, String)>>,
}

/// A value that flows along the pipeline: anything but a constant.
fn is_channel(argument: &Argument) -> bool {
    !matches!(argument, Argument::Constant(_))
}

impl<'a> Flow<'a> {
    pub(super) fn new(analysis: &'a Analysis) -> Self {
        let pipeline = &analysis.pipeline;
        let mut flow = Flow {
            analysis,
            inputs: vec![BTreeMap::new(); pipeline.groups.len()],
            dependencies: BTreeMap::new(),
            collected: vec![BTreeMap::new(); pipeline.groups.len()],
        };
        for (index, task) in pipeline.tasks.iter().enumerate() {
            for (_, argument) in &task.arguments {
                if let Argument::Collected {
                    task: producer,
                    output,
                } = argument
                    && let Some(group) = pipeline.tasks[*producer].group
                {
                    let name = flow.collected_output(*producer, output);
                    flow.collected[group].insert(name, (*producer, output.clone()));
                }
            }
            let chain = pipeline.chain(task.group);
            let mut channels: Vec<Argument> = task
                .arguments
                .iter()
                .map(|(_, a)| a)
                .filter(|a| is_channel(a))
                .map(|a| flow.passed_down(a))
                .collect();
            let mut upstream: BTreeSet<usize> = task.dependencies().into_iter().collect();
            for &group in &chain {
                if let GroupKind::Condition(condition) = &pipeline.groups[group].kind {
                    for comparison in &condition.all {
                        for operand in [&comparison.left, &comparison.right] {
                            if let Argument::TaskOutput { task, .. } = operand {
                                upstream.insert(*task);
                            }
                            if is_channel(operand) {
                                channels.push(flow.passed_down(operand));
                            }
                        }
                    }
                }
            }
            for channel in channels {
                flow.pass_down(&channel, &chain);
            }
            for producer in upstream {
                flow.depend(Node::Task(index), Node::Task(producer));
            }
            if let Some(handler) = pipeline.exit_handler_of(index) {
                flow.dependencies
                    .entry(Node::Task(index))
                    .or_default()
                    .insert(Node::Group(handler));
            }
        }
        for (index, group) in pipeline.groups.iter().enumerate() {
            let chain = pipeline.chain(Some(index));
            match &group.kind {
                GroupKind::Loop(lp) => {
                    if let LoopItems::Channel(items) = &lp.items {
                        flow.pass_down(items, &chain);
                        if let Argument::TaskOutput { task, .. } = items {
                            flow.depend(Node::Group(index), Node::Task(*task));
                        }
                    }
                }
                GroupKind::Condition(condition) => {
                    // The condition reads its operands as they are, fields included.
                    for comparison in &condition.all {
                        for operand in [&comparison.left, &comparison.right] {
                            if is_channel(operand) {
                                let name = flow.input_name(operand);
                                flow.inputs[index].insert(name, operand.clone());
                            }
                        }
                    }
                }
                GroupKind::Branches | GroupKind::ExitHandler { .. } => {}
            }
        }
        flow
    }

    fn pipeline(&self) -> &'a Pipeline {
        &self.analysis.pipeline
    }

    /// What is passed into nested groups for a value: the whole item of a loop over a
    /// parameter or output (the field is selected at the task), a literal list's item field as
    /// it is, as kfp does.
    fn passed_down(&self, argument: &Argument) -> Argument {
        match argument {
            Argument::LoopItem {
                group,
                field: Some(_),
            } if matches!(&self.pipeline().groups[*group].kind,
                GroupKind::Loop(lp) if matches!(lp.items, LoopItems::Channel(_))) =>
            {
                Argument::LoopItem {
                    group: *group,
                    field: None,
                }
            }
            other => other.clone(),
        }
    }

    /// Makes `channel` an input of every group of `chain` below the place it is made, and, as
    /// kfp 2.17.3 does, of none below a loop whose item's name contains the channel's name
    /// (analysis refuses the pipelines where a group below needs it).
    fn pass_down(&mut self, channel: &Argument, chain: &[usize]) {
        let pipeline = self.pipeline();
        let start = match channel {
            Argument::TaskOutput { task, .. } => pipeline.chain(pipeline.tasks[*task].group).len(),
            // A loop's collected outputs are made where the loop is.
            Argument::Collected { task, .. } => pipeline
                .chain(pipeline.tasks[*task].group)
                .len()
                .saturating_sub(1),
            Argument::LoopItem { group, .. } => chain
                .iter()
                .position(|g| g == group)
                .map_or(chain.len(), |p| p + 1),
            _ => 0,
        };
        let name = self.input_name(channel);
        let kfp_name = self.channel_name(channel);
        for &group in chain.iter().skip(start) {
            self.inputs[group].insert(name.clone(), channel.clone());
            if let GroupKind::Loop(_) = &pipeline.groups[group].kind {
                let item = self.channel_name(&Argument::LoopItem { group, field: None });
                if item.contains(&kfp_name) {
                    break;
                }
            }
        }
    }

    /// `downstream` waits for `upstream`: recorded between the outermost tasks or groups in
    /// which their places differ.
    fn depend(&mut self, downstream: Node, upstream: Node) {
        let path = |node: Node| -> Vec<Node> {
            let group = match node {
                Node::Task(t) => self.pipeline().tasks[t].group,
                Node::Group(g) => self.pipeline().groups[g].parent,
            };
            let mut path: Vec<Node> = self
                .pipeline()
                .chain(group)
                .into_iter()
                .map(Node::Group)
                .collect();
            path.push(node);
            path
        };
        let (down, up) = (path(downstream), path(upstream));
        let common = down.iter().zip(&up).take_while(|(a, b)| a == b).count();
        if let (Some(d), Some(u)) = (down.get(common), up.get(common)) {
            self.dependencies.entry(*d).or_default().insert(*u);
        }
    }

    pub(super) fn node_name(&self, node: Node) -> &'a str {
        match node {
            Node::Task(t) => &self.pipeline().tasks[t].name,
            Node::Group(g) => &self.pipeline().groups[g].name,
        }
    }

    /// The sorted names of what a task or group waits for.
    pub(super) fn dependent_tasks(&self, node: Node) -> Vec<String> {
        let mut names: Vec<String> = self
            .dependencies
            .get(&node)
            .into_iter()
            .flatten()
            .map(|n| self.node_name(*n).to_owned())
            .collect();
        names.sort();
        names
    }

    pub(super) fn channel_name(&self, argument: &Argument) -> String {
        let pipeline = self.pipeline();
        crate::model::channel_name(&pipeline.tasks, &pipeline.groups, argument)
    }

    /// The output of a loop's group that collects a task's output.
    pub(super) fn collected_output(&self, task: usize, output: &str) -> String {
        crate::model::collected_output(&self.pipeline().tasks, task, output)
    }

    pub(super) fn input_name(&self, argument: &Argument) -> String {
        format!("pipelinechannel--{}", self.channel_name(argument))
    }

    /// The type kfp declares for a value crossing into a group.
    pub(super) fn channel_type(&self, argument: &Argument) -> IoType {
        let pipeline = self.pipeline();
        match argument {
            Argument::PipelineParam(name) => IoType::Parameter(
                pipeline
                    .params
                    .iter()
                    .find(|p| &p.name == name)
                    .map_or(ParamType::String, |p| p.ty),
            ),
            Argument::TaskOutput { task, output } => self.analysis.components
                [pipeline.tasks[*task].component]
                .output(output)
                .map_or(IoType::Parameter(ParamType::String), |o| o.ty),
            Argument::LoopItem { group, field } => match &pipeline.groups[*group].kind {
                GroupKind::Loop(lp) if field.is_some() => {
                    IoType::Parameter(lp.field_type.unwrap_or(ParamType::String))
                }
                GroupKind::Loop(lp) => IoType::Parameter(lp.item_type.unwrap_or(ParamType::String)),
                _ => IoType::Parameter(ParamType::String),
            },
            Argument::Constant(value) => IoType::Parameter(constant_type(value)),
            Argument::Collected { task, output } => {
                match self.analysis.components[pipeline.tasks[*task].component]
                    .output(output)
                    .map(|o| o.ty)
                {
                    Some(IoType::Artifact(ty)) => IoType::ArtifactList(ty),
                    _ => IoType::Parameter(ParamType::List),
                }
            }
        }
    }

    /// The CEL text of a condition group: every comparison, joined with `&&`.
    pub(super) fn condition(&self, comparisons: &[crate::model::Comparison]) -> String {
        comparisons
            .iter()
            .map(|c| {
                let types = [self.operand_type(&c.left), self.operand_type(&c.right)];
                let canonical = if types[0] == types[1] {
                    types[0]
                } else {
                    ParamType::Double
                };
                let left = self.operand(&c.left, types[0], canonical);
                let right = self.operand(&c.right, types[1], canonical);
                let text = format!("{left} {} {right}", c.op);
                if c.negate { format!("!({text})") } else { text }
            })
            .collect::<Vec<_>>()
            .join(" && ")
    }

    fn operand_type(&self, argument: &Argument) -> ParamType {
        match self.channel_type(argument) {
            IoType::Parameter(ty) => ty,
            IoType::Artifact(_) | IoType::ArtifactList(_) => ParamType::String,
        }
    }

    fn operand(&self, argument: &Argument, ty: ParamType, canonical: ParamType) -> String {
        let text = match argument {
            Argument::Constant(serde_json::Value::String(s)) => format!("'{s}'"),
            Argument::Constant(serde_json::Value::Number(n)) if n.is_f64() => {
                crate::python::float_repr(n.as_f64().unwrap_or_default())
            }
            Argument::Constant(value) => value.to_string(),
            channel => {
                let text = format!("inputs.parameter_values['{}']", self.input_name(channel));
                if ty == ParamType::Integer {
                    format!("int({text})")
                } else {
                    text
                }
            }
        };
        if ty == canonical {
            text
        } else {
            format!("double({text})")
        }
    }
}

fn constant_type(value: &serde_json::Value) -> ParamType {
    ParamType::of_value(value).unwrap_or(ParamType::String)
}
