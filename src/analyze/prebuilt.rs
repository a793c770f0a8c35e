//! Google Cloud Pipeline Components (`ModelUploadOp`...) the pipeline calls: found in the
//! embedded catalogue of GCPC 2.22.0 and compiled as kfp compiles them. An op the catalogue
//! lacks, or cannot compile yet, is a located error at its import.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    ArtifactType, Component, ComponentName, ComponentSource, Input, IoType, Output, ParamType,
    Prebuilt,
};
use crate::python::ast::{FunctionDef, Stmt};

use super::catalogue::{Io, Op, catalogue};
use super::suggest::did_you_mean;
use super::value::Env;

const GCPC: &str = "google_cloud_pipeline_components";

/// Whether a dotted origin is in Google Cloud Pipeline Components.
pub(crate) fn is_gcpc(origin: &str) -> bool {
    origin == GCPC || origin.starts_with("google_cloud_pipeline_components.")
}

/// Whether an import's dotted origin is a prebuilt component or the importer (the function,
/// or the `importer_node` module of kfp 1.8 that AutoMLOps's GPU example imports).
pub(crate) fn is_prebuilt(origin: &str) -> bool {
    is_gcpc(origin)
        || super::importer::is_importer_call(origin)
        || (origin.starts_with("kfp.") && origin.ends_with(".importer_node"))
}

const HINT: &str = "run the step inside a component of your own with the `google-cloud-aiplatform` client, or keep this pipeline in AutoMLOps until automlops supports it";

/// The prebuilt components the pipeline names, as Python binds them (its own imports, else the
/// notebook's): each name it reads that is an op of the catalogue becomes a component, called
/// by that name. A name of Google Cloud Pipeline Components that is no op we carry (or a
/// graph op) is an error at its import, and its name goes into `failed`, so that its calls
/// are not reported again.
pub(crate) fn components(
    def: &FunctionDef,
    used_names: impl Iterator<Item = String>,
    env: &Env,
    failed: &mut std::collections::BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) -> Vec<(String, Component)> {
    let imports = Imports::of(def, env);
    let mut found = Vec::new();
    for name in used_names {
        let Some((origin, span)) = imports.origin(&name) else {
            continue;
        };
        if !is_gcpc(&origin) || origin.starts_with("google_cloud_pipeline_components.types") {
            continue;
        }
        let Some(catalogue) = catalogue() else {
            continue;
        };
        let version = &catalogue.provenance.gcpc_version;
        let Some(op) = catalogue.op(&origin) else {
            let last = origin.rsplit('.').next().unwrap_or(&origin);
            // A module (`from google_cloud_pipeline_components.v1 import model`) is no op.
            if last.chars().next().is_some_and(char::is_uppercase) {
                failed.insert(name.clone());
                diagnostics.push(
                    Diagnostic::error(span, format!("`{origin}` is not a component of Google Cloud Pipeline Components {version}, which automlops carries"))
                        .with_optional_hint(did_you_mean(last, catalogue.names()).map(|s| format!("did you mean `{s}`?"))),
                );
            }
            continue;
        };
        match component(op, span, catalogue.requirement()) {
            Ok(component) => found.push((name, component)),
            Err(why) => {
                failed.insert(name);
                diagnostics.push(
                    Diagnostic::error(span, format!("not supported yet: `{}` of Google Cloud Pipeline Components {version} ({why})", op.name))
                        .with_hint(HINT),
                );
            }
        }
    }
    found
}

/// A prebuilt component, or one run as a custom job, runs as kfp writes it: resources and
/// environment variables set on its task are not carried into its executor, so they are
/// refused rather than dropped.
pub(crate) fn check_task_settings(
    pipeline: &crate::model::Pipeline,
    components: &[Component],
    diagnostics: &mut Diagnostics,
) {
    for task in &pipeline.tasks {
        let Some(component) = components.get(task.component) else {
            continue;
        };
        if let ComponentSource::Container(spec) = &component.source
            && spec.file.as_ref().is_some_and(|f| f.kfp2)
            && !spec.env.is_empty()
            && !task.settings.env.is_empty()
        {
            // kfp 2.17.3 reads such a file's variables as a list, and `set_env_variable`
            // then fails with a TypeError.
            diagnostics.push(
                Diagnostic::error(
                    task.span,
                    format!("kfp cannot add environment variables to a task of `{}`: its component file sets its own, which kfp 2 then fails to extend", component.name),
                )
                .with_hint("set the variables in the component file, or recompile the component with them"),
            );
        }
        let (what, hint) = match (&component.source, &component.custom_job) {
            (ComponentSource::Prebuilt(prebuilt), _) => (
                format!("`{}`, a Google Cloud Pipeline Component", prebuilt.python),
                "its launcher runs the work as a Vertex AI job with resources of its own (`dedicated_resources_machine_type`, `machine_type`...): set those inputs instead",
            ),
            (_, Some(_)) => (
                format!("`{}`, which runs as a Vertex AI CustomJob", component.name),
                "give the job its machine in `custom_training_job_specs` (`machine_type`, `accelerator_type`, `accelerator_count`, `env`)",
            ),
            _ => continue,
        };
        let s = &task.settings;
        let set = [
            (s.cpu_limit.is_some(), "set_cpu_limit"),
            (s.memory_limit.is_some(), "set_memory_limit"),
            (s.accelerator_type.is_some(), "set_accelerator_type"),
            (s.accelerator_count.is_some(), "set_accelerator_limit"),
            (!s.env.is_empty(), "set_env_variable"),
        ];
        for (_, method) in set.iter().filter(|(is_set, _)| *is_set) {
            diagnostics.push(
                Diagnostic::error(
                    task.span,
                    format!("not supported yet: `.{method}(...)` on {what}"),
                )
                .with_hint(hint),
            );
        }
    }
}

/// What the names a pipeline body reads were imported as: its own imports (inside blocks
/// too), else the notebook's.
pub(super) struct Imports<'a> {
    body: HashMap<String, (String, Span)>,
    env: &'a Env,
}

impl<'a> Imports<'a> {
    pub(super) fn of(def: &FunctionDef, env: &'a Env) -> Self {
        fn collect(body: &[Stmt], into: &mut HashMap<String, (String, Span)>) {
            for stmt in body {
                match stmt {
                    Stmt::Import(import) => {
                        for (binding, origin) in import.origins() {
                            into.insert(binding, (origin, import.span));
                        }
                    }
                    Stmt::With { body, .. } => collect(body, into),
                    _ => {}
                }
            }
        }
        let mut body = HashMap::new();
        collect(&def.body, &mut body);
        Self { body, env }
    }

    /// The dotted path a dotted name (`model.ModelUploadOp`) names, and where its first part
    /// was imported, if it was.
    pub(super) fn origin(&self, dotted: &str) -> Option<(String, Option<Span>)> {
        let (root, rest) = dotted
            .split_once('.')
            .map_or((dotted, None), |(r, t)| (r, Some(t)));
        let (base, span) = match self.body.get(root) {
            Some((origin, span)) => (origin.clone(), Some(*span)),
            None => (
                self.env.import_origin(root)?,
                self.env.get(root).and_then(|v| v.span),
            ),
        };
        Some(match rest {
            Some(rest) => (format!("{base}.{rest}"), span),
            None => (base, span),
        })
    }
}

/// The op as a component of the model: its interface from the IR kfp writes for it.
fn component(op: &Op, span: Option<Span>, requirement: String) -> Result<Component, String> {
    if op.kind != "container" {
        return Err("it is a pipeline of several steps".to_owned());
    }
    let io_type = |io: &Io| -> Result<IoType, String> {
        let ty = if io.kind == "artifact" {
            let title = io.ir["artifactType"]["schemaTitle"]
                .as_str()
                .unwrap_or_default();
            let ty = ArtifactType::from_schema_title(title)
                .ok_or_else(|| format!("its `{}` is of artifact type `{title}`", io.name))?;
            if io.ir["isArtifactList"].as_bool() == Some(true) {
                IoType::ArtifactList(ty)
            } else {
                IoType::Artifact(ty)
            }
        } else {
            let name = io.ir["parameterType"].as_str().unwrap_or_default();
            IoType::Parameter(
                ParamType::from_ir(name)
                    .ok_or_else(|| format!("its `{}` is of type `{name}`", io.name))?,
            )
        };
        Ok(ty)
    };
    let mut inputs = Vec::new();
    for io in &op.inputs {
        inputs.push(Input {
            name: io.name.clone(),
            ty: io_type(io)?,
            default: io.ir.get("defaultValue").cloned(),
            optional: !io.required,
            description: None,
        });
    }
    let mut outputs = Vec::new();
    for io in &op.outputs {
        outputs.push(Output {
            name: io.name.clone(),
            ty: io_type(io)?,
        });
    }
    let (module, python) = op
        .canonical_import
        .rsplit_once('.')
        .unwrap_or((GCPC, op.name.as_str()));
    // What the step does decides the runner's roles, as a component's imports do.
    let acts_on = if module.contains(".bigquery") {
        "google.cloud.bigquery"
    } else {
        "google.cloud.aiplatform"
    };
    let defined_at = span.unwrap_or(crate::diagnostic::Span::new(0, 0, 0));
    Ok(Component {
        name: ComponentName::new(op.name.clone()),
        description: None,
        inputs,
        outputs,
        source: ComponentSource::Prebuilt(Prebuilt {
            module: module.to_owned(),
            python: python.to_owned(),
            requirement,
            kfp_name: op.component_name.clone(),
            component: op.component.clone(),
            executor: op.executor.clone(),
        }),
        packages: Vec::new(),
        imported_modules: vec![(acts_on.to_owned(), defined_at)],
        defined_at,
        custom_job: None,
    })
}
