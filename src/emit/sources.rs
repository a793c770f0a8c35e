//! Generated Python and the Dockerfile, rendered from `templates/` with view structs computed
//! here (templates hold no logic).

use std::collections::HashSet;
use std::fmt::Write as _;

use askama::Template;

use crate::analyze::Analysis;
use crate::model::{Argument, Component, ComponentSource, IoType};

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
#[template(path = "pipeline.py", escape = "none")]
struct PipelinePy<'a> {
    notebook: &'a str,
    loads: Vec<String>,
    decorator_args: Vec<String>,
    params: Vec<String>,
    tasks: Vec<String>,
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

/// `pipelines/pipeline.py`: the same pipeline, written with kfp, for users who customise it.
/// Names `pipelines/pipeline.py` defines or imports itself.
const RESERVED: &[&str] = &[
    "ROOT",
    "argparse",
    "compiler",
    "dsl",
    "load_component",
    "load_component_from_file",
    "main",
    "pathlib",
    "pipeline",
];

/// `base`, or `base_2`, `base_3`... if `taken` already has it.
fn unique(base: &str, taken: &HashSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}_{n}");
    }
    name
}

pub(super) fn pipeline(analysis: &Analysis, notebook: &str) -> Result<String, askama::Error> {
    let pipeline = &analysis.pipeline;
    // Every Python name of the file is distinct: parameters first (their names are the
    // pipeline's interface), then component loaders, then task variables.
    let mut taken: HashSet<String> = RESERVED.iter().map(|r| (*r).to_owned()).collect();
    taken.extend(pipeline.params.iter().map(|p| p.name.clone()));
    let mut loaders = Vec::new();
    for component in &analysis.components {
        let name = component.name.as_str();
        let loader = if taken.contains(name) {
            unique(&format!("{name}_component"), &taken)
        } else {
            name.to_owned()
        };
        taken.insert(loader.clone());
        loaders.push(loader);
    }
    let loads = analysis
        .components
        .iter()
        .zip(&loaders)
        .map(|(c, loader)| {
            format!(
                "{loader} = load_component({})",
                python::string(c.name.as_str())
            )
        })
        .collect();
    let mut decorator_args = vec![format!("name={}", python::string(&pipeline.name))];
    if let Some(description) = &pipeline.description {
        decorator_args.push(format!("description={}", python::string(description)));
    }
    let params = pipeline
        .params
        .iter()
        .map(|p| match &p.default {
            Some(default) => format!(
                "{}: {} = {}",
                p.name,
                p.ty.python(),
                python::literal(default)
            ),
            None => format!("{}: {}", p.name, p.ty.python()),
        })
        .collect();
    let mut variables: Vec<String> = Vec::new();
    for task in &pipeline.tasks {
        let variable = unique(&task.variable, &taken);
        taken.insert(variable.clone());
        variables.push(variable);
    }
    let mut tasks: Vec<String> = Vec::new();
    // `.after(later_task)` must wait until the later task exists in the Python code.
    let mut deferred: Vec<String> = Vec::new();
    for (index, (task, variable)) in pipeline.tasks.iter().zip(&variables).enumerate() {
        let loader = &loaders[task.component];
        let args: Vec<String> = task
            .arguments
            .iter()
            .map(|(name, argument)| {
                let value = match argument {
                    Argument::PipelineParam(param) => param.clone(),
                    Argument::Constant(value) => python::literal(value),
                    Argument::TaskOutput { task, output } => {
                        format!("{}.outputs[{}]", variables[*task], python::string(output))
                    }
                };
                format!("{name}={value}")
            })
            .collect();
        let (earlier, later): (Vec<usize>, Vec<usize>) =
            task.after.iter().partition(|after| **after < index);
        let after = if earlier.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = earlier.iter().map(|i| variables[*i].as_str()).collect();
            format!(".after({})", names.join(", "))
        };
        if !later.is_empty() {
            let names: Vec<&str> = later.iter().map(|i| variables[*i].as_str()).collect();
            deferred.push(format!("{variable}.after({})", names.join(", ")));
        }
        let after = after + &settings_chain(&task.settings);
        let one_line = format!("{variable} = {loader}({}){after}", args.join(", "));
        // Long calls get one argument per line, as black would write them.
        tasks.push(if one_line.len() + 4 <= 99 {
            one_line
        } else {
            let args: Vec<String> = args.iter().map(|a| format!("        {a},")).collect();
            format!("{variable} = {loader}(\n{}\n    ){after}", args.join("\n"))
        });
    }
    tasks.extend(deferred);
    finish(
        PipelinePy {
            notebook,
            loads,
            decorator_args,
            params,
            tasks,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "runner.Dockerfile", escape = "none")]
struct RunnerDockerfile<'a> {
    notebook: &'a str,
    /// A JSON string: the exec form of COPY takes JSON, so any path stays one argument.
    job_path: String,
}

/// `cloud_run/run_pipeline/Dockerfile`.
pub(super) fn runner_dockerfile(
    settings: &crate::model::Settings,
    notebook: &str,
) -> Result<String, askama::Error> {
    let job_path = serde_json::to_string(&settings.pipeline_job_spec_path).unwrap_or_default();
    finish(RunnerDockerfile { notebook, job_path }.render())
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
                    options: recompile_args
                        .iter()
                        .map(|arg| super::shell::quote(arg))
                        .collect::<Vec<_>>()
                        .join(" "),
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

/// The kfp task methods that reproduce a task's settings.
fn settings_chain(settings: &crate::model::TaskSettings) -> String {
    let mut chain = String::new();
    if let Some(name) = &settings.display_name {
        let _ = write!(chain, ".set_display_name({})", python::string(name));
    }
    match (&settings.cache_key, settings.caching) {
        (Some(key), caching) => {
            let caching = if caching { "True" } else { "False" };
            let _ = write!(
                chain,
                ".set_caching_options({caching}, cache_key={})",
                python::string(key)
            );
        }
        (None, false) => chain.push_str(".set_caching_options(False)"),
        (None, true) => {}
    }
    if let Some(cpu) = &settings.cpu_limit {
        let _ = write!(chain, ".set_cpu_limit({})", python::string(cpu));
    }
    if let Some(memory) = &settings.memory_limit {
        let _ = write!(chain, ".set_memory_limit({})", python::string(memory));
    }
    if let Some(accelerator) = &settings.accelerator_type {
        let _ = write!(
            chain,
            ".set_accelerator_type({})",
            python::string(accelerator)
        );
    }
    if let Some(count) = &settings.accelerator_count {
        let _ = write!(chain, ".set_accelerator_limit({count})");
    }
    if let Some(retry) = &settings.retry {
        let _ = write!(
            chain,
            ".set_retry(num_retries={}, backoff_duration={}, backoff_factor={}, backoff_max_duration={})",
            retry.count,
            python::string(&retry.backoff_duration),
            python::literal(&serde_json::json!(retry.backoff_factor)),
            python::string(&retry.backoff_max_duration)
        );
    }
    for (name, value) in &settings.env {
        let _ = write!(
            chain,
            ".set_env_variable({}, {})",
            python::string(name),
            python::string(value)
        );
    }
    chain
}

pub(super) fn dockerfile(base_image: &str, notebook: &str) -> Result<String, askama::Error> {
    finish(
        Dockerfile {
            notebook,
            base_image,
        }
        .render(),
    )
}

/// askama drops a template's final newline; files end with one.
fn finish(rendered: Result<String, askama::Error>) -> Result<String, askama::Error> {
    rendered.map(|mut text| {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    })
}
