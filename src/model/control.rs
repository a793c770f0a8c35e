//! Control flow: the groups kfp builds from `dsl.If`/`dsl.Elif`/`dsl.Else` (and the older
//! `dsl.Condition`), `dsl.ParallelFor` and `dsl.ExitHandler`. A group is a sub-DAG of the
//! pipeline; the pipeline body and every group body are ordered lists of [`Node`]s.

use super::{Argument, ParamType, Task};

/// One entry of a body, in the order the notebook writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Node {
    /// An index into [`super::Pipeline::tasks`].
    Task(usize),
    /// An index into [`super::Pipeline::groups`].
    Group(usize),
}

/// The exit handler group whose exit task `task` is.
pub(crate) fn exit_handler_of(groups: &[Group], task: usize) -> Option<usize> {
    groups
        .iter()
        .position(|g| matches!(g.kind, GroupKind::ExitHandler { exit_task } if exit_task == task))
}

/// kfp's name for a value, from which it names the inputs that pass it into groups
/// (`pipelinechannel--<name>`): `threshold`, `train-model-accuracy`, `xs-loop-item`,
/// `loop-item-param-2-subvar-n`, `for-loop-2-pipelinechannel--double-Output`. Empty for a
/// constant.
pub(crate) fn channel_name(tasks: &[Task], groups: &[Group], argument: &Argument) -> String {
    match argument {
        Argument::Constant(_) => String::new(),
        Argument::PipelineParam(name) => name.clone(),
        Argument::TaskOutput { task, output } => format!("{}-{output}", tasks[*task].name),
        // Out of its loop, a collected output is an output of the loop's group.
        Argument::Collected { task, output } => {
            let group = tasks[*task].group.unwrap_or_default();
            format!(
                "{}-{}",
                groups[group].name,
                collected_output(tasks, *task, output)
            )
        }
        Argument::LoopItem { group, field } => {
            let GroupKind::Loop(lp) = &groups[*group].kind else {
                return String::new();
            };
            let item = match &lp.items {
                LoopItems::Channel(items) => {
                    format!("{}-loop-item", channel_name(tasks, groups, items))
                }
                LoopItems::Raw { code, .. } => format!("loop-item-param-{code}"),
            };
            match field {
                Some(field) => format!("{item}-subvar-{field}"),
                None => item,
            }
        }
    }
}

/// The output of a loop's group that collects a task's output (`dsl.Collected`).
pub(crate) fn collected_output(tasks: &[Task], task: usize, output: &str) -> String {
    format!("pipelinechannel--{}-{output}", tasks[task].name)
}

/// The groups around `group`, outermost first, ending with `group` itself; empty for the root.
pub(crate) fn chain(groups: &[Group], group: Option<usize>) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut current = group;
    while let Some(g) = current {
        chain.push(g);
        current = groups[g].parent;
    }
    chain.reverse();
    chain
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    /// kfp's name, from one pipeline-wide counter: `condition-3`, `for-loop-2`,
    /// `exit-handler-1`, `condition-branches-4`.
    pub(crate) name: String,
    /// The `name=` argument: the group task's display name.
    pub(crate) display_name: Option<String>,
    pub(crate) kind: GroupKind,
    /// The enclosing group; `None` for the pipeline's root DAG.
    pub(crate) parent: Option<usize>,
    pub(crate) body: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum GroupKind {
    Condition(Condition),
    /// The group kfp wraps an `If`/`Elif`/`Else` chain in.
    Branches,
    Loop(Loop),
    /// `dsl.ExitHandler(exit_task)`: the exit task runs when the group ends, however it ends.
    ExitHandler {
        exit_task: usize,
    },
}

/// How the notebook opened a condition block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Branch {
    If,
    /// The deprecated alias of `If`.
    Condition,
    Elif,
    Else,
}

impl Branch {
    pub(crate) fn dsl(self) -> &'static str {
        match self {
            Branch::If => "If",
            Branch::Condition => "Condition",
            Branch::Elif => "Elif",
            Branch::Else => "Else",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    pub(crate) branch: Branch,
    /// Every comparison that must hold, as kfp conjoins them: the negations of the earlier
    /// branches of the chain, then this branch's own (none for `Else`).
    pub(crate) all: Vec<Comparison>,
}

impl Condition {
    /// The comparison the notebook wrote on this branch (`None` for `Else`).
    pub(crate) fn own(&self) -> Option<&Comparison> {
        match self.branch {
            Branch::Else => None,
            _ => self.all.last(),
        }
    }
}

/// `left op right`, one of the six comparisons kfp turns into a CEL condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) left: Argument,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    pub(crate) op: &'static str,
    pub(crate) right: Argument,
    /// An earlier branch's comparison, which must not hold here.
    pub(crate) negate: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Loop {
    pub(crate) items: LoopItems,
    /// `parallelism=`; 0 is unlimited.
    pub(crate) parallelism: i64,
    /// The loop variable in the notebook (`with dsl.ParallelFor(xs) as item:`).
    pub(crate) variable: String,
    /// The type kfp gives the item; `None` where kfp cannot tell (a `list` parameter, any
    /// task output), which it declares a string and does not check.
    pub(crate) item_type: Option<ParamType>,
    /// The type kfp gives a field of a dict item (`item.n`), likewise.
    pub(crate) field_type: Option<ParamType>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LoopItems {
    /// A pipeline parameter or a task output holding a list.
    Channel(Argument),
    /// A literal list, with the number kfp took from its group counter for its name.
    Raw {
        values: Vec<serde_json::Value>,
        code: usize,
    },
}
