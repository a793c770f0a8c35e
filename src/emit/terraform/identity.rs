//! Identities of GitHub Actions and GitLab CI: a Workload Identity pool and provider that admit
//! only the pipeline's repository (no service account keys anywhere), a *planner* account that
//! can only read, for reviews, and a *deployer* account for the deployment branch, which builds,
//! deploys and (after an approval) applies. An existing pool and deploying account (AutoMLOps
//! 1.3's `workload_identity_*`) are used as they are.

use super::hcl::{Block, Expr, Part};
use super::{Plan, depends_on_services, member, raw};

/// The OIDC issuers of the two platforms' job tokens.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Project roles of the deployer: what `terraform apply` of this configuration creates and
/// changes, each kind with its own admin role (project IAM apart, below). Never `roles/owner`
/// or `roles/editor`.
pub(super) fn deployer_roles(plan: &Plan<'_>) -> Vec<&'static str> {
    let mut roles = vec![
        "roles/artifactregistry.admin",
        "roles/browser",
        "roles/run.admin",
        "roles/serviceusage.serviceUsageAdmin",
        "roles/storage.admin",
    ];
    if plan.settings.given_identity.is_none() {
        roles.push("roles/iam.workloadIdentityPoolAdmin");
    }
    if plan.has_schedule() {
        roles.push("roles/cloudscheduler.admin");
    }
    roles.sort_unstable();
    roles
}

/// Project roles of the planner: the read-only roles `terraform plan` needs.
pub(super) fn planner_roles(plan: &Plan<'_>) -> Vec<&'static str> {
    let mut roles = super::iam::plan_roles(plan);
    roles.push("roles/browser");
    if !plan.federated {
        // Cloud Build writes the build's log as the account it runs as.
        roles.push("roles/logging.logWriter");
    } else if plan.settings.given_identity.is_none() {
        roles.push("roles/iam.workloadIdentityPoolViewer");
    }
    roles.sort_unstable();
    roles
}

/// The repository CI admits, inside a template: `owner/name` on GitHub, `group/project` on
/// GitLab.
fn repository(gitlab: bool) -> Vec<Part> {
    if gitlab {
        vec![Part::Interpolation("var.gitlab_project".to_owned())]
    } else {
        vec![
            Part::Interpolation("var.github_owner".to_owned()),
            Part::Literal("/".to_owned()),
            Part::Interpolation("var.github_repo".to_owned()),
        ]
    }
}

/// GitHub's job subjects this pipeline's CI uses, and no others: reviews of pull requests, jobs
/// of the deployment branch, and the apply job of the approval environment.
fn github_subjects_condition() -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, tail) in [
        vec![Part::Literal(":pull_request".to_owned())],
        vec![
            Part::Literal(":ref:refs/heads/".to_owned()),
            Part::Interpolation("var.ci_branch".to_owned()),
        ],
        vec![
            Part::Literal(":environment:".to_owned()),
            Part::Interpolation("var.ci_apply_environment".to_owned()),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        parts.push(Part::Literal(
            if i == 0 {
                "assertion.sub == 'repo:"
            } else {
                "' || assertion.sub == 'repo:"
            }
            .to_owned(),
        ));
        parts.extend(repository(false));
        parts.extend(tail);
    }
    parts.push(Part::Literal("'".to_owned()));
    parts
}

/// The email of the account CI deploys as, as an expression.
pub(super) fn deployer_email(plan: &Plan<'_>) -> &'static str {
    if plan.settings.given_identity.is_some() {
        "var.deployer_sa"
    } else {
        "google_service_account.deployer.email"
    }
}

pub(super) const PLANNER_EMAIL: &str = "google_service_account.planner.email";

/// The pool's resource name (`projects/NUMBER/locations/global/workloadIdentityPools/ID`), as
/// the parts of a template.
fn pool_name(plan: &Plan<'_>) -> Vec<Part> {
    if plan.settings.given_identity.is_some() {
        vec![
            Part::Literal("projects/".to_owned()),
            Part::Interpolation("var.project_number".to_owned()),
            Part::Literal("/locations/global/workloadIdentityPools/".to_owned()),
            Part::Interpolation("var.workload_identity_pool_id".to_owned()),
        ]
    } else {
        vec![Part::Interpolation(
            "google_iam_workload_identity_pool.ci.name".to_owned(),
        )]
    }
}

/// The provider's resource name, which the workflows authenticate with.
pub(super) fn provider_name(plan: &Plan<'_>) -> Expr {
    if plan.settings.given_identity.is_some() {
        let mut parts = pool_name(plan);
        parts.push(Part::Literal("/providers/".to_owned()));
        parts.push(Part::Interpolation(
            "var.workload_identity_provider_id".to_owned(),
        ));
        Expr::template(parts)
    } else {
        raw("google_iam_workload_identity_pool_provider.ci.name")
    }
}

/// The identities of the pool that `tail` (`/attribute.NAME/VALUE`, `/*`) names.
fn principal_set(plan: &Plan<'_>, tail: Vec<Part>) -> Expr {
    let mut parts = vec![Part::Literal(
        "principalSet://iam.googleapis.com/".to_owned(),
    )];
    parts.extend(pool_name(plan));
    parts.extend(tail);
    Expr::template(parts)
}

fn workload_identity_user(name: &str, account: &str, principals: Expr) -> Block {
    Block::new("resource", &["google_service_account_iam_member", name])
        .attr("service_account_id", raw(account))
        .attr("role", Expr::str("roles/iam.workloadIdentityUser"))
        .attr("member", principals)
}

pub(super) fn blocks(plan: &Plan<'_>) -> Vec<Block> {
    let gitlab = plan.gitlab;
    let platform = if gitlab {
        "GitLab CI"
    } else {
        "GitHub Actions"
    };
    let mut blocks = vec![
        Block::new("data", &["google_project", "this"])
            .comment("The project's number names the pool; Terraform reads it, so nobody types it.")
            .attr("project_id", raw("var.project_id")),
    ];
    if plan.settings.given_identity.is_none() {
        blocks.push(
            Block::new("resource", &["google_iam_workload_identity_pool", "ci"])
                .attr("project", raw("var.project_id"))
                .attr(
                    "workload_identity_pool_id",
                    raw("var.workload_identity_pool_id"),
                )
                .attr("display_name", Expr::str(format!("{platform} CI")))
                .attr(
                    "description",
                    Expr::str(format!(
                        "{platform} jobs of pipeline {}, keyless.",
                        plan.pipeline
                    )),
                )
                .blank()
                .attr("depends_on", depends_on_services()),
        );
        let (mapping, condition, issuer): (Vec<(&str, &str)>, Vec<Part>, Expr) = if gitlab {
            (
                vec![
                    ("google.subject", "assertion.sub"),
                    ("attribute.project_path", "assertion.project_path"),
                    ("attribute.ref", "assertion.ref"),
                    // Only protected branches deploy: an unprotected one maps to "unprotected".
                    (
                        "attribute.protected_branch",
                        "assertion.ref_type == 'branch' && assertion.ref_protected == 'true' ? assertion.ref : 'unprotected'",
                    ),
                ],
                vec![
                    Part::Literal("assertion.project_path == '".to_owned()),
                    Part::Interpolation("var.gitlab_project".to_owned()),
                    Part::Literal("'".to_owned()),
                ],
                raw("var.gitlab_url"),
            )
        } else {
            (
                vec![
                    ("google.subject", "assertion.sub"),
                    ("attribute.repository", "assertion.repository"),
                    ("attribute.ref", "assertion.ref"),
                ],
                github_subjects_condition(),
                Expr::str(GITHUB_ISSUER),
            )
        };
        blocks.push(
            Block::new(
                "resource",
                &["google_iam_workload_identity_pool_provider", "ci"],
            )
            .attr("project", raw("var.project_id"))
            .attr(
                "workload_identity_pool_id",
                raw("google_iam_workload_identity_pool.ci.workload_identity_pool_id"),
            )
            .attr(
                "workload_identity_pool_provider_id",
                Expr::str(if gitlab { "gitlab" } else { "github" }),
            )
            .attr("display_name", Expr::str(platform))
            .comment("Only jobs of this one repository get in.")
            .attr("attribute_condition", Expr::template(condition))
            .attr(
                "attribute_mapping",
                Expr::Object(
                    mapping
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Expr::str(v)))
                        .collect(),
                ),
            )
            .block(Block::new("oidc", &[]).attr("issuer_uri", issuer)),
        );
    }
    let repository_attribute = if gitlab { "project_path" } else { "repository" };
    let planner_principals = if plan.settings.given_identity.is_some() {
        // The given pool's own provider decides which jobs get in.
        principal_set(plan, vec![Part::Literal("/*".to_owned())])
    } else {
        principal_set(
            plan,
            [Part::Literal(format!("/attribute.{repository_attribute}/"))]
                .into_iter()
                .chain(repository(gitlab))
                .collect(),
        )
    };
    blocks.push(
        workload_identity_user(
            "planner_federated",
            "google_service_account.planner.name",
            planner_principals,
        )
        .comment("Every job of the repository may plan, pull and merge requests included."),
    );
    if plan.settings.given_identity.is_none() {
        blocks.push(service_account(plan, platform));
        if gitlab {
            blocks.push(
                workload_identity_user(
                    "deployer_federated",
                    "google_service_account.deployer.name",
                    principal_set(
                        plan,
                        vec![
                            Part::Literal("/attribute.protected_branch/".to_owned()),
                            Part::Interpolation("var.ci_branch".to_owned()),
                        ],
                    ),
                )
                .comment("Only jobs of the deployment branch, protected, deploy."),
            );
        } else {
            let subject = |tail: Vec<Part>| {
                let mut parts = vec![Part::Literal("repo:".to_owned())];
                parts.extend(repository(false));
                parts.extend(tail);
                Expr::template(parts)
            };
            blocks.push(
                Block::new("resource", &["google_service_account_iam_member", "deployer_federated"])
                    .comment("Only jobs of the deployment branch, and the approved apply job of its environment, deploy.")
                    .attr(
                        "for_each",
                        Expr::Raw(format!(
                            "toset([{}, {}])",
                            subject(vec![
                                Part::Literal(":ref:refs/heads/".to_owned()),
                                Part::Interpolation("var.ci_branch".to_owned()),
                            ])
                            .inline(),
                            subject(vec![
                                Part::Literal(":environment:".to_owned()),
                                Part::Interpolation("var.ci_apply_environment".to_owned()),
                            ])
                            .inline()
                        )),
                    )
                    .blank()
                    .attr("service_account_id", raw("google_service_account.deployer.name"))
                    .attr("role", Expr::str("roles/iam.workloadIdentityUser"))
                    .attr("member", {
                        let mut parts = vec![Part::Literal("principal://iam.googleapis.com/".to_owned())];
                        parts.extend(pool_name(plan));
                        parts.push(Part::Literal("/subject/".to_owned()));
                        parts.push(Part::Interpolation("each.value".to_owned()));
                        Expr::template(parts)
                    }),
            );
        }
    }
    blocks.extend(planner(plan, platform));
    blocks.push(
        Block::new("resource", &["google_project_iam_member", "deployer"])
            .comment("checkov:skip=CKV_GCP_42:The deployer applies this configuration, which creates these resources: each kind's admin role is the narrowest that can. It signs in only from the deployment branch.")
            .attr("for_each", raw("toset(local.deployer_roles)"))
            .blank()
            .attr("project", raw("var.project_id"))
            .attr("role", raw("each.value"))
            .attr("member", member(deployer_email(plan))),
    );
    blocks.push(
        Block::new("resource", &["google_project_iam_member", "deployer_accounts"])
            .comment("checkov:skip=CKV_GCP_49:The deployer creates the pipeline's service accounts; roles/iam.serviceAccountAdmin is the narrowest role that can.")
            .comment("checkov:skip=CKV_GCP_42:As above; it signs in only from the deployment branch.")
            .attr("project", raw("var.project_id"))
            .attr("role", Expr::str("roles/iam.serviceAccountAdmin"))
            .attr("member", member(deployer_email(plan))),
    );
    blocks.push(
        Block::new("resource", &["google_project_iam_member", "deployer_grants"])
            .comment("The deployer changes project IAM only to grant or revoke the roles this configuration")
            .comment("names: an IAM condition on the roles it modifies, so it cannot make itself owner.")
            .comment("checkov:skip=CKV_GCP_42:Applying this configuration grants roles; the condition bounds which.")
            .attr("project", raw("var.project_id"))
            .attr("role", Expr::str("roles/resourcemanager.projectIamAdmin"))
            .attr("member", member(deployer_email(plan)))
            .block(
                Block::new("condition", &[])
                    .attr("title", Expr::str("only-this-configuration-roles"))
                    .attr("description", Expr::str("Grants and revocations of the roles this configuration grants, and no others."))
                    .attr(
                        "expression",
                        Expr::template(vec![
                            Part::Literal("api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(".to_owned()),
                            Part::Interpolation("jsonencode(local.granted_project_roles)".to_owned()),
                            Part::Literal(")".to_owned()),
                        ]),
                    ),
            ),
    );
    blocks
}

/// The planner: its account, its read-only project roles, and the state and buckets it reads.
pub(super) fn planner(plan: &Plan<'_>, platform: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    blocks.push(super::iam::service_account(
        "planner",
        "var.planner_sa_id",
        "Pipeline CI planner",
        &format!(
            "Reviews changes to pipeline {} from {platform}: reads, never writes.",
            plan.pipeline
        ),
    ));
    blocks.push(
        Block::new("resource", &["google_project_iam_member", "planner"])
            .attr("for_each", raw("toset(local.planner_roles)"))
            .blank()
            .attr("project", raw("var.project_id"))
            .attr("role", raw("each.value"))
            .attr("member", member(PLANNER_EMAIL)),
    );
    let reads = |name: &str, bucket: Expr, role: &str| {
        Block::new("resource", &["google_storage_bucket_iam_member", name])
            .attr("bucket", bucket)
            .attr("role", Expr::str(role))
            .attr("member", member(PLANNER_EMAIL))
    };
    blocks.push(
        reads(
            "planner_reads_state",
            raw("var.tf_state_bucket"),
            "roles/storage.objectViewer",
        )
        .comment("terraform plan reads the state (with -lock=false: it never writes)."),
    );
    blocks.push(reads(
        "planner_reads_pipeline_bucket",
        raw("google_storage_bucket.pipeline.name"),
        "roles/storage.legacyBucketReader",
    ));
    blocks.push(reads(
        "planner_reads_logs_bucket",
        raw("google_storage_bucket.access_logs.name"),
        "roles/storage.legacyBucketReader",
    ));
    blocks
}

fn service_account(plan: &Plan<'_>, platform: &str) -> Block {
    super::iam::service_account(
        "deployer",
        "var.deployer_sa_id",
        "Pipeline CI deployer",
        &format!(
            "Builds, deploys and applies pipeline {} from {platform}, on the deployment branch.",
            plan.pipeline
        ),
    )
}
