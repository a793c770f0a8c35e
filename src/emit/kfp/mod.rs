//! The KFP emitter: the pipeline's IR inside a Vertex AI `PipelineJob` template, and one IR file
//! per component (`components/<name>/component.yaml`), which kfp loads with
//! `load_component_from_file`.

mod ir;

use std::collections::BTreeMap;

use crate::analyze::Analysis;
use crate::model::{Argument, Component, IoType, Task, TaskSettings};

use ir::{
    Accelerator, ArtifactInput, ArtifactSelector, ArtifactSpec, ArtifactTypeSchema, CachingOptions,
    ComponentSpec, Container, Dag, DagOutputArtifact, DagOutputParameter, DagOutputs,
    DeploymentSpec, EnvVar, Executor, NameRef, ParameterInput, ParameterSelector, ParameterSpec,
    PipelineInfo, PipelineJob, PipelineSpec, Resources, RetryPolicy, RuntimeConfig, RuntimeValue,
    TaskInputs, TaskOutputArtifact, TaskOutputParameter, TaskSpec, as_proto_value,
};

/// The command every component runs in the shared image.
pub(crate) fn container(component: &Component, image: &str) -> Container {
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
    container.env = settings
        .env
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
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
            IoType::Artifact(ty) => {
                spec.input_definitions.artifacts.insert(
                    input.name.clone(),
                    ArtifactSpec {
                        artifact_type: artifact_type(ty),
                        description,
                        is_optional: input.optional,
                    },
                );
            }
        }
    }
    for output in &component.outputs {
        match output.ty {
            IoType::Parameter(ty) => {
                spec.output_definitions.parameters.insert(
                    output.name.clone(),
                    ParameterSpec {
                        default_value: None,
                        description: None,
                        is_optional: false,
                        parameter_type: ty.ir_name(),
                    },
                );
            }
            IoType::Artifact(ty) => {
                spec.output_definitions.artifacts.insert(
                    output.name.clone(),
                    ArtifactSpec {
                        artifact_type: artifact_type(ty),
                        description: None,
                        is_optional: false,
                    },
                );
            }
        }
    }
    spec
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
        caching_options: CachingOptions {
            enable_cache: true,
            cache_key: None,
        },
        retry_policy: None,
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
    let image = analysis.settings.component_image();
    let pipeline = &analysis.pipeline;
    let mut components = BTreeMap::new();
    let mut executors = BTreeMap::new();
    let mut tasks = BTreeMap::new();
    for task in &pipeline.tasks {
        let component = &analysis.components[task.component];
        // kfp gives every task its own component and executor entry, named after the task.
        let component_key = format!("comp-{}", task.name);
        let executor_key = format!("exec-{}", task.name);
        components.insert(
            component_key.clone(),
            component_spec(component, executor_key.clone(), false),
        );
        executors.insert(
            executor_key,
            Executor {
                container: task_container(component, &image, &task.settings),
            },
        );
        let settings = &task.settings;
        let mut spec = task_spec(
            settings.display_name.as_deref().unwrap_or(&task.name),
            &component_key,
            task_inputs(task, analysis),
            dependent_tasks(task, &pipeline.tasks),
        );
        spec.caching_options.enable_cache = settings.caching;
        spec.caching_options
            .cache_key
            .clone_from(&settings.cache_key);
        spec.retry_policy = settings.retry.as_ref().map(|retry| RetryPolicy {
            backoff_duration: retry.backoff_duration.clone(),
            backoff_factor: retry.backoff_factor,
            backoff_max_duration: retry.backoff_max_duration.clone(),
            max_retry_count: retry.count,
        });
        tasks.insert(task.name.clone(), spec);
    }
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
                description: None,
                is_optional: param.default.is_some(),
                parameter_type: param.ty.ir_name(),
            },
        );
    }
    let job = PipelineJob {
        display_name: pipeline.name.clone(),
        pipeline_spec: PipelineSpec {
            components,
            deployment_spec: DeploymentSpec { executors },
            pipeline_info: PipelineInfo {
                description: pipeline.description.clone(),
                name: pipeline.name.clone(),
            },
            root,
            schema_version: ir::SCHEMA_VERSION,
            sdk_version: ir::SDK_VERSION,
        },
        runtime_config: RuntimeConfig {
            gcs_output_directory: analysis.settings.pipeline_root(),
            parameter_values: analysis.parameter_values.clone(),
        },
    };
    to_json(&job)
}

fn task_inputs(task: &Task, analysis: &Analysis) -> TaskInputs {
    let component = &analysis.components[task.component];
    let mut inputs = TaskInputs::default();
    for (name, argument) in &task.arguments {
        let is_artifact = matches!(
            component.input(name).map(|i| i.ty),
            Some(IoType::Artifact(_))
        );
        match argument {
            Argument::PipelineParam(param) => {
                inputs.parameters.insert(
                    name.clone(),
                    ParameterInput {
                        component_input_parameter: Some(param.clone()),
                        ..ParameterInput::default()
                    },
                );
            }
            Argument::Constant(value) => {
                inputs.parameters.insert(
                    name.clone(),
                    ParameterInput {
                        runtime_value: Some(RuntimeValue {
                            constant: as_proto_value(value),
                        }),
                        ..ParameterInput::default()
                    },
                );
            }
            Argument::TaskOutput {
                task: producer,
                output,
            } => {
                let producer_task = analysis.pipeline.tasks[*producer].name.clone();
                if is_artifact {
                    inputs.artifacts.insert(
                        name.clone(),
                        ArtifactInput {
                            task_output_artifact: Some(TaskOutputArtifact {
                                output_artifact_key: output.clone(),
                                producer_task,
                            }),
                            ..ArtifactInput::default()
                        },
                    );
                } else {
                    inputs.parameters.insert(
                        name.clone(),
                        ParameterInput {
                            task_output_parameter: Some(TaskOutputParameter {
                                output_parameter_key: output.clone(),
                                producer_task,
                            }),
                            ..ParameterInput::default()
                        },
                    );
                }
            }
        }
    }
    inputs
}

fn dependent_tasks(task: &Task, tasks: &[Task]) -> Vec<String> {
    let mut names: Vec<String> = task
        .dependencies()
        .into_iter()
        .map(|i| tasks[i].name.clone())
        .collect();
    names.sort();
    names
}

/// `components/<name>/component.yaml`: the component compiled on its own, as kfp compiles a
/// component (a one-task pipeline whose inputs and outputs are the component's).
pub(crate) fn component_file(
    component: &Component,
    image: &str,
) -> Result<String, serde_norway::Error> {
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
            IoType::Artifact(_) => {
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
        match output.ty {
            IoType::Parameter(_) => {
                outputs.parameters.insert(
                    output.name.clone(),
                    DagOutputParameter {
                        value_from_parameter: ParameterSelector {
                            output_parameter_key: output.name.clone(),
                            producer_subtask: name.clone(),
                        },
                    },
                );
            }
            IoType::Artifact(_) => {
                outputs.artifacts.insert(
                    output.name.clone(),
                    DagOutputArtifact {
                        artifact_selectors: vec![ArtifactSelector {
                            output_artifact_key: output.name.clone(),
                            producer_subtask: name.clone(),
                        }],
                    },
                );
            }
        }
    }
    let mut tasks = BTreeMap::new();
    tasks.insert(
        name.clone(),
        task_spec(&name, &component_key, inputs, Vec::new()),
    );
    let root = ComponentSpec {
        dag: Some(Dag { outputs, tasks }),
        executor_label: None,
        input_definitions: spec.input_definitions.clone(),
        output_definitions: spec.output_definitions.clone(),
    };
    let mut executors = BTreeMap::new();
    executors.insert(
        executor_key,
        Executor {
            container: container(component, image),
        },
    );
    let mut components = BTreeMap::new();
    components.insert(component_key, spec);
    let pipeline_spec = PipelineSpec {
        components,
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

fn to_json(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}
