//! Cloud Scheduler: the job that calls the runner on the schedule.

use super::hcl::{self, Block, Expr};
use super::{Plan, raw};

pub(super) fn scheduler(plan: &Plan<'_>) -> Vec<Block> {
    let job = Block::new("resource", &["google_cloud_scheduler_job", "pipeline"])
        .attr("project", raw("var.project_id"))
        .attr("region", raw("var.schedule_location"))
        .attr("name", raw("var.schedule_name"))
        .attr("description", Expr::str(format!("Runs pipeline {} on its schedule.", plan.pipeline)))
        .attr("schedule", raw("var.schedule"))
        .attr("time_zone", raw("var.schedule_time_zone"))
        .attr("attempt_deadline", Expr::str("320s"))
        .block(Block::new("retry_config", &[]).attr("retry_count", Expr::Number(1)))
        .block(
            Block::new("http_target", &[])
                .attr("http_method", Expr::str("POST"))
                .attr("uri", raw("module.runner.uri"))
                .comment("The body is the compiled runtime parameter values; the runner merges them over the defaults.")
                .attr(
                    "body",
                    Expr::Raw(format!(
                        "base64encode(file(\"${{path.module}}/../{}\"))",
                        hcl::escape(plan.parameter_values_path)
                    )),
                )
                .attr("headers", Expr::Object(vec![("Content-Type".to_owned(), Expr::str("application/json"))]))
                .block(
                    Block::new("oidc_token", &[])
                        .attr("service_account_email", raw("google_service_account.scheduler.email"))
                        .attr("audience", raw("module.runner.uri")),
                ),
        )
        .blank()
        .attr("depends_on", Expr::List(vec![raw("module.runner"), raw("google_project_service.enabled")]));
    vec![job]
}
