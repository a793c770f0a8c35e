//! Phase 4: the model. Plain data that analysis produces and emitters read: no I/O, no parser
//! types. Everything in here has already been checked.

pub(crate) mod ci;
mod component;
mod container;
pub(crate) mod control;
mod names;
pub(crate) mod parameter_schema;
mod pipeline;
pub(crate) mod run_time_value;
pub(crate) mod settings;
mod types;

pub(crate) use component::{
    Component, ComponentSource, CustomJob, Importer, Input, Output, Prebuilt, module_is_within,
};
pub(crate) use container::{CommandLine, ContainerSpec, Elements, LoadedFile};
pub(crate) use control::{
    Branch, Comparison, Condition, Group, GroupKind, Loop, LoopItems, Node, chain, channel_name,
    collected_output, exit_handler_of,
};
pub(crate) use names::{ComponentName, is_relative_path, kfp_name};
pub(crate) use pipeline::{Argument, Pipeline, PipelineParam, Retry, Task, TaskSettings};
pub(crate) use run_time_value::RunTimeValue;
pub(crate) use settings::Settings;
pub(crate) use types::{ArtifactType, IoType, ParamType, holds_none};
