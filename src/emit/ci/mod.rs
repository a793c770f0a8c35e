//! The CI of GitHub Actions and GitLab CI: what each stage of the model (`model::ci`) runs, as
//! shell commands both frameworks share; each framework's file says how its jobs run them
//! (triggers, identities, caches, approvals). Cloud Build (`emit/cloudbuild.rs`) renders the
//! same stages as a container per step.
//!
//! The commands read `COMMIT_SHA` and `TF_STATE_BUCKET` from the environment the framework
//! sets; every value from the notebook is a single-quoted shell word.

pub(crate) mod github_actions;
pub(crate) mod gitlab_ci;

use crate::model::Settings;
use crate::model::ci::Stage;

use super::cloudbuild::PIN_SCRIPT;
use super::shell::quote;

/// The Terraform version CI plans and applies with (as Cloud Build's image).
pub(crate) const TERRAFORM_VERSION: &str = "1.9.8";

/// Marks the pull request comment the review updates on each push.
pub(crate) const COMMENT_MARKER: &str = "<!-- automlops-plan-summary -->";

/// What one compile's CI needs to know.
pub(crate) struct Context<'a> {
    pub(crate) settings: &'a Settings,
    /// The notebook's copy in the output, which CI recompiles.
    pub(crate) notebook_copy: &'a str,
    /// The options of the compile that wrote the output.
    pub(crate) recompile_args: &'a [String],
}

/// `cargo install` of exactly the automlops that wrote the output.
pub(crate) fn install_automlops() -> String {
    format!(
        "cargo install automlops --locked --version {}",
        env!("CARGO_PKG_VERSION")
    )
}

/// `image:COMMIT_SHA` as a shell word: the image quoted, the commit from the environment.
fn tagged(image: &str) -> String {
    format!("{}\"$COMMIT_SHA\"", quote(&format!("{image}:")))
}

/// The shell commands of a stage.
pub(crate) fn commands(stage: Stage, ctx: &Context<'_>) -> Vec<String> {
    let s = ctx.settings;
    let component = s.image("components/component_base");
    let runner = s.image("run_pipeline");
    let registry_host = format!("{}-docker.pkg.dev", s.af_registry_location);
    let init =
        "terraform -chdir=terraform init -input=false -backend-config=\"bucket=$TF_STATE_BUCKET\""
            .to_owned();
    match stage {
        Stage::CheckCompiled => {
            let mut command = format!(
                "automlops compile {} --output . --check",
                quote(ctx.notebook_copy)
            );
            for arg in ctx.recompile_args {
                command.push(' ');
                command.push_str(&quote(arg));
            }
            vec![command]
        }
        Stage::TerraformLint => vec![
            "terraform -chdir=terraform fmt -check -recursive".to_owned(),
            init,
            "terraform -chdir=terraform validate".to_owned(),
        ],
        Stage::TerraformPlan => vec![
            init,
            // Read-only: no lock, so a review never blocks or races an apply.
            "terraform -chdir=terraform plan -input=false -lock=false -out=tfplan".to_owned(),
            "terraform -chdir=terraform show -json tfplan > plan.json".to_owned(),
        ],
        Stage::BuildComponentImage => vec![
            format!(
                "gcloud auth configure-docker {} --quiet",
                quote(&registry_host)
            ),
            format!(
                "docker build --tag {} components/component_base",
                tagged(&component)
            ),
            format!("docker push {}", tagged(&component)),
        ],
        Stage::PinPipeline => vec![format!(
            "python3 -c {} {} {} {}",
            quote(PIN_SCRIPT),
            quote(&s.pipeline_job_spec_path),
            quote(&format!("{component}:latest")),
            tagged(&component)
        )],
        Stage::BuildRunnerImage => vec![
            format!(
                "docker build --file cloud_run/run_pipeline/Dockerfile --tag {} .",
                tagged(&runner)
            ),
            format!("docker push {}", tagged(&runner)),
        ],
        Stage::DeployRunner => vec![format!(
            "gcloud run deploy {} --image={} --region={} --project={} --service-account={} --no-allow-unauthenticated --quiet",
            quote(&s.cloud_run_name),
            tagged(&runner),
            quote(&s.cloud_run_location),
            quote(&s.project_id),
            quote(&s.pipeline_runner_sa),
        )],
        Stage::TerraformApply => vec![
            init,
            "terraform -chdir=terraform plan -input=false -out=tfplan".to_owned(),
            "terraform -chdir=terraform apply -input=false tfplan".to_owned(),
        ],
    }
}

/// Human names of the stages, for step and job names.
pub(crate) fn title(stage: Stage) -> &'static str {
    match stage {
        Stage::CheckCompiled => "Check the output is what the notebook compiles to",
        Stage::TerraformLint => "terraform fmt and validate",
        Stage::TerraformPlan => "terraform plan",
        Stage::BuildComponentImage => "Build and push the component image",
        Stage::PinPipeline => "Pin the pipeline to this commit's component image",
        Stage::BuildRunnerImage => "Build and push the runner image",
        Stage::DeployRunner => "Deploy the runner",
        Stage::TerraformApply => "terraform apply",
    }
}
