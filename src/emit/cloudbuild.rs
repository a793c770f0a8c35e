//! `cloudbuild.yaml`: builds and pushes the component image and the runner image, tagged with
//! the commit, pins the compiled pipeline to the component image of that commit, and (with
//! `run_local` false) runs `terraform plan` for review and deploys the runner. Written through
//! serde, so every value is quoted by a YAML serializer.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Settings;

#[derive(Serialize)]
struct CloudBuild {
    steps: Vec<Step>,
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

/// The Artifact Registry path of an image of this pipeline, without a tag.
pub(crate) fn image(settings: &Settings, name: &str) -> String {
    format!(
        "{}-docker.pkg.dev/{}/{}/{name}",
        settings.af_registry_location, settings.project_id, settings.af_registry_name
    )
}

/// The script that points the compiled pipeline's executors at the component image of this
/// build (`:$SHORT_SHA`), in the build's copy: Vertex AI caches steps by image name, so a
/// moving `:latest` could serve results of an older image.
const PIN_SCRIPT: &str = r#"import json, sys
path, latest, pinned = sys.argv[1:4]
with open(path) as f:
    job = json.load(f)
for executor in job["pipelineSpec"]["deploymentSpec"]["executors"].values():
    if executor["container"]["image"] == latest:
        executor["container"]["image"] = pinned
with open(path, "w") as f:
    json.dump(job, f, indent=2, sort_keys=True)
"#;

/// The Terraform CLI image of the plan step, pinned: the configuration needs Terraform 1.5 or
/// later.
const TERRAFORM: &str = "hashicorp/terraform:1.9.8";

pub(crate) fn cloudbuild(settings: &Settings) -> Result<String, serde_norway::Error> {
    let component = image(settings, "components/component_base");
    let runner = image(settings, "run_pipeline");
    let docker = "gcr.io/cloud-builders/docker";
    let mut steps = vec![
        Step {
            id: "build-component-base",
            name: docker,
            entrypoint: None,
            dir: None,
            args: vec![
                "build".into(),
                "--tag".into(),
                format!("{component}:$SHORT_SHA"),
                "--tag".into(),
                format!("{component}:latest"),
                "components/component_base".into(),
            ],
            wait_for: vec!["-"],
        },
        Step {
            id: "push-component-base",
            name: docker,
            entrypoint: None,
            dir: None,
            args: vec!["push".into(), "--all-tags".into(), component.clone()],
            wait_for: vec!["build-component-base"],
        },
        Step {
            id: "pin-component-image",
            name: "python:3.12-slim",
            entrypoint: Some("python3"),
            dir: None,
            args: vec![
                "-c".into(),
                PIN_SCRIPT.into(),
                settings.pipeline_job_spec_path.clone(),
                format!("{component}:latest"),
                format!("{component}:$SHORT_SHA"),
            ],
            wait_for: vec!["-"],
        },
        Step {
            id: "build-runner",
            name: docker,
            entrypoint: None,
            dir: None,
            args: vec![
                "build".into(),
                "--file".into(),
                "cloud_run/run_pipeline/Dockerfile".into(),
                "--tag".into(),
                format!("{runner}:$SHORT_SHA"),
                ".".into(),
            ],
            wait_for: vec!["pin-component-image"],
        },
        Step {
            id: "push-runner",
            name: docker,
            entrypoint: None,
            dir: None,
            args: vec!["push".into(), format!("{runner}:$SHORT_SHA")],
            wait_for: vec!["build-runner"],
        },
    ];
    let mut substitutions = BTreeMap::new();
    if !settings.run_local {
        // The plan is for review in the build log; it reads the state without locking it, so
        // it never blocks or races a `terraform apply`. A configuration that does not plan
        // stops the build before the runner is deployed.
        substitutions.insert("_TF_STATE_BUCKET", settings.tf_state_bucket());
        steps.push(Step {
            id: "terraform-init",
            name: TERRAFORM,
            entrypoint: None,
            dir: Some("terraform"),
            args: vec![
                "init".into(),
                "-input=false".into(),
                "-backend-config=bucket=${_TF_STATE_BUCKET}".into(),
            ],
            wait_for: vec!["-"],
        });
        steps.push(Step {
            id: "terraform-plan",
            name: TERRAFORM,
            entrypoint: None,
            dir: Some("terraform"),
            args: vec!["plan".into(), "-input=false".into(), "-lock=false".into()],
            wait_for: vec!["terraform-init"],
        });
        steps.push(Step {
            id: "deploy-runner",
            name: "gcr.io/google.com/cloudsdktool/cloud-sdk:slim",
            entrypoint: Some("gcloud"),
            dir: None,
            args: vec![
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
            wait_for: vec!["push-runner", "push-component-base", "terraform-plan"],
        });
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
