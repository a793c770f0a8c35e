//! Cloud Build's rendering of the CI stages (`model::ci`). `cloudbuild.yaml` builds and pushes
//! the component image and the runner image, tagged with the commit, pins the compiled pipeline
//! to the component image of that commit, and (with `run_local` false) first checks that the
//! committed output is what automlops makes of the committed notebook, then runs
//! `terraform plan` for review and deploys the runner. `cloudbuild-review.yaml` runs the review
//! stages on pull requests. Written through serde, so every value is quoted by a YAML
//! serializer.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Settings;
use crate::model::ci::{Stage, stages};

#[derive(Serialize)]
struct CloudBuild {
    steps: Vec<Step>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<String>,
    /// Defaults of the user substitutions; the trigger sets them from Terraform's variables.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    substitutions: BTreeMap<&'static str, String>,
    options: BuildOptions,
}

#[derive(Serialize)]
struct Step {
    id: &'static str,
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<&'static str>,
    args: Vec<String>,
    #[serde(rename = "waitFor", skip_serializing_if = "Vec::is_empty")]
    wait_for: Vec<&'static str>,
}

#[derive(Serialize)]
struct BuildOptions {
    /// Builds run as a user-managed service account, which needs logs to go to Cloud
    /// Logging only.
    logging: &'static str,
}

/// The Artifact Registry path of an image shared by the repository's pipelines (automlops's own),
/// without a tag; the pipeline's images are `Settings::image`.
fn registry_image(settings: &Settings, name: &str) -> String {
    format!(
        "{}-docker.pkg.dev/{}/{}/{name}",
        settings.af_registry_location, settings.project_id, settings.af_registry_name
    )
}

/// The script that points the compiled pipeline's executors at the component image of this
/// build (`:$SHORT_SHA`), in the build's copy: Vertex AI caches steps by image name, so a
/// moving `:latest` could serve results of an older image.
pub(crate) const PIN_SCRIPT: &str = r#"import json, sys
path, latest, pinned = sys.argv[1:4]
with open(path) as f:
    job = json.load(f)
for executor in job["pipelineSpec"]["deploymentSpec"]["executors"].values():
    if executor.get("container", {}).get("image") == latest:
        executor["container"]["image"] = pinned
# Components run as Vertex AI CustomJobs name the image in their worker pools.
for component in job["pipelineSpec"]["components"].values():
    pools = component.get("inputDefinitions", {}).get("parameters", {}).get("worker_pool_specs", {})
    for pool in pools.get("defaultValue", []):
        if pool.get("container_spec", {}).get("image_uri") == latest:
            pool["container_spec"]["image_uri"] = pinned
with open(path, "w") as f:
    json.dump(job, f, indent=2, sort_keys=True)
"#;

/// The Terraform CLI image of the plan step, pinned: the configuration needs Terraform 1.5 or
/// later.
pub(crate) const TERRAFORM: &str = "hashicorp/terraform:1.9.8";

impl Step {
    fn new(id: &'static str, name: &'static str, args: Vec<String>) -> Self {
        Self {
            id,
            name,
            entrypoint: None,
            dir: None,
            args,
            wait_for: vec!["-"],
        }
    }

    fn entrypoint(mut self, entrypoint: &'static str) -> Self {
        self.entrypoint = Some(entrypoint);
        self
    }

    fn dir(mut self, dir: &'static str) -> Self {
        self.dir = Some(dir);
        self
    }

    fn after(mut self, steps: &[&'static str]) -> Self {
        self.wait_for = steps.to_vec();
        self
    }
}

/// Cloud Build reads `$NAME` in a step as a substitution; `$$` is a literal `$`.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

/// The image of automlops itself that checks the committed output, the version that wrote it.
pub(crate) fn automlops_image(settings: &Settings) -> String {
    format!(
        "{}:{}",
        registry_image(settings, "automlops"),
        env!("CARGO_PKG_VERSION")
    )
}

/// The step that checks the committed output is what automlops (the `_AUTOMLOPS_IMAGE` of the
/// version that wrote it) compiles the committed notebook into.
fn check_step(notebook_copy: &str, recompile_args: &[String]) -> Step {
    let mut args = vec![
        "compile".to_owned(),
        literal(notebook_copy),
        "--output".to_owned(),
        ".".to_owned(),
        "--check".to_owned(),
    ];
    args.extend(recompile_args.iter().map(|a| literal(a)));
    Step::new("check-compiled-output", "${_AUTOMLOPS_IMAGE}", args)
}

/// `notebook_copy` is the path of the notebook's copy in the output, `recompile_args` the
/// options of the compile that wrote it.
pub(crate) fn cloudbuild(
    settings: &Settings,
    notebook_copy: &str,
    recompile_args: &[String],
) -> Result<String, serde_json::Error> {
    let component = settings.image("components/component_base");
    let runner = settings.image("run_pipeline");
    let docker = "gcr.io/cloud-builders/docker";
    let mut steps = Vec::new();
    let mut substitutions = BTreeMap::new();
    // Without CI (`run_local`), the build only builds: the images and the pinned pipeline.
    let deploy: Vec<Stage> = stages()
        .deploy
        .into_iter()
        .filter(|stage| {
            !settings.run_local
                || matches!(
                    stage,
                    Stage::BuildComponentImage | Stage::PinPipeline | Stage::BuildRunnerImage
                )
        })
        .collect();
    // With CI, nothing is built before the committed output is checked to be what automlops
    // makes of the committed notebook: a hand-edited generated file, or output of another
    // automlops version, stops the build.
    let first: &[&'static str] = if deploy.contains(&Stage::CheckCompiled) {
        &["check-compiled-output"]
    } else {
        &["-"]
    };
    for stage in deploy {
        match stage {
            Stage::CheckCompiled => {
                substitutions.insert("_AUTOMLOPS_IMAGE", automlops_image(settings));
                steps.push(check_step(notebook_copy, recompile_args));
            }
            Stage::BuildComponentImage => steps.extend([
                Step::new(
                    "build-component-base",
                    docker,
                    vec![
                        "build".into(),
                        "--tag".into(),
                        format!("{component}:$SHORT_SHA"),
                        "--tag".into(),
                        format!("{component}:latest"),
                        "components/component_base".into(),
                    ],
                )
                .after(first),
                Step::new(
                    "push-component-base",
                    docker,
                    vec!["push".into(), "--all-tags".into(), component.clone()],
                )
                .after(&["build-component-base"]),
            ]),
            Stage::PinPipeline => steps.push(
                Step::new(
                    "pin-component-image",
                    "python:3.12-slim",
                    vec![
                        "-c".into(),
                        PIN_SCRIPT.into(),
                        settings.pipeline_job_spec_path.clone(),
                        format!("{component}:latest"),
                        format!("{component}:$SHORT_SHA"),
                    ],
                )
                .entrypoint("python3")
                .after(first),
            ),
            Stage::BuildRunnerImage => steps.extend([
                Step::new(
                    "build-runner",
                    docker,
                    vec![
                        "build".into(),
                        "--file".into(),
                        "cloud_run/run_pipeline/Dockerfile".into(),
                        "--tag".into(),
                        format!("{runner}:$SHORT_SHA"),
                        ".".into(),
                    ],
                )
                .after(&["pin-component-image"]),
                Step::new(
                    "push-runner",
                    docker,
                    vec!["push".into(), format!("{runner}:$SHORT_SHA")],
                )
                .after(&["build-runner"]),
            ]),
            // The plan is for review in the build log; it reads the state without locking it,
            // so it never blocks or races a `terraform apply`. A configuration that does not
            // plan stops the build before the runner is deployed.
            Stage::TerraformPlan => {
                substitutions.insert("_TF_STATE_BUCKET", settings.tf_state_bucket());
                steps.push(
                    Step::new(
                        "terraform-init",
                        TERRAFORM,
                        vec![
                            "init".into(),
                            "-input=false".into(),
                            "-backend-config=bucket=${_TF_STATE_BUCKET}".into(),
                        ],
                    )
                    .dir("terraform")
                    .after(first),
                );
                steps.push(
                    Step::new(
                        "terraform-plan",
                        TERRAFORM,
                        vec!["plan".into(), "-input=false".into(), "-lock=false".into()],
                    )
                    .dir("terraform")
                    .after(&["terraform-init"]),
                );
            }
            Stage::DeployRunner => steps.push(
                Step::new(
                    "deploy-runner",
                    "gcr.io/google.com/cloudsdktool/cloud-sdk:slim",
                    vec![
                        "run".into(),
                        "deploy".into(),
                        settings.cloud_run_name.clone(),
                        format!("--image={runner}:$SHORT_SHA"),
                        format!("--region={}", settings.cloud_run_location),
                        format!("--project={}", settings.project_id),
                        format!("--service-account={}", settings.pipeline_runner_sa),
                        "--no-allow-unauthenticated".into(),
                        "--quiet".into(),
                    ],
                )
                .entrypoint("gcloud")
                .after(&["push-runner", "push-component-base", "terraform-plan"]),
            ),
            // Cloud Build applies nothing: `scripts/create_resources.sh` does, by a person.
            Stage::TerraformLint | Stage::TerraformApply => {}
        }
    }
    let build = CloudBuild {
        steps,
        images: vec![
            format!("{component}:$SHORT_SHA"),
            format!("{runner}:$SHORT_SHA"),
        ],
        substitutions,
        options: BuildOptions {
            logging: "CLOUD_LOGGING_ONLY",
        },
    };
    super::yaml::to_yaml(&build)
}

/// `cloudbuild-review.yaml`: the review stages (`model::ci`) of a pull request, run by the
/// pull-request trigger as the read-only planner: the compiled-output check, `terraform fmt`,
/// `validate` and `plan` (no lock), and the plan summary in the build log; a plan that loses
/// data fails the build, so the pull request's check shows it.
pub(crate) fn review(
    settings: &Settings,
    notebook_copy: &str,
    recompile_args: &[String],
) -> Result<String, serde_json::Error> {
    let mut steps = Vec::new();
    let mut substitutions = BTreeMap::new();
    substitutions.insert("_AUTOMLOPS_IMAGE", automlops_image(settings));
    substitutions.insert("_TF_STATE_BUCKET", settings.tf_state_bucket());
    let terraform = |id: &'static str, args: &[&str]| {
        Step::new(
            id,
            TERRAFORM,
            args.iter().map(|a| (*a).to_owned()).collect(),
        )
        .dir("terraform")
    };
    for stage in stages().review {
        match stage {
            Stage::CheckCompiled => {
                steps.push(check_step(notebook_copy, recompile_args));
            }
            Stage::TerraformLint => {
                steps.push(terraform("terraform-fmt", &["fmt", "-check", "-recursive"]));
                steps.push(terraform(
                    "terraform-init",
                    &[
                        "init",
                        "-input=false",
                        "-backend-config=bucket=${_TF_STATE_BUCKET}",
                    ],
                ));
                steps.push(
                    terraform("terraform-validate", &["validate"]).after(&["terraform-init"]),
                );
            }
            Stage::TerraformPlan => {
                steps.push(
                    terraform(
                        "terraform-plan",
                        &["plan", "-input=false", "-lock=false", "-out=tfplan"],
                    )
                    .after(&["terraform-validate"]),
                );
                steps.push(
                    terraform(
                        "terraform-show",
                        &["-c", "terraform show -json tfplan > plan.json"],
                    )
                    .entrypoint("sh")
                    .after(&["terraform-plan"]),
                );
                steps.push(
                    Step::new(
                        "plan-summary",
                        "${_AUTOMLOPS_IMAGE}",
                        vec!["plan-summary".into(), "terraform/plan.json".into()],
                    )
                    .after(&["terraform-show", "check-compiled-output"]),
                );
            }
            _ => {}
        }
    }
    let build = CloudBuild {
        steps,
        images: Vec::new(),
        substitutions,
        options: BuildOptions {
            logging: "CLOUD_LOGGING_ONLY",
        },
    };
    super::yaml::to_yaml(&build)
}
