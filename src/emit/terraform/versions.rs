//! `versions.tf`: the Terraform and provider versions, the providers, and the state backend.

use super::hcl::{Block, Expr, Item};
use super::{Plan, raw, top};

pub(super) fn versions(plan: &Plan<'_>) -> Vec<Item> {
    let provider = |source: &str| {
        Expr::Object(vec![
            ("source".to_owned(), Expr::str(source)),
            ("version".to_owned(), Expr::str("~> 6.50")),
        ])
    };
    let terraform = Block::new("terraform", &[])
        .attr("required_version", Expr::str(">= 1.5.0"))
        .block(
            Block::new("required_providers", &[])
                .attr("google", provider("hashicorp/google"))
                .attr("google-beta", provider("hashicorp/google-beta")),
        )
        .blank()
        .comment(
            "The state bucket is given at init: terraform init -backend-config=\"bucket=BUCKET\"",
        )
        .comment("(scripts/create_resources.sh creates it and passes it).")
        .block(Block::new("backend", &["gcs"]).attr("prefix", Expr::str(state_prefix(plan))));
    let provider_block = |name: &str| {
        Block::new("provider", &[name])
            .attr("project", raw("var.project_id"))
            .attr("region", raw("var.region"))
    };
    top(vec![
        terraform,
        provider_block("google"),
        provider_block("google-beta"),
    ])
}

/// Where the state lives in the state bucket: one place per deployment, named by its pipeline
/// bucket (globally unique, and derived from `naming_prefix` when there is one) and its
/// pipeline. Two configurations with different resources never share state, even with the
/// same pipeline name; two with the same bucket would manage the same resources anyway.
fn state_prefix(plan: &Plan<'_>) -> String {
    format!(
        "automlops/{}/{}",
        plan.settings.gs_bucket_name, plan.pipeline
    )
}
