//! AutoMLOps's `custom_training_job_specs`: each entry names a component (`component_spec`) that
//! runs as a Vertex AI `CustomJob` on the machine, accelerators and disks it gives, as GCPC's
//! `create_custom_training_job_from_component` compiles it (AutoMLOps's generated pipeline.py
//! wraps the component with that function).

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Component, CustomJob};

use super::catalogue::catalogue;
use super::suggest::did_you_mean;
use super::value::{Kind, Value};

/// The arguments `create_custom_training_job_from_component` takes besides the component, in
/// GCPC 2.22.0's order.
const ARGUMENTS: &[&str] = &[
    "display_name",
    "replica_count",
    "machine_type",
    "accelerator_type",
    "accelerator_count",
    "boot_disk_type",
    "boot_disk_size_gb",
    "timeout",
    "restart_job_on_worker_restart",
    "service_account",
    "network",
    "encryption_spec_key_name",
    "tensorboard",
    "enable_web_access",
    "reserved_ip_ranges",
    "nfs_mounts",
    "base_output_directory",
    "labels",
    "persistent_resource_id",
    "env",
    "strategy",
    "max_wait_duration",
];

const OP: &str = "google_cloud_pipeline_components.v1.custom_job.CustomTrainingJobOp";

/// Vertex AI's accelerator types, generated from the pinned google-cloud-aiplatform by
/// `data/vertex/generate.py` (CI regenerates and compares).
const ACCELERATORS: &str = include_str!("../../data/vertex/accelerators.txt");

fn accelerators() -> impl Iterator<Item = &'static str> {
    ACCELERATORS
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
}

/// Marks the components the specs name as custom jobs.
pub(crate) fn apply(specs: &Value, components: &mut [Component], diagnostics: &mut Diagnostics) {
    let Kind::List(entries) = &specs.kind else {
        diagnostics.push(
            Diagnostic::error(specs.span, format!("`custom_training_job_specs` must be a list of dicts, not {}", specs.describe()))
                .with_hint("write `custom_training_job_specs=[{\"component_spec\": \"train_model\", \"machine_type\": \"n1-standard-8\"}]`"),
        );
        return;
    };
    let Some((catalogue, op)) = catalogue().and_then(|c| Some((c, c.op(OP)?))) else {
        return;
    };
    let version = &catalogue.provenance.gcpc_version;
    let names: Vec<String> = components
        .iter()
        .filter(|c| c.is_own())
        .map(|c| c.name.as_str().to_owned())
        .collect();
    for entry in entries.iter() {
        let Kind::Dict(fields) = &entry.kind else {
            diagnostics.push(Diagnostic::error(
                entry.span,
                format!(
                    "each of `custom_training_job_specs` must be a dict, not {}",
                    entry.describe()
                ),
            ));
            continue;
        };
        let Some((_, name_span, name)) = fields.iter().find(|(key, _, _)| key == "component_spec")
        else {
            diagnostics.push(
                Diagnostic::error(
                    entry.span,
                    "this entry of `custom_training_job_specs` names no component",
                )
                .with_hint("add `\"component_spec\": \"<the component's name>\"`"),
            );
            continue;
        };
        let Some(name_text) = name.as_str() else {
            diagnostics.push(Diagnostic::error(
                name.span.or(*name_span),
                "`component_spec` must be the component's name, as a string",
            ));
            continue;
        };
        let Some(component) = components
            .iter_mut()
            .find(|c| c.is_own() && c.name.as_str() == name_text)
        else {
            diagnostics.push(
                Diagnostic::error(name.span.or(*name_span), format!("`custom_training_job_specs` names `{name_text}`, which is no component of the pipeline"))
                    .with_optional_hint(did_you_mean(name_text, names.iter().map(String::as_str)).map(|s| format!("did you mean `{s}`?"))),
            );
            continue;
        };
        let mut arguments = Vec::new();
        let mut ok = true;
        for (key, key_span, value) in fields.iter() {
            if key == "component_spec" {
                continue;
            }
            if !ARGUMENTS.contains(&key.as_str()) {
                diagnostics.push(
                    Diagnostic::error(key_span.or(value.span), format!("`{key}` is not an argument of `create_custom_training_job_from_component` (Google Cloud Pipeline Components {version})"))
                        .with_optional_hint(did_you_mean(key, ARGUMENTS.iter().copied()).map(|s| format!("did you mean `{s}`?"))),
                );
                ok = false;
                continue;
            }
            // None is the argument's default.
            if value.kind == Kind::None {
                continue;
            }
            if key == "service_account"
                && let Some(account) = value.as_str()
                && !account.is_empty()
                && !super::naming::is_service_account_email(account)
            {
                diagnostics.push(
                    Diagnostic::error(
                        value.span.or(*key_span),
                        format!("`{account}` is not a service account email"),
                    )
                    .with_hint("use the form `name@project-id.iam.gserviceaccount.com`"),
                );
                ok = false;
                continue;
            }
            if key == "accelerator_type"
                && let Some(accelerator) = value.as_str()
                && !accelerator.is_empty()
                && !accelerators().any(|known| known == accelerator)
            {
                diagnostics.push(
                    Diagnostic::error(
                        value.span.or(*key_span),
                        format!("`{accelerator}` is not an accelerator type of Vertex AI"),
                    )
                    .with_hint(
                        did_you_mean(accelerator, accelerators()).map_or_else(
                            || {
                                format!(
                                    "use one of {}",
                                    accelerators().collect::<Vec<_>>().join(", ")
                                )
                            },
                            |s| format!("did you mean `{s}`?"),
                        ),
                    ),
                );
                ok = false;
                continue;
            }
            if let Some(json) = value.to_json() {
                arguments.push((key.clone(), json));
            } else {
                diagnostics.extend(
                    value.unknown_error(&format!("`{key}` of `custom_training_job_specs`")),
                );
                ok = false;
            }
        }
        if ok {
            component.custom_job = Some(CustomJob {
                arguments,
                op_component: op.component.clone(),
                op_executor: op.executor.clone(),
                requirement: catalogue.requirement(),
            });
        }
    }
}
