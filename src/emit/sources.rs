//! Generated Python and the Dockerfile, rendered from `templates/` with view structs computed
//! here (templates hold no logic).

use std::fmt::Write as _;

use askama::Template;

use crate::analyze::Analysis;
use crate::model::{Component, ComponentSource, IoType};

use super::python;

#[derive(Template)]
#[template(path = "component.py", escape = "none")]
struct ComponentPy<'a> {
    notebook: &'a str,
    name: &'a str,
    /// The import block, one statement per line.
    imports: String,
    function: String,
}

#[derive(Template)]
#[template(path = "Dockerfile", escape = "none")]
struct Dockerfile<'a> {
    notebook: &'a str,
    base_image: &'a str,
}

/// `components/component_base/src/<name>.py`.
pub(super) fn component(component: &Component, notebook: &str) -> Result<String, askama::Error> {
    let name = component.name.as_str();
    // What the executor needs, then what the code needs: Kubeflow functions expect the names
    // kfp's own lightweight components provide; cell bodies get their `%%define_imports` lines.
    let mut imports = vec!["import argparse", "import json", ""];
    let (user_imports, function) = match &component.source {
        ComponentSource::Body { imports, body } => {
            (imports.as_slice(), body_function(component, body))
        }
        ComponentSource::Function { source } => {
            imports.extend([
                "import typing",
                "",
                "import kfp",
                "from kfp import dsl",
                "from kfp.dsl import *",
                "from typing import *",
                "",
            ]);
            (&[][..], trim_lines(source))
        }
        // Runs in an image of its own: it has no source here (`component_files` writes none).
        ComponentSource::Prebuilt(_)
        | ComponentSource::Importer(_)
        | ComponentSource::Container(_) => {
            return Ok(String::new());
        }
    };
    imports.push("from kfp.dsl import executor");
    let mut user: Vec<&str> = user_imports
        .iter()
        .map(String::as_str)
        .filter(|line| !imports.contains(line))
        .collect();
    user.dedup();
    if !user.is_empty() {
        imports.push("");
        imports.extend(user);
    }
    finish(
        ComponentPy {
            notebook,
            name,
            imports: imports.join("\n"),
            function,
        }
        .render(),
    )
}

/// The text without trailing whitespace on any line or at the end.
fn trim_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

/// The function `AutoMLOps` 1.0 generated around a `%%define_component` cell's body.
fn body_function(component: &Component, body: &str) -> String {
    let params: Vec<String> = component
        .inputs
        .iter()
        .map(|input| match input.ty {
            IoType::Parameter(ty) => format!("    {}: {},", input.name, ty.python()),
            IoType::Artifact(ty) => format!("    {}: Input[{}],", input.name, ty.python()),
            IoType::ArtifactList(ty) => {
                format!("    {}: Input[List[{}]],", input.name, ty.python())
            }
        })
        .collect();
    let mut doc = component
        .description
        .clone()
        .unwrap_or_else(|| format!("Component {}.", component.name));
    if !component.inputs.is_empty() {
        doc.push_str("\n\nArgs:");
        for input in &component.inputs {
            let text = input
                .description
                .as_deref()
                .unwrap_or("No description provided.");
            let _ = write!(doc, "\n    {}: {}", input.name, text);
        }
    }
    let body = python::dedent(body.trim_matches('\n'));
    let body = if body.trim().is_empty() {
        "pass".to_owned()
    } else {
        body
    };
    let signature = if params.is_empty() {
        format!("def {}():", component.name)
    } else {
        format!("def {}(\n{}\n):", component.name, params.join("\n"))
    };
    format!(
        "{signature}\n    \"\"\"{}\n    \"\"\"\n{}",
        python::indent(&python::docstring(&doc), "    ").trim_start(),
        python::indent(&body, "    ")
    )
}

#[derive(Template)]
#[template(path = "runner.Dockerfile", escape = "none")]
struct RunnerDockerfile<'a> {
    notebook: &'a str,
    /// JSON strings: the exec form of COPY takes JSON, so any path stays one argument.
    job_path: String,
    values_path: String,
    schema_path: String,
}

/// `cloud_run/run_pipeline/Dockerfile`.
pub(super) fn runner_dockerfile(
    settings: &crate::model::Settings,
    notebook: &str,
) -> Result<String, askama::Error> {
    let job_path = serde_json::to_string(&settings.pipeline_job_spec_path).unwrap_or_default();
    let values_path = serde_json::to_string(&settings.parameter_values_path).unwrap_or_default();
    let schema_path = serde_json::to_string(&crate::model::parameter_schema::schema_path(
        &settings.parameter_values_path,
    ))
    .unwrap_or_default();
    finish(
        RunnerDockerfile {
            notebook,
            job_path,
            values_path,
            schema_path,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "build_components.sh", escape = "none")]
struct BuildComponents<'a> {
    notebook: &'a str,
    project_id: String,
    location: String,
}

#[derive(Template)]
#[template(path = "build_pipeline_spec.sh", escape = "none")]
struct BuildPipelineSpec<'a> {
    notebook: &'a str,
    default_notebook: String,
    /// The notebook's copy in the output, quoted for the shell.
    copy: String,
    /// The arguments of the compile that wrote this directory, quoted for the shell.
    options: String,
}

#[derive(Template)]
#[template(path = "run_pipeline.sh", escape = "none")]
struct RunPipeline<'a> {
    notebook: &'a str,
}

#[derive(Template)]
#[template(path = "run_all.sh", escape = "none")]
struct RunAll<'a> {
    notebook: &'a str,
}

#[derive(Template)]
#[template(path = "README.md", escape = "none")]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template's view: each flag chooses one paragraph"
)]
struct Readme<'a> {
    notebook: &'a str,
    pipeline: &'a str,
    job_path: &'a str,
    values_path: &'a str,
    ci: bool,
    /// A Cloud Build trigger exists (not with GitHub but no connection).
    trigger: bool,
    branch: &'a str,
    runner: &'a str,
    schedule: Option<&'a str>,
    project_id: &'a str,
    /// Where the notebook's copy is, which CI recompiles.
    notebook_copy: String,
    automlops_image: String,
    /// The arguments of `automlops compile` that check this directory, quoted for the shell.
    check_command: String,
    /// GitHub Actions or GitLab CI runs the CI (else Cloud Build).
    federated: bool,
    /// Cloud Build reviews pull requests (a GitHub connection).
    review: bool,
    github: bool,
    /// The pool and the deploying account exist already (AutoMLOps 1.3's options).
    given_identity: bool,
    planner: String,
    deployer: String,
    version: &'static str,
    data_loss_label: &'static str,
    /// The pipeline's DAG in Mermaid, which GitHub and GitLab draw.
    graph: String,
}

/// The scripts of `scripts/` besides `create_resources.sh`, as (path, contents).
pub(super) fn scripts(
    settings: &crate::model::Settings,
    recompile_args: &[String],
    notebook: &str,
) -> Result<Vec<(String, String)>, askama::Error> {
    Ok(vec![
        (
            "scripts/build_components.sh".to_owned(),
            finish(
                BuildComponents {
                    notebook,
                    project_id: super::shell::quote(&settings.project_id),
                    location: super::shell::quote(&settings.af_registry_location),
                }
                .render(),
            )?,
        ),
        (
            "scripts/build_pipeline_spec.sh".to_owned(),
            finish(
                BuildPipelineSpec {
                    notebook,
                    default_notebook: super::shell::quote(&format!("../{notebook}")),
                    copy: super::shell::quote(&super::notebook_copy::path(notebook)),
                    options: super::shell::quote_all(recompile_args.iter().map(String::as_str)),
                }
                .render(),
            )?,
        ),
        (
            "scripts/run_pipeline.sh".to_owned(),
            finish(RunPipeline { notebook }.render())?,
        ),
        (
            "scripts/run_all.sh".to_owned(),
            finish(RunAll { notebook }.render())?,
        ),
    ])
}

/// The output's own `README.md`.
pub(super) fn readme(analysis: &Analysis, notebook: &str) -> Result<String, askama::Error> {
    let settings = &analysis.settings;
    finish(
        Readme {
            notebook,
            pipeline: &analysis.pipeline.name,
            job_path: &settings.pipeline_job_spec_path,
            values_path: &settings.parameter_values_path,
            ci: !settings.run_local,
            trigger: settings.has_ci_trigger(),
            branch: &settings.csr_branch_name,
            runner: &settings.cloud_run_name,
            schedule: settings.schedule.as_deref(),
            project_id: &settings.project_id,
            notebook_copy: super::notebook_copy::path(notebook),
            automlops_image: super::cloudbuild::automlops_image(settings),
            check_command: super::shell::quote_all(
                [
                    super::notebook_copy::path(notebook).as_str(),
                    "--output",
                    ".",
                    "--check",
                ]
                .into_iter()
                .chain(analysis.recompile_args.iter().map(String::as_str)),
            ),
            federated: settings.federated_ci(),
            review: settings.cloud_build_reviews(),
            github: settings.deployment_framework == crate::model::ci::Framework::GitHubActions,
            given_identity: settings.given_identity.is_some(),
            planner: settings.planner_email(),
            deployer: settings.deployer_email(),
            version: env!("CARGO_PKG_VERSION"),
            data_loss_label: super::ci::github_actions::DATA_LOSS_LABEL,
            graph: super::graph::mermaid(analysis),
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "create_resources.sh", escape = "none")]
struct CreateResources<'a> {
    notebook: &'a str,
    project_id: String,
    state_location: String,
    state_bucket: String,
    /// The configuration declares `tf_state_bucket` (for Cloud Build's plan), given here so
    /// that it follows `STATE_BUCKET`.
    plan_var: bool,
}

/// `scripts/create_resources.sh`: Terraform init, plan and apply of `terraform/`.
pub(super) fn create_resources(
    settings: &crate::model::Settings,
    notebook: &str,
) -> Result<String, askama::Error> {
    finish(
        CreateResources {
            notebook,
            project_id: super::shell::quote(&settings.project_id),
            state_location: super::shell::quote(&settings.gs_bucket_location),
            state_bucket: super::shell::quote(&settings.tf_state_bucket()),
            plan_var: !settings.run_local,
        }
        .render(),
    )
}

/// The Dockerfile; analysis has checked the base image, and a value that would add a line or
/// an option to `FROM` is refused here too.
pub(super) fn dockerfile(base_image: &str, notebook: &str) -> Result<String, askama::Error> {
    if base_image.is_empty()
        || base_image.starts_with('-')
        || base_image
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(askama::Error::custom(format!(
            "refusing base image {base_image:?}: it would change the Dockerfile beyond its FROM line"
        )));
    }
    finish(
        Dockerfile {
            notebook,
            base_image,
        }
        .render(),
    )
}

/// askama drops a template's final newline; files end with one.
pub(super) fn finish(rendered: Result<String, askama::Error>) -> Result<String, askama::Error> {
    rendered.map(|mut text| {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    })
}
