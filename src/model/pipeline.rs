//! The pipeline: parameters and a DAG of tasks, each a call of a component.

use super::ParamType;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PipelineParam {
    pub(crate) name: String,
    pub(crate) ty: ParamType,
    pub(crate) default: Option<serde_json::Value>,
}

/// Where a task input's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Argument {
    PipelineParam(String),
    Constant(serde_json::Value),
    /// An output of an earlier task (an index into [`Pipeline::tasks`]).
    TaskOutput {
        task: usize,
        output: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Task {
    /// Unique across the pipeline, as KFP makes it (`train-model`, `train-model-2`).
    pub(crate) name: String,
    /// An index into the compiled components.
    pub(crate) component: usize,
    /// The Python variable for the task in `pipelines/pipeline.py`.
    pub(crate) variable: String,
    /// Arguments in the order the inputs are declared.
    pub(crate) arguments: Vec<(String, Argument)>,
    /// Explicit `.after(...)` dependencies (indices of earlier tasks).
    pub(crate) after: Vec<usize>,
}

impl Task {
    /// Every task this one waits for: explicit `.after` and every producer it reads from.
    pub(crate) fn dependencies(&self) -> Vec<usize> {
        let mut deps: Vec<usize> = self
            .after
            .iter()
            .copied()
            .chain(self.arguments.iter().filter_map(|(_, arg)| match arg {
                Argument::TaskOutput { task, .. } => Some(*task),
                _ => None,
            }))
            .collect();
        deps.sort_unstable();
        deps.dedup();
        deps
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pipeline {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) params: Vec<PipelineParam>,
    /// In definition order, which is a topological order: arguments only name earlier tasks.
    pub(crate) tasks: Vec<Task>,
}
