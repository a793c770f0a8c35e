//! `automlops graph`: the compiled DAG as a picture. [`Graph`] says what is drawn, once: tasks
//! (with their component and display names; importers and prebuilt components marked), data
//! edges labelled with the output and the input they connect, `.after` edges, and conditions,
//! loops (with their parallelism) and exit handlers as nested groups. Each format is one file
//! that says how: Mermaid (which GitHub and GitLab render in Markdown), Graphviz DOT, and SVG
//! (drawn by the layout-rs crate from the DOT, no Graphviz needed).

mod dot;
mod mermaid;
mod svg;

use crate::analyze::Analysis;
use crate::model::control::{Comparison, GroupKind, LoopItems, Node};
use crate::model::{Argument, ComponentSource, Pipeline};

/// The formats `automlops graph --format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
    Svg,
}

/// What a task node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A component of the notebook, run in the component image.
    Component,
    /// A Google Cloud Pipeline Component, run in Google's image.
    Prebuilt,
    /// `dsl.importer`: records an existing artifact, runs nothing.
    Importer,
    /// A container component or a loaded component file: an image of its own.
    Container,
    /// A component run as a Vertex AI `CustomJob` (`custom_training_job_specs`).
    CustomJob,
}

struct TaskNode {
    /// `t0`, `t1`...: safe in every format.
    id: String,
    /// The display name, else the task name.
    title: String,
    /// The component it runs.
    component: String,
    kind: Kind,
}

struct Edge {
    from: usize,
    to: usize,
    /// `output → input` for data; empty for `.after`.
    label: String,
    after: bool,
}

/// A condition, a loop or an exit handler, and what it holds.
struct Cluster {
    id: String,
    title: String,
    body: Vec<Member>,
}

enum Member {
    Task(usize),
    Cluster(Cluster),
}

pub(crate) struct Graph {
    name: String,
    tasks: Vec<TaskNode>,
    edges: Vec<Edge>,
    body: Vec<Member>,
    /// Exit handlers: the group's id, and the task that runs after it, whatever happens.
    exits: Vec<(String, usize)>,
    /// Task outputs a group reads (a loop's items, a condition's operands): task, group id,
    /// label.
    into_groups: Vec<(usize, String, String)>,
}

/// The graph of the compiled pipeline, in one format.
pub(crate) fn render(analysis: &Analysis, format: Format) -> Result<String, super::EmitError> {
    let graph = Graph::new(analysis);
    match format {
        Format::Mermaid => Ok(mermaid::render(&graph)),
        Format::Dot => Ok(dot::render(&graph)),
        Format::Svg => svg::render(&graph).map_err(|e| super::EmitError::new("graph.svg", e)),
    }
}

/// The Mermaid form, for the generated README.
pub(crate) fn mermaid(analysis: &Analysis) -> String {
    mermaid::render(&Graph::new(analysis))
}

fn argument_text(pipeline: &Pipeline, argument: &Argument) -> String {
    match argument {
        Argument::PipelineParam(name) => name.clone(),
        Argument::Constant(value) => value.to_string(),
        Argument::TaskOutput { task, output } => {
            format!("{}.{output}", pipeline.tasks[*task].name)
        }
        Argument::Collected { task, output } => {
            format!("collected {}.{output}", pipeline.tasks[*task].name)
        }
        Argument::LoopItem { field, .. } => match field {
            Some(field) => format!("item.{field}"),
            None => "item".to_owned(),
        },
    }
}

fn comparison_text(pipeline: &Pipeline, comparison: &Comparison) -> String {
    let text = format!(
        "{} {} {}",
        argument_text(pipeline, &comparison.left),
        comparison.op,
        argument_text(pipeline, &comparison.right)
    );
    if comparison.negate {
        format!("not ({text})")
    } else {
        text
    }
}

impl Graph {
    fn new(analysis: &Analysis) -> Self {
        let pipeline = &analysis.pipeline;
        let tasks = pipeline
            .tasks
            .iter()
            .enumerate()
            .map(|(i, task)| {
                let component = &analysis.components[task.component];
                let kind = match component.source {
                    _ if component.custom_job.is_some() => Kind::CustomJob,
                    ComponentSource::Prebuilt(_) => Kind::Prebuilt,
                    ComponentSource::Importer(_) => Kind::Importer,
                    ComponentSource::Container(_) => Kind::Container,
                    ComponentSource::Body { .. } | ComponentSource::Function { .. } => {
                        Kind::Component
                    }
                };
                TaskNode {
                    id: format!("t{i}"),
                    title: task
                        .settings
                        .display_name
                        .clone()
                        .unwrap_or_else(|| task.name.clone()),
                    component: component.name.to_string(),
                    kind,
                }
            })
            .collect();
        let mut edges = Vec::new();
        for (to, task) in pipeline.tasks.iter().enumerate() {
            for (input, argument) in &task.arguments {
                match argument {
                    Argument::TaskOutput { task: from, output } => edges.push(Edge {
                        from: *from,
                        to,
                        label: format!("{output} → {input}"),
                        after: false,
                    }),
                    Argument::Collected { task: from, output } => edges.push(Edge {
                        from: *from,
                        to,
                        label: format!("collected {output} → {input}"),
                        after: false,
                    }),
                    _ => {}
                }
            }
            for from in &task.after {
                if !edges.iter().any(|e| e.from == *from && e.to == to) {
                    edges.push(Edge {
                        from: *from,
                        to,
                        label: String::new(),
                        after: true,
                    });
                }
            }
        }
        let body = members(pipeline, &pipeline.body);
        let exits = pipeline
            .groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| match g.kind {
                GroupKind::ExitHandler { exit_task } => Some((format!("g{i}"), exit_task)),
                _ => None,
            })
            .collect();
        let mut into_groups = Vec::new();
        for (i, group) in pipeline.groups.iter().enumerate() {
            let read: Vec<(&Argument, &str)> = match &group.kind {
                GroupKind::Loop(lp) => match &lp.items {
                    LoopItems::Channel(argument) => vec![(argument, "items")],
                    LoopItems::Raw { .. } => Vec::new(),
                },
                GroupKind::Condition(condition) => condition
                    .own()
                    .map(|c| vec![(&c.left, "condition"), (&c.right, "condition")])
                    .unwrap_or_default(),
                GroupKind::Branches | GroupKind::ExitHandler { .. } => Vec::new(),
            };
            for (argument, role) in read {
                if let Argument::TaskOutput { task, output } = argument {
                    into_groups.push((*task, format!("g{i}"), format!("{output} → {role}")));
                }
            }
        }
        Graph {
            name: pipeline.name.clone(),
            tasks,
            edges,
            body,
            exits,
            into_groups,
        }
    }
}

fn members(pipeline: &Pipeline, nodes: &[Node]) -> Vec<Member> {
    nodes
        .iter()
        .map(|node| match node {
            Node::Task(task) => Member::Task(*task),
            Node::Group(group) => {
                let g = &pipeline.groups[*group];
                let title = match &g.kind {
                    GroupKind::Condition(condition) => match condition.own() {
                        Some(comparison) => format!(
                            "{} {}",
                            condition.branch.dsl(),
                            comparison_text(pipeline, comparison)
                        ),
                        None => condition.branch.dsl().to_owned(),
                    },
                    GroupKind::Branches => "branches".to_owned(),
                    GroupKind::Loop(lp) => {
                        let items = match &lp.items {
                            LoopItems::Channel(argument) => argument_text(pipeline, argument),
                            LoopItems::Raw { values, .. } => {
                                serde_json::Value::Array(values.clone()).to_string()
                            }
                        };
                        let parallelism = if lp.parallelism > 0 {
                            format!(", {} at a time", lp.parallelism)
                        } else {
                            String::new()
                        };
                        format!("for each {} in {items}{parallelism}", lp.variable)
                    }
                    GroupKind::ExitHandler { .. } => "exit handler".to_owned(),
                };
                Member::Cluster(Cluster {
                    id: format!("g{group}"),
                    title,
                    body: members(pipeline, &g.body),
                })
            }
        })
        .collect()
}

impl Graph {
    /// The first task inside the group `id`, where an edge leaving the group starts.
    fn first_task_of(&self, id: &str) -> Option<usize> {
        fn find(members: &[Member], id: &str, inside: bool) -> Option<usize> {
            members.iter().find_map(|member| match member {
                Member::Task(task) => inside.then_some(*task),
                Member::Cluster(cluster) => find(&cluster.body, id, inside || cluster.id == id),
            })
        }
        find(&self.body, id, false)
    }
}

/// What a node says: its title, and its component where that differs, and its kind.
fn node_lines(task: &TaskNode) -> Vec<String> {
    let mut lines = vec![task.title.clone()];
    let kind = match task.kind {
        Kind::Component => None,
        Kind::Prebuilt => Some("prebuilt"),
        Kind::Importer => Some("importer"),
        Kind::Container => Some("container"),
        Kind::CustomJob => Some("custom job"),
    };
    // A task named after its component (`create-dataset` runs `create_dataset`) says it once.
    let same = task.component.replace('_', "-") == task.title;
    match (kind, same) {
        (Some(kind), true) => lines.push(format!("({kind})")),
        (Some(kind), false) => lines.push(format!("{} ({kind})", task.component)),
        (None, false) => lines.push(task.component.clone()),
        (None, true) => {}
    }
    lines
}
