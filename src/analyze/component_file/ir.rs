//! kfp 2's component files: the IR `kfp.compiler` writes for one component, a pipeline spec
//! whose root runs one container executor. Read as kfp's `ComponentSpec.from_ir_dicts` reads
//! it: the interface from `comp-<name>` (else the root), the executor `exec-<name>`.

use serde_json::Value as Json;

use crate::diagnostic::Span;
use crate::model::{
    ArtifactType, CommandLine, Component, ContainerSpec, Input, IoType, LoadedFile, Output,
    ParamType, kfp_name,
};

/// A kfp 2 component file: a pipeline spec whose root runs one container executor.
pub(super) fn component(
    document: &Json,
    defined_at: Span,
    file: Option<LoadedFile>,
) -> Result<Component, String> {
    let raw_name = document["pipelineInfo"]["name"]
        .as_str()
        .ok_or("has no `pipelineInfo.name`")?;
    let kfp = kfp_name(raw_name);
    let spec = document["components"]
        .get(format!("comp-{kfp}"))
        .unwrap_or(&document["root"]);
    let Some(executor) = document["deploymentSpec"]["executors"].get(format!("exec-{kfp}")) else {
        return Err("holds a pipeline, not one container component: not supported yet; call its steps' components in the pipeline instead".to_owned());
    };
    let container = executor
        .get("container")
        .and_then(Json::as_object)
        .ok_or("runs no container (not supported yet)")?;
    if let Some(other) = container
        .keys()
        .find(|k| !matches!(k.as_str(), "image" | "command" | "args" | "env"))
    {
        return Err(format!(
            "sets the container's `{other}`: not supported yet (set resources on the task)"
        ));
    }
    let image = container
        .get("image")
        .and_then(Json::as_str)
        .ok_or("has a container without an image")?;
    let strings = |key: &str| -> Result<Vec<CommandLine>, String> {
        match container.get(key) {
            None => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(|s| CommandLine::Text(s.to_owned()))
                        .ok_or_else(|| format!("has a `{key}` element that is not a string"))
                })
                .collect(),
            Some(_) => Err(format!("has a `{key}` that is not a list")),
        }
    };
    let command = strings("command")?;
    let args = strings("args")?;
    let mut inputs = Vec::new();
    for (name, io) in definitions(&spec["inputDefinitions"]) {
        let ty = io_type(name, io)?;
        let default = match ty {
            IoType::Parameter(_) => io.get("defaultValue").cloned(),
            _ => None,
        };
        // kfp's rule: an input with a default is optional even when compiled without
        // `isOptional` (kfp <= 2.0.0b8).
        let optional = io
            .get("isOptional")
            .and_then(Json::as_bool)
            .unwrap_or(default.is_some());
        inputs.push(Input {
            name: name.to_owned(),
            ty,
            default,
            optional,
            // kfp drops input descriptions when it loads a component file.
            description: None,
        });
    }
    let mut outputs = Vec::new();
    for (name, io) in definitions(&spec["outputDefinitions"]) {
        outputs.push(Output {
            name: name.to_owned(),
            ty: io_type(name, io)?,
        });
    }
    let mut env = Vec::new();
    for var in container
        .get("env")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        match (var["name"].as_str(), var["value"].as_str()) {
            (Some(name), Some(value)) => env.push((name.to_owned(), value.to_owned())),
            _ => {
                return Err(format!(
                    "has an environment variable that is not `{{name, value}}` strings: {var}"
                ));
            }
        }
    }
    let spec = ContainerSpec {
        image: image.to_owned(),
        command,
        args,
        env,
        file,
    };
    super::container_component(raw_name, inputs, outputs, spec, defined_at)
}

/// The parameters, then the artifacts, of an `inputDefinitions` or `outputDefinitions`.
fn definitions(definitions: &Json) -> impl Iterator<Item = (&str, &Json)> {
    ["parameters", "artifacts"]
        .into_iter()
        .flat_map(move |kind| {
            definitions[kind]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, io)| (name.as_str(), io))
        })
}

fn io_type(name: &str, io: &Json) -> Result<IoType, String> {
    if let Some(ty) = io.get("parameterType").and_then(Json::as_str) {
        return ParamType::from_ir(ty)
            .map(IoType::Parameter)
            .ok_or_else(|| {
                format!("declares `{name}` of parameter type `{ty}`, which kfp does not know")
            });
    }
    let title = io["artifactType"]["schemaTitle"].as_str().ok_or_else(|| {
        format!("declares `{name}` with neither a parameter nor an artifact type")
    })?;
    let ty = ArtifactType::from_schema_title(title).ok_or_else(|| {
        format!("declares `{name}` of artifact type `{title}`: not supported yet")
    })?;
    Ok(
        if io.get("isArtifactList").and_then(Json::as_bool) == Some(true) {
            IoType::ArtifactList(ty)
        } else {
            IoType::Artifact(ty)
        },
    )
}
