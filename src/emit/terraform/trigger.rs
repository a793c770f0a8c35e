//! CI: the Cloud Build trigger, and the repository it watches (a Cloud Source Repository or
//! a GitHub repository through a Cloud Build connection).

use super::hcl::{Block, Expr, Part};
use super::{Plan, depends_on_services, member, raw};

pub(super) fn trigger(plan: &Plan<'_>) -> Vec<Block> {
    let branch = Expr::template(vec![
        Part::Literal("^".to_owned()),
        Part::Interpolation("var.csr_branch_name".to_owned()),
        Part::Literal("$".to_owned()),
    ]);
    let base = Block::new("resource", &["google_cloudbuild_trigger", "ci"])
        .attr("project", raw("var.project_id"))
        .attr("location", raw("var.cb_trigger_location"))
        .attr("name", raw("var.cb_trigger_name"))
        .attr(
            "description",
            Expr::str(format!(
                "Builds, checks and deploys pipeline {} on every push.",
                plan.pipeline
            )),
        )
        .attr("filename", Expr::str("cloudbuild.yaml"))
        .attr(
            "service_account",
            raw("google_service_account.cloudbuild.id"),
        )
        .attr(
            "substitutions",
            Expr::Object(vec![(
                "_TF_STATE_BUCKET".to_owned(),
                raw("var.tf_state_bucket"),
            )]),
        );
    if plan.github {
        let repository = Block::new("resource", &["google_cloudbuildv2_repository", "source"])
            .attr("project", raw("var.project_id"))
            .attr("location", raw("var.cb_trigger_location"))
            .attr("name", raw("var.github_repo"))
            .attr("parent_connection", raw("var.github_connection"))
            .attr(
                "remote_uri",
                Expr::template(vec![
                    Part::Literal("https://github.com/".to_owned()),
                    Part::Interpolation("var.github_owner".to_owned()),
                    Part::Literal("/".to_owned()),
                    Part::Interpolation("var.github_repo".to_owned()),
                    Part::Literal(".git".to_owned()),
                ]),
            )
            .blank()
            .attr("depends_on", depends_on_services());
        let review = Block::new("resource", &["google_cloudbuild_trigger", "review"])
            .attr("project", raw("var.project_id"))
            .attr("location", raw("var.cb_trigger_location"))
            .attr(
                "name",
                Expr::template(vec![
                    Part::Interpolation("var.cb_trigger_name".to_owned()),
                    Part::Literal("-review".to_owned()),
                ]),
            )
            .attr(
                "description",
                Expr::str(format!(
                    "Checks and plans pipeline {} on every pull request, read-only.",
                    plan.pipeline
                )),
            )
            .attr("filename", Expr::str("cloudbuild-review.yaml"))
            .attr("service_account", raw("google_service_account.planner.id"))
            .attr(
                "substitutions",
                Expr::Object(vec![(
                    "_TF_STATE_BUCKET".to_owned(),
                    raw("var.tf_state_bucket"),
                )]),
            )
            .block(
                Block::new("repository_event_config", &[])
                    .attr(
                        "repository",
                        raw("google_cloudbuildv2_repository.source.id"),
                    )
                    .block(
                        Block::new("pull_request", &[])
                            .attr("branch", branch.clone())
                            .comment("A collaborator's /gcbrun comment runs it for outside contributors.")
                            .attr(
                                "comment_control",
                                Expr::str("COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY"),
                            ),
                    ),
            );
        let trigger = base.block(
            Block::new("repository_event_config", &[])
                .attr(
                    "repository",
                    raw("google_cloudbuildv2_repository.source.id"),
                )
                .block(Block::new("push", &[]).attr("branch", branch)),
        );
        let mut blocks = vec![repository, trigger, review];
        blocks.extend(super::identity::planner(plan, "Cloud Build"));
        blocks
    } else {
        let repository = Block::new("resource", &["google_sourcerepo_repository", "source"])
            .attr("project", raw("var.project_id"))
            .attr("name", raw("var.csr_name"))
            .blank()
            .attr("depends_on", depends_on_services());
        let reader = Block::new(
            "resource",
            &[
                "google_sourcerepo_repository_iam_member",
                "cloudbuild_reader",
            ],
        )
        .attr(
            "project",
            raw("google_sourcerepo_repository.source.project"),
        )
        .attr(
            "repository",
            raw("google_sourcerepo_repository.source.name"),
        )
        .attr("role", Expr::str("roles/source.reader"))
        .attr("member", member("google_service_account.cloudbuild.email"));
        let trigger = base
            .block(
                Block::new("trigger_template", &[])
                    .attr("project_id", raw("var.project_id"))
                    .attr("repo_name", raw("google_sourcerepo_repository.source.name"))
                    .attr("branch_name", branch),
            )
            .blank()
            .attr(
                "depends_on",
                Expr::List(vec![raw(
                    "google_sourcerepo_repository_iam_member.cloudbuild_reader",
                )]),
            );
        vec![repository, reader, trigger]
    }
}
