//! Service accounts and IAM: one account per workload, each with only the roles it uses.

use super::hcl::{Block, Expr, Part};
use super::{Plan, depends_on_services, member, raw, runner_email};

pub(super) fn service_account(name: &str, id_var: &str, display: &str, description: &str) -> Block {
    Block::new("resource", &["google_service_account", name])
        .attr("project", raw("var.project_id"))
        .attr("account_id", raw(id_var))
        .attr("display_name", Expr::str(display))
        .attr("description", Expr::str(description))
        .blank()
        .attr("depends_on", depends_on_services())
}

/// The project roles Cloud Build's `terraform plan` reads with, for what this configuration
/// contains: the narrowest viewer role of each kind of resource (not `roles/viewer`, which
/// reads every service of the project).
pub(super) fn plan_roles(plan: &Plan<'_>) -> Vec<&'static str> {
    let mut roles = vec![
        "roles/iam.securityReviewer",
        "roles/iam.serviceAccountViewer",
        "roles/serviceusage.serviceUsageViewer",
    ];
    if plan.trigger {
        roles.push("roles/cloudbuild.builds.viewer");
    }
    if plan.github && plan.trigger {
        roles.push("roles/cloudbuild.connectionViewer");
    }
    if plan.has_schedule() {
        roles.push("roles/cloudscheduler.viewer");
    }
    roles.sort_unstable();
    roles
}

pub(super) fn iam(plan: &Plan<'_>) -> Vec<Block> {
    let mut blocks = Vec::new();
    if plan.create_runner_sa {
        blocks.push(service_account(
            "pipeline_runner",
            "var.pipeline_runner_sa_id",
            "Pipeline runner",
            &format!("Runs the Vertex AI pipeline {}.", plan.pipeline),
        ));
    }
    blocks.push(
        Block::new(
            "resource",
            &["google_project_iam_member", "pipeline_runner"],
        )
        .attr("for_each", raw("toset(local.pipeline_runner_roles)"))
        .blank()
        .attr("project", raw("var.project_id"))
        .attr("role", raw("each.value"))
        .attr("member", member(runner_email(plan))),
    );
    // GCPC's launcher, running as the runner, starts each such job as its own account.
    for (component, account) in &plan.custom_job_accounts {
        blocks.push(
            Block::new(
                "resource",
                &[
                    "google_service_account_iam_member",
                    &format!("runner_acts_as_custom_job_{component}"),
                ],
            )
            .comment(&format!(
                "Component {component} runs as a Vertex AI CustomJob as this account."
            ))
            .attr(
                "service_account_id",
                Expr::str(format!("projects/-/serviceAccounts/{account}")),
            )
            .attr("role", Expr::str("roles/iam.serviceAccountUser"))
            .attr("member", member(runner_email(plan))),
        );
    }
    if plan.has_runner() {
        let runner_sa_id = if plan.create_runner_sa {
            raw("google_service_account.pipeline_runner.name")
        } else {
            Expr::template(vec![
                Part::Literal("projects/-/serviceAccounts/".to_owned()),
                Part::Interpolation("var.pipeline_runner_sa".to_owned()),
            ])
        };
        blocks.push(
            Block::new(
                "resource",
                &["google_service_account_iam_member", "runner_acts_as_itself"],
            )
            .comment("The runner service submits PipelineJobs that run as this same account.")
            .attr("service_account_id", runner_sa_id.clone())
            .attr("role", Expr::str("roles/iam.serviceAccountUser"))
            .attr("member", member(runner_email(plan))),
        );
    }
    if plan.cloud_build() {
        let runner_sa_id = if plan.create_runner_sa {
            raw("google_service_account.pipeline_runner.name")
        } else {
            Expr::template(vec![
                Part::Literal("projects/-/serviceAccounts/".to_owned()),
                Part::Interpolation("var.pipeline_runner_sa".to_owned()),
            ])
        };
        let acts_as = |name: &str, email: &str| {
            Block::new("resource", &["google_service_account_iam_member", name])
                .attr("service_account_id", runner_sa_id.clone())
                .attr("role", Expr::str("roles/iam.serviceAccountUser"))
                .attr("member", member(email))
        };
        blocks.push(service_account(
            "cloudbuild",
            "var.cloudbuild_sa_id",
            "Pipeline CI",
            &format!(
                "Builds and deploys pipeline {} from Cloud Build.",
                plan.pipeline
            ),
        ));
        blocks.push(
            Block::new(
                "resource",
                &["google_project_iam_member", "cloudbuild_logs"],
            )
            .attr("project", raw("var.project_id"))
            .attr("role", Expr::str("roles/logging.logWriter"))
            .attr("member", member("google_service_account.cloudbuild.email")),
        );
        blocks.push(
            Block::new(
                "resource",
                &["google_project_iam_member", "cloudbuild_plan"],
            )
            .attr("for_each", raw("toset(local.cloudbuild_plan_roles)"))
            .blank()
            .attr("project", raw("var.project_id"))
            .attr("role", raw("each.value"))
            .attr("member", member("google_service_account.cloudbuild.email")),
        );
        let plan_reads = |name: &str, comment: Option<&str>, bucket: Expr, role: &str| {
            let mut block = Block::new("resource", &["google_storage_bucket_iam_member", name]);
            if let Some(text) = comment {
                block = block.comment(text);
            }
            block
                .attr("bucket", bucket)
                .attr("role", Expr::str(role))
                .attr("member", member("google_service_account.cloudbuild.email"))
        };
        blocks.push(plan_reads(
            "cloudbuild_reads_state",
            Some("terraform plan in Cloud Build reads the state (with -lock=false: it never writes)."),
            raw("var.tf_state_bucket"),
            "roles/storage.objectViewer",
        ));
        blocks.push(plan_reads(
            "cloudbuild_reads_pipeline_bucket",
            None,
            raw("google_storage_bucket.pipeline.name"),
            "roles/storage.legacyBucketReader",
        ));
        blocks.push(plan_reads(
            "cloudbuild_reads_logs_bucket",
            None,
            raw("google_storage_bucket.access_logs.name"),
            "roles/storage.legacyBucketReader",
        ));
        blocks.push(
            acts_as(
                "cloudbuild_acts_as_runner",
                "google_service_account.cloudbuild.email",
            )
            .comment("Cloud Build deploys runner revisions that run as the runner account."),
        );
    }
    if plan.has_schedule() {
        blocks.push(service_account(
            "scheduler",
            "var.scheduler_sa_id",
            "Pipeline scheduler",
            &format!(
                "Calls the runner of pipeline {} on its schedule.",
                plan.pipeline
            ),
        ));
    }
    blocks
}
