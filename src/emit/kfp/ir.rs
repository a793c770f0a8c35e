//! Typed serde structs for the KFP v2 IR (`PipelineSpec`, schemaVersion 2.1.0) and the Vertex AI
//! `PipelineJob` template around it. Field names and order follow kfp's own JSON (keys sorted),
//! so our output reads like kfp's; the IR is never built by pasting strings.

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) const SCHEMA_VERSION: &str = "2.1.0";
/// The kfp release whose IR we reproduce, and whose compiler `pipelines/pipeline.py` uses.
pub(crate) const SDK_VERSION: &str = "kfp-2.17.3";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PipelineJob {
    pub(crate) display_name: String,
    pub(crate) pipeline_spec: PipelineSpec,
    pub(crate) runtime_config: RuntimeConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuntimeConfig {
    pub(crate) gcs_output_directory: String,
    pub(crate) parameter_values: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PipelineSpec {
    pub(crate) components: BTreeMap<String, ComponentEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_pipeline_root: Option<String>,
    pub(crate) deployment_spec: DeploymentSpec,
    pub(crate) pipeline_info: PipelineInfo,
    pub(crate) root: ComponentSpec,
    pub(crate) schema_version: &'static str,
    pub(crate) sdk_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PipelineInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) name: String,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComponentSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dag: Option<Dag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) executor_label: Option<String>,
    #[serde(skip_serializing_if = "Definitions::is_empty")]
    pub(crate) input_definitions: Definitions,
    #[serde(skip_serializing_if = "Definitions::is_empty")]
    pub(crate) output_definitions: Definitions,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Definitions {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) artifacts: BTreeMap<String, ArtifactSpec>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, ParameterSpec>,
}

impl Definitions {
    fn is_empty(&self) -> bool {
        self.artifacts.is_empty() && self.parameters.is_empty()
    }
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_value: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) is_optional: bool,
    pub(crate) parameter_type: &'static str,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactSpec {
    pub(crate) artifact_type: ArtifactTypeSchema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) is_artifact_list: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) is_optional: bool,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactTypeSchema {
    pub(crate) schema_title: String,
    pub(crate) schema_version: &'static str,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dag {
    #[serde(skip_serializing_if = "DagOutputs::is_empty")]
    pub(crate) outputs: DagOutputs,
    pub(crate) tasks: BTreeMap<String, TaskSpec>,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputs {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) artifacts: BTreeMap<String, DagOutputArtifact>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, DagOutputParameter>,
}

impl DagOutputs {
    fn is_empty(&self) -> bool {
        self.artifacts.is_empty() && self.parameters.is_empty()
    }
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputArtifact {
    pub(crate) artifact_selectors: Vec<ArtifactSelector>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactSelector {
    pub(crate) output_artifact_key: String,
    pub(crate) producer_subtask: String,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputParameter {
    pub(crate) value_from_parameter: ParameterSelector,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterSelector {
    pub(crate) output_parameter_key: String,
    pub(crate) producer_subtask: String,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskSpec {
    /// Tasks of components have it; tasks of control-flow groups do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) caching_options: Option<CachingOptions>,
    pub(crate) component_ref: NameRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) dependent_tasks: Vec<String>,
    #[serde(skip_serializing_if = "TaskInputs::is_empty")]
    pub(crate) inputs: TaskInputs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iterator_policy: Option<IteratorPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameter_iterator: Option<ParameterIterator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry_policy: Option<RetryPolicy>,
    pub(crate) task_info: NameRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trigger_policy: Option<TriggerPolicy>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IteratorPolicy {
    pub(crate) parallelism_limit: i64,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterIterator {
    pub(crate) item_input: String,
    pub(crate) items: IteratorItems,
}

/// Exactly one is set: the loop's list as an input, or as JSON text.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IteratorItems {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) input_parameter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) raw: Option<String>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TriggerPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strategy: Option<&'static str>,
}

impl TaskInputs {
    fn is_empty(&self) -> bool {
        self.artifacts.is_empty() && self.parameters.is_empty()
    }
}

/// With caching off this is `{}`: proto3 JSON leaves `false` out, as kfp writes it.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CachingOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) enable_cache: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache_key: Option<String>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RetryPolicy {
    pub(crate) backoff_duration: String,
    pub(crate) backoff_factor: f64,
    pub(crate) backoff_max_duration: String,
    /// Left out when 0, as protobuf's JSON leaves out a default value (kfp writes it so).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) max_retry_count: i64,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(value: &i64) -> bool {
    *value == 0
}

#[derive(Clone, Serialize)]
pub(crate) struct NameRef {
    pub(crate) name: String,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskInputs {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) artifacts: BTreeMap<String, ArtifactInput>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, ParameterInput>,
}

/// Where a task's input parameter comes from: exactly one field is set (a oneof in the proto).
/// A struct rather than an enum, so YAML writes a plain map and not a tagged value.
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) component_input_parameter: Option<String>,
    /// `parseJson(string_value)["n"]`: a field of a loop item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameter_expression_selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) runtime_value: Option<RuntimeValue>,
    /// The exit task's `dsl.PipelineTaskFinalStatus` input: how its exit handler ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task_final_status: Option<ProducerTask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task_output_parameter: Option<TaskOutputParameter>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProducerTask {
    pub(crate) producer_task: String,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskOutputParameter {
    pub(crate) output_parameter_key: String,
    pub(crate) producer_task: String,
}

#[derive(Clone, Serialize)]
pub(crate) struct RuntimeValue {
    pub(crate) constant: serde_json::Value,
}

/// Where a task's input artifact comes from: exactly one field is set (a oneof in the proto).
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) component_input_artifact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task_output_artifact: Option<TaskOutputArtifact>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskOutputArtifact {
    pub(crate) output_artifact_key: String,
    pub(crate) producer_task: String,
}

#[derive(Serialize)]
pub(crate) struct DeploymentSpec {
    pub(crate) executors: BTreeMap<String, Executor>,
}

#[derive(Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Executor {
    Container {
        container: Container,
    },
    /// A prebuilt component's executor, as kfp writes it.
    Verbatim(serde_json::Value),
}

/// A component of the pipeline: one automlops describes, or a prebuilt one as kfp writes it.
#[derive(Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum ComponentEntry {
    Spec(ComponentSpec),
    Verbatim(serde_json::Value),
}

impl From<ComponentSpec> for ComponentEntry {
    fn from(spec: ComponentSpec) -> Self {
        ComponentEntry::Spec(spec)
    }
}

#[derive(Clone, Serialize)]
pub(crate) struct Container {
    /// kfp leaves out an empty `args` or `command` (a container component may have neither).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) env: Vec<EnvVar>,
    pub(crate) image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resources: Option<Resources>,
}

#[derive(Clone, Serialize)]
pub(crate) struct EnvVar {
    pub(crate) name: String,
    pub(crate) value: String,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) accelerator: Option<Accelerator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_cpu_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_memory_limit: Option<String>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Accelerator {
    pub(crate) count: String,
    pub(crate) resource_count: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_type: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
}

/// KFP writes every number inside the spec as a protobuf `Value`, a double (`100.0`).
pub(crate) fn as_proto_value(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| value.clone(), Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(as_proto_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), as_proto_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
