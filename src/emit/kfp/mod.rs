//! The KFP emitter: the pipeline's IR inside a Vertex AI `PipelineJob` template, and one IR file
//! per component (`components/<name>/component.yaml`), which kfp loads with
//! `load_component_from_file`.

mod command_line;
mod custom_job;
mod flow;
mod ir;

use std::collections::BTreeMap;

use crate::analyze::Analysis;
use crate::model::{
    Argument, Component, ComponentSource, GroupKind, IoType, LoopItems, Node, ParamType, Task,
    TaskSettings,
};

use ir::{
    Accelerator, ArtifactInput, ArtifactSelector, ArtifactSpec, ArtifactTypeSchema, CachingOptions,
    ComponentEntry, ComponentSpec, Container, Dag, DagOutputArtifact, DagOutputParameter,
    DagOutputs, Definitions, DeploymentSpec, EnvVar, Executor, IteratorItems, IteratorPolicy,
    NameRef, ParameterInput, ParameterIterator, ParameterSelector, ParameterSpec, PipelineInfo,
    PipelineJob, PipelineSpec, ProducerTask, Resources, RetryPolicy, RuntimeConfig, RuntimeValue,
    TaskInputs, TaskOutputArtifact, TaskOutputParameter, TaskSpec, TriggerPolicy, as_proto_value,
};

/// The command a component runs: a container component's own, else its function in the
/// shared image.
pub(crate) fn container(component: &Component, image: &str) -> Container {
    if let ComponentSource::Container(spec) = &component.source {
        return Container {
            args: spec.args.iter().map(command_line::to_ir).collect(),
            command: spec.command.iter().map(command_line::to_ir).collect(),
            env: spec
                .env
                .iter()
                .map(|(name, value)| EnvVar {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            image: spec.image.clone(),
            resources: None,
        };
    }
    let name = component.name.as_str();
    Container {
        args: vec![
            "--executor_input".to_owned(),
            "{{$}}".to_owned(),
            "--function_to_execute".to_owned(),
            name.to_owned(),
        ],
        command: vec![
            "python3".to_owned(),
            format!("/pipelines/component/src/{name}.py"),
        ],
        env: Vec::new(),
        image: image.to_owned(),
        resources: None,
    }
}

/// The container of one task: the component's, with the task's resources and environment.
fn task_container(component: &Component, image: &str, settings: &TaskSettings) -> Container {
    let mut container = container(component, image);
    // kfp keeps them in a dict: a task's variable replaces the component's of that name.
    for (name, value) in &settings.env {
        match container.env.iter_mut().find(|var| &var.name == name) {
            Some(var) => var.value.clone_from(value),
            None => container.env.push(EnvVar {
                name: name.clone(),
                value: value.clone(),
            }),
        }
    }
    // A type without a count is one accelerator; a count without a type is written as kfp
    // writes it, without a type.
    let accelerator = (settings.accelerator_type.is_some() || settings.accelerator_count.is_some())
        .then(|| {
            let count = settings
                .accelerator_count
                .clone()
                .unwrap_or_else(|| "1".to_owned());
            Accelerator {
                count: count.clone(),
                resource_count: count,
                resource_type: settings.accelerator_type.clone(),
                kind: settings.accelerator_type.clone(),
            }
        });
    let resources = Resources {
        accelerator,
        cpu_limit: settings.cpu_limit.as_deref().map(cpu_to_float),
        memory_limit: settings.memory_limit.as_deref().map(memory_to_float),
        resource_cpu_limit: settings.cpu_limit.clone(),
        resource_memory_limit: settings.memory_limit.clone(),
    };
    let any = resources.accelerator.is_some()
        || resources.cpu_limit.is_some()
        || resources.memory_limit.is_some();
    container.resources = any.then_some(resources);
    container
}

/// kfp's `_cpu_to_float`: `"500m"` is 0.5.
fn cpu_to_float(cpu: &str) -> f64 {
    match cpu.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().unwrap_or_default() / 1000.0,
        None => cpu.parse::<f64>().unwrap_or_default(),
    }
}

/// kfp's `_memory_to_float`: gigabytes, `"3Gi"` is 3.221225472.
fn memory_to_float(memory: &str) -> f64 {
    const G: f64 = 1e9;
    let units: [(&str, f64); 12] = [
        ("Ei", 1_152_921_504_606_846_976.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ti", 1_099_511_627_776.0),
        ("Gi", 1_073_741_824.0),
        ("Mi", 1_048_576.0),
        ("Ki", 1024.0),
        ("E", 1e18),
        ("P", 1e15),
        ("T", 1e12),
        ("G", 1e9),
        ("M", 1e6),
        ("K", 1e3),
    ];
    for (unit, factor) in units {
        if let Some(number) = memory.strip_suffix(unit) {
            let number = number.parse::<f64>().unwrap_or_default();
            // `G` is taken as is, as kfp does (no multiply-divide rounding).
            return if unit == "G" {
                number
            } else {
                number * factor / G
            };
        }
    }
    memory.parse::<f64>().unwrap_or_default() / G
}

/// The component's interface. `with_descriptions` is for the component file; kfp drops
/// descriptions when it compiles a pipeline that uses the component.
fn component_spec(
    component: &Component,
    executor_label: String,
    with_descriptions: bool,
) -> ComponentSpec {
    let mut spec = ComponentSpec {
        executor_label: Some(executor_label),
        ..ComponentSpec::default()
    };
    for input in &component.inputs {
        let description = input.description.clone().filter(|_| with_descriptions);
        match input.ty {
            IoType::Parameter(ty) => {
                spec.input_definitions.parameters.insert(
                    input.name.clone(),
                    ParameterSpec {
                        default_value: input.default.as_ref().map(as_proto_value),
                        description,
                        is_optional: input.optional,
                        parameter_type: ty.ir_name(),
                    },
                );
            }
            IoType::Artifact(ty) | IoType::ArtifactList(ty) => {
                spec.input_definitions.artifacts.insert(
                    input.name.clone(),
                    ArtifactSpec {
                        artifact_type: artifact_type(ty),
                        description,
                        is_artifact_list: matches!(input.ty, IoType::ArtifactList(_)),
                        is_optional: input.optional,
                    },
                );
            }
        }
    }
    for output in &component.outputs {
        declare(&mut spec.output_definitions, output.name.clone(), output.ty);
    }
    spec
}

/// A plain declaration in an interface: no default, description or optionality.
fn declare(definitions: &mut Definitions, name: String, io: IoType) {
    match io {
        IoType::Parameter(ty) => {
            definitions.parameters.insert(
                name,
                ParameterSpec {
                    default_value: None,
                    description: None,
                    is_optional: false,
                    parameter_type: ty.ir_name(),
                },
            );
        }
        IoType::Artifact(ty) | IoType::ArtifactList(ty) => {
            definitions.artifacts.insert(
                name,
                ArtifactSpec {
                    artifact_type: artifact_type(ty),
                    description: None,
                    is_artifact_list: matches!(io, IoType::ArtifactList(_)),
                    is_optional: false,
                },
            );
        }
    }
}

/// An output of a DAG, taken from output `key` of its task `producer`.
fn select_output(outputs: &mut DagOutputs, name: String, io: IoType, key: &str, producer: &str) {
    if let IoType::Parameter(_) = io {
        outputs.parameters.insert(
            name,
            DagOutputParameter {
                value_from_parameter: ParameterSelector {
                    output_parameter_key: key.to_owned(),
                    producer_subtask: producer.to_owned(),
                },
            },
        );
    } else {
        outputs.artifacts.insert(
            name,
            DagOutputArtifact {
                artifact_selectors: vec![ArtifactSelector {
                    output_artifact_key: key.to_owned(),
                    producer_subtask: producer.to_owned(),
                }],
            },
        );
    }
}

/// kfp's importer executor: the URI (the `uri` input, or a constant), the type, and what kfp
/// writes only when set.
fn importer_executor(importer: &crate::model::Importer) -> serde_json::Value {
    let mut spec = serde_json::Map::new();
    spec.insert(
        "artifactUri".to_owned(),
        match &importer.constant_uri {
            Some(uri) => serde_json::json!({ "constant": uri }),
            None => serde_json::json!({ "runtimeParameter": "uri" }),
        },
    );
    if let Some(metadata) = &importer.metadata {
        spec.insert("metadata".to_owned(), metadata.clone());
    }
    if importer.reimport {
        spec.insert("reimport".to_owned(), serde_json::Value::Bool(true));
    }
    spec.insert(
        "typeSchema".to_owned(),
        serde_json::json!({
            "schemaTitle": importer.artifact.schema_title(),
            "schemaVersion": "0.0.1",
        }),
    );
    serde_json::json!({ "importer": spec })
}

fn artifact_type(ty: crate::model::ArtifactType) -> ArtifactTypeSchema {
    ArtifactTypeSchema {
        schema_title: ty.schema_title(),
        schema_version: "0.0.1",
    }
}

fn task_spec(
    name: &str,
    component_key: &str,
    inputs: TaskInputs,
    dependent_tasks: Vec<String>,
) -> TaskSpec {
    TaskSpec {
        caching_options: None,
        iterator_policy: None,
        parameter_iterator: None,
        retry_policy: None,
        trigger_policy: None,
        component_ref: NameRef {
            name: component_key.to_owned(),
        },
        dependent_tasks,
        inputs,
        task_info: NameRef {
            name: name.to_owned(),
        },
    }
}

/// The pipeline as a Vertex AI `PipelineJob` template.
pub(crate) fn pipeline_job(analysis: &Analysis) -> Result<String, serde_json::Error> {
    let pipeline = &analysis.pipeline;
    let flow = flow::Flow::new(analysis);
    let mut out = Specs {
        image: analysis.settings.component_image(),
        components: BTreeMap::new(),
        executors: BTreeMap::new(),
    };
    let tasks = out.dag(&flow, None);
    let mut root = ComponentSpec {
        dag: Some(Dag {
            outputs: DagOutputs::default(),
            tasks,
        }),
        ..ComponentSpec::default()
    };
    for param in &pipeline.params {
        root.input_definitions.parameters.insert(
            param.name.clone(),
            ParameterSpec {
                default_value: param.default.as_ref().map(as_proto_value),
                description: pipeline.param_description(param).map(str::to_owned),
                is_optional: param.optional,
                parameter_type: param.ty.ir_name(),
            },
        );
    }
    let job = PipelineJob {
        display_name: pipeline.name.clone(),
        pipeline_spec: PipelineSpec {
            components: out.components,
            default_pipeline_root: pipeline.root.clone(),
            deployment_spec: DeploymentSpec {
                executors: out.executors,
            },
            pipeline_info: PipelineInfo {
                description: pipeline.description.clone(),
                name: pipeline.name.clone(),
            },
            root,
            schema_version: ir::SCHEMA_VERSION,
            sdk_version: ir::SDK_VERSION,
        },
        runtime_config: RuntimeConfig {
            gcs_output_directory: analysis.pipeline_root(),
            parameter_values: analysis.parameter_values.clone(),
        },
    };
    super::json::to_json(&job)
}

/// The components and executors of the pipeline, filled in while its DAGs are built.
struct Specs {
    image: String,
    components: BTreeMap<String, ComponentEntry>,
    executors: BTreeMap<String, Executor>,
}

impl Specs {
    /// The tasks of the root DAG (`None`) or of a group's DAG.
    fn dag(&mut self, flow: &flow::Flow<'_>, group: Option<usize>) -> BTreeMap<String, TaskSpec> {
        let pipeline = &flow.analysis.pipeline;
        let mut tasks = BTreeMap::new();
        for &node in pipeline.body(group) {
            let spec = match node {
                Node::Task(task) => self.task(flow, task, group),
                Node::Group(child) => self.group(flow, child, group),
            };
            tasks.insert(flow.node_name(node).to_owned(), spec);
        }
        tasks
    }

    fn task(&mut self, flow: &flow::Flow<'_>, index: usize, dag: Option<usize>) -> TaskSpec {
        let analysis = flow.analysis;
        let task = &analysis.pipeline.tasks[index];
        let component = &analysis.components[task.component];
        // kfp gives every task its own component and executor entry, named after the task.
        let component_key = format!("comp-{}", task.name);
        let executor_key = format!("exec-{}", task.name);
        let own = || component_spec(component, executor_key.clone(), false);
        let (spec, executor) = if let ComponentSource::Prebuilt(prebuilt) = &component.source {
            // As kfp writes it, with its executor named after the task.
            let mut spec = prebuilt.component.clone();
            if let Some(fields) = spec.as_object_mut() {
                fields.insert(
                    "executorLabel".to_owned(),
                    serde_json::Value::String(executor_key.clone()),
                );
            }
            (
                ComponentEntry::Verbatim(spec),
                Executor::Verbatim(prebuilt.executor.clone()),
            )
        } else if let Some(job) = &component.custom_job {
            let (spec, executor) =
                custom_job::custom_job(component, job, &self.image, &own(), &executor_key);
            (ComponentEntry::Verbatim(spec), Executor::Verbatim(executor))
        } else if let ComponentSource::Importer(importer) = &component.source {
            (
                own().into(),
                Executor::Verbatim(importer_executor(importer)),
            )
        } else {
            let container = task_container(component, &self.image, &task.settings);
            (own().into(), Executor::Container { container })
        };
        self.components.insert(component_key.clone(), spec);
        self.executors.insert(executor_key, executor);
        let settings = &task.settings;
        let mut spec = task_spec(
            settings.display_name.as_deref().unwrap_or(&task.name),
            &component_key,
            task_inputs(flow, task, dag),
            flow.dependent_tasks(Node::Task(index)),
        );
        spec.caching_options = Some(CachingOptions {
            enable_cache: settings.caching,
            cache_key: settings.cache_key.clone(),
        });
        spec.retry_policy = settings.retry.as_ref().map(|retry| RetryPolicy {
            backoff_duration: retry.backoff_duration.clone(),
            backoff_factor: retry.backoff_factor,
            backoff_max_duration: retry.backoff_max_duration.clone(),
            max_retry_count: retry.count,
        });
        if let Some(handler) = analysis.pipeline.exit_handler_of(index) {
            spec.trigger_policy = Some(TriggerPolicy {
                condition: None,
                strategy: Some("ALL_UPSTREAM_TASKS_COMPLETED"),
            });
            let handler = &analysis.pipeline.groups[handler].name;
            for input in &component.inputs {
                if input.ty == IoType::Parameter(ParamType::TaskFinalStatus) {
                    spec.inputs.parameters.insert(
                        input.name.clone(),
                        ParameterInput {
                            task_final_status: Some(ProducerTask {
                                producer_task: handler.clone(),
                            }),
                            ..ParameterInput::default()
                        },
                    );
                }
            }
        }
        spec
    }

    /// A group: its task in the parent DAG, and its own DAG as a component.
    fn group(&mut self, flow: &flow::Flow<'_>, index: usize, dag: Option<usize>) -> TaskSpec {
        let group = &flow.analysis.pipeline.groups[index];
        let mut component = ComponentSpec::default();
        let mut inputs = TaskInputs::default();
        for (name, channel) in &flow.inputs[index] {
            declare(
                &mut component.input_definitions,
                name.clone(),
                flow.channel_type(channel),
            );
            add_input(&mut inputs, name.clone(), flow, channel, dag);
        }
        let mut spec = task_spec(
            group.display_name.as_deref().unwrap_or(&group.name),
            &format!("comp-{}", group.name),
            TaskInputs::default(),
            flow.dependent_tasks(Node::Group(index)),
        );
        match &group.kind {
            GroupKind::Loop(lp) => {
                let item = crate::model::Argument::LoopItem {
                    group: index,
                    field: None,
                };
                let item_input = flow.input_name(&item);
                declare(
                    &mut component.input_definitions,
                    item_input.clone(),
                    flow.channel_type(&item),
                );
                let items = match &lp.items {
                    LoopItems::Channel(channel) => IteratorItems {
                        input_parameter: Some(flow.input_name(channel)),
                        raw: None,
                    },
                    LoopItems::Raw { values, .. } => IteratorItems {
                        input_parameter: None,
                        raw: Some(crate::emit::python::json_dumps(&serde_json::Value::Array(
                            values.clone(),
                        ))),
                    },
                };
                spec.parameter_iterator = Some(ParameterIterator { item_input, items });
                spec.iterator_policy = (lp.parallelism > 0).then_some(IteratorPolicy {
                    parallelism_limit: lp.parallelism,
                });
            }
            GroupKind::Condition(condition) => {
                spec.trigger_policy = Some(TriggerPolicy {
                    condition: Some(flow.condition(&condition.all)),
                    strategy: None,
                });
            }
            GroupKind::Branches | GroupKind::ExitHandler { .. } => {}
        }
        spec.inputs = inputs;
        let mut outputs = DagOutputs::default();
        for (name, (task, output)) in &flow.collected[index] {
            let collected = crate::model::Argument::Collected {
                task: *task,
                output: output.clone(),
            };
            // A list parameter, or a list of artifacts.
            let io = flow.channel_type(&collected);
            declare(&mut component.output_definitions, name.clone(), io);
            let producer = &flow.analysis.pipeline.tasks[*task].name;
            select_output(&mut outputs, name.clone(), io, output, producer);
        }
        component.dag = Some(Dag {
            outputs,
            tasks: self.dag(flow, Some(index)),
        });
        self.components
            .insert(format!("comp-{}", group.name), component.into());
        spec
    }
}

/// Where a value comes from in a DAG: a pipeline parameter or a task output of the same DAG
/// as is, anything made outside the DAG through the `pipelinechannel--` input of its group.
fn add_input(
    inputs: &mut TaskInputs,
    name: String,
    flow: &flow::Flow<'_>,
    argument: &Argument,
    dag: Option<usize>,
) {
    let pipeline = &flow.analysis.pipeline;
    let is_artifact = matches!(
        flow.channel_type(argument),
        IoType::Artifact(_) | IoType::ArtifactList(_)
    );
    // An output of a task of this DAG, or the outputs a loop of this DAG collected.
    let sibling_output = match argument {
        Argument::TaskOutput { task, output } if pipeline.tasks[*task].group == dag => {
            Some((pipeline.tasks[*task].name.clone(), output.clone()))
        }
        Argument::Collected { task, output } => {
            let group = pipeline.tasks[*task].group.unwrap_or_default();
            (pipeline.groups[group].parent == dag).then(|| {
                (
                    pipeline.groups[group].name.clone(),
                    flow.collected_output(*task, output),
                )
            })
        }
        _ => None,
    };
    if let Some((producer_task, key)) = sibling_output {
        if is_artifact {
            inputs.artifacts.insert(
                name,
                ArtifactInput {
                    task_output_artifact: Some(TaskOutputArtifact {
                        output_artifact_key: key,
                        producer_task,
                    }),
                    ..ArtifactInput::default()
                },
            );
        } else {
            inputs.parameters.insert(
                name,
                ParameterInput {
                    task_output_parameter: Some(TaskOutputParameter {
                        output_parameter_key: key,
                        producer_task,
                    }),
                    ..ParameterInput::default()
                },
            );
        }
        return;
    }
    match argument {
        Argument::Constant(value) => {
            inputs.parameters.insert(
                name,
                ParameterInput {
                    runtime_value: Some(RuntimeValue {
                        constant: as_proto_value(value),
                    }),
                    ..ParameterInput::default()
                },
            );
        }
        Argument::PipelineParam(param) if dag.is_none() => {
            inputs.parameters.insert(
                name,
                ParameterInput {
                    component_input_parameter: Some(param.clone()),
                    ..ParameterInput::default()
                },
            );
        }
        Argument::LoopItem {
            group,
            field: Some(field),
        } => {
            let whole = Argument::LoopItem {
                group: *group,
                field: None,
            };
            inputs.parameters.insert(
                name,
                ParameterInput {
                    component_input_parameter: Some(flow.input_name(&whole)),
                    parameter_expression_selector: Some(format!(
                        "parseJson(string_value)[\"{field}\"]"
                    )),
                    ..ParameterInput::default()
                },
            );
        }
        channel if is_artifact => {
            inputs.artifacts.insert(
                name,
                ArtifactInput {
                    component_input_artifact: Some(flow.input_name(channel)),
                    ..ArtifactInput::default()
                },
            );
        }
        channel => {
            inputs.parameters.insert(
                name,
                ParameterInput {
                    component_input_parameter: Some(flow.input_name(channel)),
                    ..ParameterInput::default()
                },
            );
        }
    }
}

fn task_inputs(flow: &flow::Flow<'_>, task: &Task, dag: Option<usize>) -> TaskInputs {
    let mut inputs = TaskInputs::default();
    for (name, argument) in &task.arguments {
        add_input(&mut inputs, name.clone(), flow, argument, dag);
    }
    inputs
}

/// `components/<name>/component.yaml`: the component compiled on its own, as kfp compiles a
/// component (a one-task pipeline whose inputs and outputs are the component's).
pub(crate) fn component_file(
    component: &Component,
    image: &str,
) -> Result<String, serde_json::Error> {
    let name = component.name.kfp();
    let component_key = format!("comp-{name}");
    let executor_key = format!("exec-{name}");
    let spec = component_spec(component, executor_key.clone(), true);
    let mut inputs = TaskInputs::default();
    for input in &component.inputs {
        match input.ty {
            IoType::Parameter(_) => {
                inputs.parameters.insert(
                    input.name.clone(),
                    ParameterInput {
                        component_input_parameter: Some(input.name.clone()),
                        ..ParameterInput::default()
                    },
                );
            }
            IoType::Artifact(_) | IoType::ArtifactList(_) => {
                inputs.artifacts.insert(
                    input.name.clone(),
                    ArtifactInput {
                        component_input_artifact: Some(input.name.clone()),
                        ..ArtifactInput::default()
                    },
                );
            }
        }
    }
    let mut outputs = DagOutputs::default();
    for output in &component.outputs {
        select_output(
            &mut outputs,
            output.name.clone(),
            output.ty,
            &output.name,
            &name,
        );
    }
    let mut tasks = BTreeMap::new();
    let mut task = task_spec(&name, &component_key, inputs, Vec::new());
    task.caching_options = Some(CachingOptions {
        enable_cache: true,
        cache_key: None,
    });
    tasks.insert(name.clone(), task);
    let root = ComponentSpec {
        dag: Some(Dag { outputs, tasks }),
        executor_label: None,
        input_definitions: spec.input_definitions.clone(),
        output_definitions: spec.output_definitions.clone(),
    };
    let mut executors = BTreeMap::new();
    executors.insert(
        executor_key,
        Executor::Container {
            container: container(component, image),
        },
    );
    let mut components = BTreeMap::new();
    components.insert(component_key, spec.into());
    let pipeline_spec = PipelineSpec {
        components,
        default_pipeline_root: None,
        deployment_spec: DeploymentSpec { executors },
        pipeline_info: PipelineInfo {
            description: component.description.clone(),
            name,
        },
        root,
        schema_version: ir::SCHEMA_VERSION,
        sdk_version: ir::SDK_VERSION,
    };
    super::yaml::to_yaml(&pipeline_spec)
}
