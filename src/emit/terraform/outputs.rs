//! `outputs.tf`: names, URLs and consoles a user needs after `terraform apply`.

use super::hcl::{Block, Expr, Item, Part};
use super::storage::pipeline_root_expr;
use super::{Plan, raw, runner_email, top};

pub(super) fn outputs(plan: &Plan<'_>) -> Vec<Item> {
    let output = |name: &str, description: &str, value: Expr| {
        Block::new("output", &[name])
            .attr("description", Expr::str(description))
            .attr("value", value)
    };
    let console = |path: &str| {
        Expr::template(vec![
            Part::Literal(format!("https://console.cloud.google.com/{path}?project=")),
            Part::Interpolation("var.project_id".to_owned()),
        ])
    };
    let mut blocks = vec![
        output(
            "bucket",
            "Name of the pipeline bucket.",
            raw("google_storage_bucket.pipeline.name"),
        ),
        output(
            "pipeline_root",
            "Where pipeline runs write their outputs.",
            pipeline_root_expr(plan),
        ),
        output(
            "repository",
            "Docker repository of the component images.",
            Expr::template(vec![
                Part::Interpolation(
                    "google_artifact_registry_repository.components.location".to_owned(),
                ),
                Part::Literal("-docker.pkg.dev/".to_owned()),
                Part::Interpolation("var.project_id".to_owned()),
                Part::Literal("/".to_owned()),
                Part::Interpolation(
                    "google_artifact_registry_repository.components.repository_id".to_owned(),
                ),
            ]),
        ),
        output(
            "pipeline_runner_service_account",
            "Email of the service account pipelines run as.",
            raw(runner_email(plan)),
        ),
        output(
            "vertex_pipelines_console",
            "Vertex AI Pipelines runs in the console.",
            console("vertex-ai/pipelines/runs"),
        ),
    ];
    if plan.cloud_build() {
        blocks.push(output(
            "cloudbuild_service_account",
            "Email of the service account Cloud Build runs as.",
            raw("google_service_account.cloudbuild.email"),
        ));
    }
    if plan.federated {
        blocks.extend([
            output(
                "workload_identity_provider",
                "Workload Identity provider CI signs in through (the workflows' GCP_WORKLOAD_IDENTITY_PROVIDER).",
                super::identity::provider_name(plan),
            ),
            output(
                "planner_service_account",
                "Email of the account CI reviews (plans) as.",
                raw(super::identity::PLANNER_EMAIL),
            ),
            output(
                "deployer_service_account",
                "Email of the account CI deploys and applies as.",
                raw(super::identity::deployer_email(plan)),
            ),
        ]);
    }
    if plan.has_runner() {
        blocks.extend([
            output(
                "runner_url",
                "URL of the Cloud Run service that submits PipelineJobs.",
                raw("module.runner.uri"),
            ),
            output(
                "cloud_run_console",
                "The runner service in the console.",
                Expr::template(vec![
                    Part::Literal("https://console.cloud.google.com/run/detail/".to_owned()),
                    Part::Interpolation("var.cloud_run_location".to_owned()),
                    Part::Literal("/".to_owned()),
                    Part::Interpolation("var.cloud_run_name".to_owned()),
                    Part::Literal("?project=".to_owned()),
                    Part::Interpolation("var.project_id".to_owned()),
                ]),
            ),
            output(
                "cloud_build_console",
                "Cloud Build triggers in the console.",
                console("cloud-build/triggers"),
            ),
        ]);
    }
    if plan.has_schedule() {
        blocks.extend([
            output(
                "scheduler_service_account",
                "Email of the service account Cloud Scheduler calls the runner as.",
                raw("google_service_account.scheduler.email"),
            ),
            output(
                "cloud_scheduler_console",
                "Cloud Scheduler jobs in the console.",
                console("cloudscheduler"),
            ),
        ]);
    }
    top(blocks)
}
