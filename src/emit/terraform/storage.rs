//! Storage: the pipeline bucket, its access-log bucket, and the runner's grants on them (and on
//! the pipeline's own `pipeline_root` bucket).

use super::hcl::{Block, Expr, Part};
use super::{Plan, depends_on_services, member, raw, runner_email};

pub(super) fn storage(plan: &Plan<'_>) -> Vec<Block> {
    let bucket = Block::new("resource", &["google_storage_bucket", "pipeline"])
        .attr("project", raw("var.project_id"))
        .attr("name", raw("var.gs_bucket_name"))
        .attr("location", raw("var.gs_bucket_location"))
        .attr("uniform_bucket_level_access", Expr::Bool(true))
        .attr("public_access_prevention", Expr::str("enforced"))
        .attr("labels", raw("local.labels"))
        .block(Block::new("versioning", &[]).attr("enabled", Expr::Bool(true)))
        .block(
            Block::new("logging", &[])
                .attr("log_bucket", raw("google_storage_bucket.access_logs.name")),
        )
        .block(encryption_block())
        .blank()
        .attr("depends_on", depends_on_services());
    let logs = Block::new("resource", &["google_storage_bucket", "access_logs"])
        .comment("checkov:skip=CKV_GCP_62:This bucket receives the pipeline bucket's access logs; logging it to itself is not allowed (CKV_GCP_63).")
        .attr("project", raw("var.project_id"))
        .attr("name", Expr::template(vec![Part::Interpolation("var.gs_bucket_name".to_owned()), Part::Literal("-logs".to_owned())]))
        .attr("location", raw("var.gs_bucket_location"))
        .attr("uniform_bucket_level_access", Expr::Bool(true))
        .attr("public_access_prevention", Expr::str("enforced"))
        .attr("labels", raw("local.labels"))
        .block(Block::new("versioning", &[]).attr("enabled", Expr::Bool(true)))
        .block(encryption_block())
        .blank()
        .attr("depends_on", depends_on_services());
    let bucket_member = |name: &str, role: &str| {
        Block::new("resource", &["google_storage_bucket_iam_member", name])
            .attr("bucket", raw("google_storage_bucket.pipeline.name"))
            .attr("role", Expr::str(role))
            .attr("member", member(runner_email(plan)))
    };
    let mut blocks = vec![
        bucket,
        logs,
        bucket_member("runner_objects", "roles/storage.objectAdmin"),
        bucket_member("runner_bucket", "roles/storage.legacyBucketReader"),
    ];
    // A `pipeline_root` in a bucket of its own (which exists already): runs write there.
    if let Some(root_bucket) = plan.root_bucket() {
        let root_member = |name: &str, role: &str| {
            Block::new("resource", &["google_storage_bucket_iam_member", name])
                .attr("bucket", Expr::str(root_bucket))
                .attr("role", Expr::str(role))
                .attr("member", member(runner_email(plan)))
        };
        blocks.push(root_member(
            "runner_pipeline_root_objects",
            "roles/storage.objectAdmin",
        ));
        blocks.push(root_member(
            "runner_pipeline_root_bucket",
            "roles/storage.legacyBucketReader",
        ));
    }
    blocks
}

/// Where runs write: the pipeline's own `pipeline_root`, or `pipeline_root/` in the bucket.
pub(super) fn pipeline_root_expr(plan: &Plan<'_>) -> Expr {
    match plan.pipeline_root {
        Some(root) => Expr::str(root),
        None => Expr::template(vec![
            Part::Literal("gs://".to_owned()),
            Part::Interpolation("google_storage_bucket.pipeline.name".to_owned()),
            Part::Literal("/pipeline_root".to_owned()),
        ]),
    }
}

fn encryption_block() -> Block {
    Block::new("dynamic", &["encryption"])
        .attr(
            "for_each",
            raw("var.kms_key_name == null ? [] : [var.kms_key_name]"),
        )
        .block(Block::new("content", &[]).attr("default_kms_key_name", raw("encryption.value")))
}
