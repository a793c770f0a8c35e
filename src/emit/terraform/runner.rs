//! The Cloud Run service that submits `PipelineJobs`, and who may deploy it.

use super::hcl::{Block, Expr};
use super::storage::pipeline_root_expr;
use super::{Plan, depends_on_services, member, raw, runner_email};

pub(super) fn runner(plan: &Plan<'_>) -> Vec<Block> {
    let mut invokers = Vec::new();
    if plan.has_schedule() {
        invokers.push(member("google_service_account.scheduler.email"));
    }
    let invokers = if invokers.is_empty() {
        raw("var.runner_invokers")
    } else {
        Expr::Raw(format!(
            "concat([{}], var.runner_invokers)",
            invokers
                .iter()
                .map(Expr::inline)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let mut env = vec![
        ("PROJECT_ID".to_owned(), raw("var.project_id")),
        ("REGION".to_owned(), raw("var.region")),
        ("PIPELINE_ROOT".to_owned(), pipeline_root_expr(plan)),
        ("PIPELINE_RUNNER_SA".to_owned(), raw(runner_email(plan))),
    ];
    if let Some(experiment) = &plan.settings.experiment {
        env.push(("EXPERIMENT".to_owned(), Expr::str(experiment)));
    }
    let env = Expr::Object(env);
    let module = Block::new("module", &["runner"])
        .attr("source", Expr::str("./modules/cloud_run_runner"))
        .blank()
        .attr("project_id", raw("var.project_id"))
        .attr("name", raw("var.cloud_run_name"))
        .attr("location", raw("var.cloud_run_location"))
        .attr("service_account_email", raw(runner_email(plan)))
        .attr("image", raw("var.runner_image"))
        .attr("ingress", raw("var.runner_ingress"))
        .attr("invokers", invokers)
        .attr("labels", raw("local.labels"))
        .attr("env", env)
        .blank()
        .attr("depends_on", depends_on_services());
    let mut blocks = vec![module];
    if plan.planner {
        let viewer = Block::new(
            "resource",
            &[
                "google_cloud_run_v2_service_iam_member",
                "planner_views_runner",
            ],
        )
        .attr("project", raw("module.runner.project"))
        .attr("location", raw("module.runner.location"))
        .attr("name", raw("module.runner.name"))
        .attr("role", Expr::str("roles/run.viewer"))
        .attr("member", member(super::identity::PLANNER_EMAIL));
        blocks.push(viewer);
    }
    if !plan.cloud_build() {
        return blocks;
    }
    let deployer = Block::new(
        "resource",
        &[
            "google_cloud_run_v2_service_iam_member",
            "cloudbuild_deploys_runner",
        ],
    )
    .attr("project", raw("module.runner.project"))
    .attr("location", raw("module.runner.location"))
    .attr("name", raw("module.runner.name"))
    .attr("role", Expr::str("roles/run.developer"))
    .attr("member", member("google_service_account.cloudbuild.email"));
    blocks.push(deployer);
    blocks
}
