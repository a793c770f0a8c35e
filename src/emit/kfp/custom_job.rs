//! A component run as a Vertex AI `CustomJob`: the component spec and executor GCPC 2.22.0's
//! `create_custom_training_job_from_component` makes of it, written here from its rules:
//! `CustomTrainingJobOp`'s spec, its parameters' defaults set from the arguments (the worker
//! pool runs the component's own container), the component's inputs and outputs added.

use serde_json::{Map, Value, json};

use crate::model::{Component, CustomJob};

use super::ir::ComponentSpec;

/// The component spec (with `executorLabel`) and the executor of a custom-job task.
/// `spec` is the component's own interface, as a pipeline compiles it.
pub(super) fn custom_job(
    component: &Component,
    job: &CustomJob,
    image: &str,
    spec: &ComponentSpec,
    executor_label: &str,
) -> (Value, Value) {
    let given: Map<String, Value> = job.arguments.iter().cloned().collect();
    let arg = |name: &str, default: Value| given.get(name).cloned().unwrap_or(default);
    let container = super::container(component, image);
    // The executor input is spliced into the job's JSON payload, so kfp escapes it there.
    let escape = |parts: Vec<String>| -> Vec<String> {
        parts
            .into_iter()
            .map(|part| {
                if part == "{{$}}" {
                    "{{$.json_escape[1]}}".to_owned()
                } else {
                    part
                }
            })
            .collect()
    };
    let mut machine_spec = Map::new();
    machine_spec.insert(
        "machine_type".to_owned(),
        arg("machine_type", json!("n1-standard-4")),
    );
    let accelerator_type = arg("accelerator_type", json!(""));
    if truthy(&accelerator_type) {
        machine_spec.insert("accelerator_type".to_owned(), accelerator_type);
        machine_spec.insert(
            "accelerator_count".to_owned(),
            arg("accelerator_count", json!(1)),
        );
    }
    let mut worker = Map::new();
    worker.insert("machine_spec".to_owned(), Value::Object(machine_spec));
    worker.insert("replica_count".to_owned(), json!(1));
    worker.insert(
        "container_spec".to_owned(),
        json!({
            "image_uri": container.image,
            "command": escape(container.command),
            "args": escape(container.args),
            "env": arg("env", json!([])),
        }),
    );
    let boot_disk_type = arg("boot_disk_type", json!("pd-ssd"));
    if truthy(&boot_disk_type) {
        worker.insert(
            "disk_spec".to_owned(),
            json!({
                "boot_disk_type": boot_disk_type,
                "boot_disk_size_gb": arg("boot_disk_size_gb", json!(100)),
            }),
        );
    }
    let nfs_mounts = arg("nfs_mounts", Value::Null);
    if truthy(&nfs_mounts) {
        worker.insert("nfs_mounts".to_owned(), nfs_mounts);
    }
    let mut pools = vec![Value::Object(worker.clone())];
    let replicas = arg("replica_count", json!(1));
    if let Some(count) = as_int(&replicas).filter(|count| *count > 1) {
        worker.insert("replica_count".to_owned(), json!(count - 1));
        pools.push(Value::Object(worker));
    }
    let defaults = [
        ("display_name", arg("display_name", json!(""))),
        ("worker_pool_specs", Value::Array(pools)),
        ("timeout", arg("timeout", json!("604800s"))),
        (
            "restart_job_on_worker_restart",
            arg("restart_job_on_worker_restart", json!(false)),
        ),
        ("strategy", arg("strategy", json!("STANDARD"))),
        (
            "max_wait_duration",
            arg("max_wait_duration", json!("86400s")),
        ),
        ("service_account", arg("service_account", json!(""))),
        ("tensorboard", arg("tensorboard", json!(""))),
        ("enable_web_access", arg("enable_web_access", json!(false))),
        ("network", arg("network", json!(""))),
        ("reserved_ip_ranges", arg("reserved_ip_ranges", Value::Null)),
        (
            "base_output_directory",
            arg("base_output_directory", json!("")),
        ),
        ("labels", arg("labels", Value::Null)),
        (
            "encryption_spec_key_name",
            arg("encryption_spec_key_name", json!("")),
        ),
        (
            "persistent_resource_id",
            arg(
                "persistent_resource_id",
                json!("{{$.pipeline_persistent_resource_id}}"),
            ),
        ),
        ("psc_interface_config", Value::Null),
    ];
    let mut op = job.op_component.clone();
    // An empty display name is the component's (GCPC: `display_name or` its name).
    let display_default = json!(component.name.kfp());
    let own = serde_json::to_value(spec).unwrap_or_default();
    if let Some(op) = op.as_object_mut() {
        op.insert("executorLabel".to_owned(), json!(executor_label));
        let parameters = op
            .get_mut("inputDefinitions")
            .and_then(|d| d.get_mut("parameters"))
            .and_then(Value::as_object_mut);
        if let Some(parameters) = parameters {
            for (name, default) in defaults {
                let default = if name == "display_name" && !truthy(&default) {
                    display_default.clone()
                } else {
                    default
                };
                if let Some(definition) = parameters.get_mut(name).and_then(Value::as_object_mut) {
                    if default.is_null() {
                        definition.remove("defaultValue");
                    } else {
                        definition.insert("defaultValue".to_owned(), default);
                        // kfp reads a parameter with a default as optional.
                        definition.insert("isOptional".to_owned(), json!(true));
                    }
                }
            }
            if let Some(own_parameters) = own["inputDefinitions"]["parameters"].as_object() {
                parameters.extend(own_parameters.clone());
            }
        }
        let definitions = [
            ("inputDefinitions", "artifacts"),
            ("outputDefinitions", "artifacts"),
        ];
        for (side, kind) in definitions {
            let value = own[side][kind].clone();
            if let Some(side) = op.get_mut(side).and_then(Value::as_object_mut) {
                if truthy(&value) {
                    side.insert(kind.to_owned(), value);
                } else {
                    side.remove(kind);
                }
            }
        }
        if let Some(outputs) = op
            .get_mut("outputDefinitions")
            .and_then(|d| d.get_mut("parameters"))
            .and_then(Value::as_object_mut)
            && let Some(own_outputs) = own["outputDefinitions"]["parameters"].as_object()
        {
            outputs.extend(own_outputs.clone());
        }
    }
    // The wrapped component is loaded again from text and compiled into the pipeline, which
    // drops every description.
    for side in ["inputDefinitions", "outputDefinitions"] {
        for kind in ["parameters", "artifacts"] {
            // (`get_mut`, not indexing, which would add the missing keys as nulls.)
            if let Some(definitions) = op
                .get_mut(side)
                .and_then(|d| d.get_mut(kind))
                .and_then(Value::as_object_mut)
            {
                for definition in definitions.values_mut() {
                    if let Some(definition) = definition.as_object_mut() {
                        definition.remove("description");
                    }
                }
            }
        }
    }
    (op, job.op_executor.clone())
}

/// Python's truth of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Python's `int()` of a number or a numeric string.
fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
