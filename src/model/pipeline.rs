//! The pipeline: parameters and a DAG of tasks, each a call of a component.

use super::ParamType;
use super::control::{Group, Node};

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PipelineParam {
    pub(crate) name: String,
    pub(crate) ty: ParamType,
    pub(crate) default: Option<serde_json::Value>,
    /// Whether a run may leave it out: it has a default, possibly `None`.
    pub(crate) optional: bool,
    /// For a list, the type its annotation gives the items (`List[int]`), and the fields of
    /// dict items (`List[Dict[str, int]]`), which kfp gives the items of a loop over it.
    pub(crate) items: (Option<ParamType>, Option<ParamType>),
    /// From the pipeline's docstring (`Args:`) or its `params` entry: shown by Vertex AI.
    pub(crate) description: Option<String>,
}

impl PipelineParam {
    /// The annotation that declares it in Python.
    pub(crate) fn annotation(&self) -> String {
        match self.items {
            (Some(ParamType::Struct), Some(field)) => {
                format!("List[Dict[str, {}]]", field.python())
            }
            (Some(item), _) if self.ty == ParamType::List => format!("List[{}]", item.python()),
            _ => self.ty.python().to_owned(),
        }
    }
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
    /// The item of a `dsl.ParallelFor` (an index into [`Pipeline::groups`]), or one field of
    /// it (`item.n`).
    LoopItem {
        group: usize,
        field: Option<String>,
    },
    /// `dsl.Collected(task.output)`: the output of a task inside a `dsl.ParallelFor`, one
    /// value per iteration, as a list after the loop.
    Collected {
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
    /// Explicit `.after(...)` dependencies (indices of other tasks, earlier or later).
    pub(crate) after: Vec<usize>,
    /// The call in the notebook.
    pub(crate) span: crate::diagnostic::Span,
    pub(crate) settings: TaskSettings,
    /// The innermost control-flow group the task is in; `None` for the root DAG.
    pub(crate) group: Option<usize>,
}

/// What `.set_display_name(...)`, `.set_cpu_limit(...)` and the other task methods of kfp set.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskSettings {
    pub(crate) display_name: Option<String>,
    pub(crate) caching: bool,
    /// `.set_caching_options(..., cache_key="v2")`: the task's cache key instead of one
    /// derived from its inputs and image.
    pub(crate) cache_key: Option<String>,
    /// As written: `"4"`, `"500m"`.
    pub(crate) cpu_limit: Option<String>,
    /// As written: `"16G"`, `"512Mi"`.
    pub(crate) memory_limit: Option<String>,
    pub(crate) accelerator_type: Option<String>,
    pub(crate) accelerator_count: Option<String>,
    pub(crate) retry: Option<Retry>,
    pub(crate) env: Vec<(String, String)>,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            display_name: None,
            caching: true,
            cache_key: None,
            cpu_limit: None,
            memory_limit: None,
            accelerator_type: None,
            accelerator_count: None,
            retry: None,
            env: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Retry {
    pub(crate) count: i64,
    pub(crate) backoff_duration: String,
    pub(crate) backoff_factor: f64,
    pub(crate) backoff_max_duration: String,
}

impl Task {
    /// Every task this one waits for: explicit `.after` and every producer it reads from.
    pub(crate) fn dependencies(&self) -> Vec<usize> {
        let mut deps: Vec<usize> = self
            .after
            .iter()
            .copied()
            .chain(self.arguments.iter().filter_map(|(_, arg)| match arg {
                Argument::TaskOutput { task, .. } | Argument::Collected { task, .. } => Some(*task),
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
    /// `@dsl.pipeline(pipeline_root="gs://...")`: where runs write, instead of the bucket's
    /// `pipeline_root/` (kfp compiles it as `defaultPipelineRoot`).
    pub(crate) root: Option<String>,
    pub(crate) params: Vec<PipelineParam>,
    /// In definition order. Arguments only name earlier tasks; `.after(...)` may name later
    /// ones, so analysis checks that the dependencies have no cycle.
    pub(crate) tasks: Vec<Task>,
    /// Control-flow groups, in the order they are opened.
    pub(crate) groups: Vec<Group>,
    /// The root DAG's tasks and groups, in notebook order.
    pub(crate) body: Vec<Node>,
}

impl Pipeline {
    /// The description a parameter is compiled with. kfp reads parameter descriptions from the
    /// pipeline function's docstring (`Args:`), whose summary then becomes the pipeline's
    /// description unless the decorator gives one: without a description to give, the
    /// parameters' cannot be written either, so they are left out.
    pub(crate) fn param_description<'a>(&self, param: &'a PipelineParam) -> Option<&'a str> {
        self.description.as_ref().and(param.description.as_deref())
    }

    /// The groups around a task or group, outermost first, ending with `group` itself.
    pub(crate) fn chain(&self, group: Option<usize>) -> Vec<usize> {
        super::control::chain(&self.groups, group)
    }

    /// The body of a group, or the root body for `None`.
    pub(crate) fn body(&self, group: Option<usize>) -> &[Node] {
        group.map_or(&self.body, |g| &self.groups[g].body)
    }

    /// The exit task of an exit handler group, if `task` is one.
    pub(crate) fn exit_handler_of(&self, task: usize) -> Option<usize> {
        super::control::exit_handler_of(&self.groups, task)
    }

    /// A cycle of dependencies, as task indices from a task back to itself, if there is one.
    pub(crate) fn cycle(&self) -> Option<Vec<usize>> {
        // 0 unvisited, 1 on the current path, 2 done.
        let mut state = vec![0u8; self.tasks.len()];
        let mut path = Vec::new();
        for start in 0..self.tasks.len() {
            if let Some(cycle) = self.visit(start, &mut state, &mut path) {
                return Some(cycle);
            }
        }
        None
    }

    fn visit(&self, task: usize, state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
        match state[task] {
            2 => return None,
            1 => {
                let from = path.iter().position(|t| *t == task).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(task);
                return Some(cycle);
            }
            _ => {}
        }
        state[task] = 1;
        path.push(task);
        for dependency in self.tasks[task].dependencies() {
            if let Some(cycle) = self.visit(dependency, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state[task] = 2;
        None
    }
}
