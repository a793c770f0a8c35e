//! Artifact Registry: the repository of the component images and who reads or writes it.

use super::hcl::{Block, Expr};
use super::{Plan, depends_on_services, member, raw};

pub(super) fn registry(plan: &Plan<'_>) -> Vec<Block> {
    let repository = Block::new(
        "resource",
        &["google_artifact_registry_repository", "components"],
    )
    .attr("project", raw("var.project_id"))
    .attr("location", raw("var.af_registry_location"))
    .attr("repository_id", raw("var.af_registry_name"))
    .attr(
        "description",
        Expr::str(format!("Component images of pipeline {}.", plan.pipeline)),
    )
    .attr("format", Expr::str("DOCKER"))
    .attr("kms_key_name", raw("var.kms_key_name"))
    .attr("labels", raw("local.labels"))
    .blank()
    .attr("depends_on", depends_on_services());
    // Vertex AI's service agent pulls the component images.
    let agent = Block::new(
        "resource",
        &["google_project_service_identity", "aiplatform"],
    )
    .attr("provider", raw("google-beta"))
    .attr("project", raw("var.project_id"))
    .attr("service", Expr::str("aiplatform.googleapis.com"))
    .blank()
    .attr("depends_on", depends_on_services());
    let agent_reader = repository_member(
        "vertex_agent_reader",
        "roles/artifactregistry.reader",
        "google_project_service_identity.aiplatform.email",
    );
    let mut blocks = vec![repository, agent, agent_reader];
    if plan.cloud_build() {
        blocks.push(repository_member(
            "cloudbuild_writer",
            "roles/artifactregistry.writer",
            "google_service_account.cloudbuild.email",
        ));
    }
    if plan.planner {
        blocks.push(repository_member(
            "planner_reader",
            "roles/artifactregistry.reader",
            super::identity::PLANNER_EMAIL,
        ));
    }
    blocks
}

fn repository_member(name: &str, role: &str, email: &str) -> Block {
    Block::new(
        "resource",
        &["google_artifact_registry_repository_iam_member", name],
    )
    .attr(
        "project",
        raw("google_artifact_registry_repository.components.project"),
    )
    .attr(
        "location",
        raw("google_artifact_registry_repository.components.location"),
    )
    .attr(
        "repository",
        raw("google_artifact_registry_repository.components.name"),
    )
    .attr("role", Expr::str(role))
    .attr("member", member(email))
}
