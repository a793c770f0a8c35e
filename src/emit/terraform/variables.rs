//! `variables.tf` and `terraform.tfvars`: the configuration's inputs and the values the
//! notebook's options give them.

use super::hcl::{Block, Expr, Item};
use super::{CLOUDBUILD_SA, PLACEHOLDER_IMAGE, Plan, SCHEDULER_SA, raw, top};
use crate::model::settings::SourceRepo;

/// A variable: name, type, description and an optional default.
pub(super) fn variable(name: &str, ty: &str, description: &str, default: Option<Expr>) -> Block {
    let block = Block::new("variable", &[name])
        .attr("description", Expr::str(description))
        .attr("type", raw(ty));
    match default {
        Some(default) => block.attr("default", default),
        None => block,
    }
}

pub(super) fn variables(plan: &Plan<'_>) -> Vec<Item> {
    let mut blocks = vec![
        variable("project_id", "string", "Google Cloud project ID.", None),
        variable(
            "region",
            "string",
            "Default region of the provider, and of Vertex AI pipeline runs.",
            Some(Expr::str("us-central1")),
        ),
        variable(
            "af_registry_location",
            "string",
            "Location of the Artifact Registry repository of the component images.",
            Some(Expr::str("us-central1")),
        ),
        variable(
            "af_registry_name",
            "string",
            "ID of the Artifact Registry repository of the component images.",
            Some(Expr::str("vertex-mlops-af")),
        ),
        variable(
            "gs_bucket_location",
            "string",
            "Location of the pipeline bucket.",
            Some(Expr::str("us-central1")),
        ),
        variable(
            "gs_bucket_name",
            "string",
            "Name of the pipeline bucket; pipeline runs write under gs://NAME/pipeline_root.",
            None,
        ),
        variable(
            "kms_key_name",
            "string",
            "Cloud KMS key for customer-managed encryption of the bucket and the repository; null for Google-managed keys.",
            Some(raw("null")),
        ),
    ];
    if plan.create_runner_sa {
        blocks.push(variable(
            "pipeline_runner_sa_id",
            "string",
            "Account ID of the service account pipelines run as.",
            Some(Expr::str("vertex-pipelines")),
        ));
    } else {
        blocks.push(variable("pipeline_runner_sa", "string", "Email of the service account pipelines run as (it belongs to another project and is not created here).", None));
    }
    if plan.has_runner() {
        blocks.extend([
            variable("cloud_run_name", "string", "Name of the Cloud Run service that submits PipelineJobs.", Some(Expr::str("run-pipeline"))),
            variable("cloud_run_location", "string", "Region of the Cloud Run service.", Some(Expr::str("us-central1"))),
            variable("runner_image", "string", "Image the runner service starts with; CI deploys the real one, and later changes here are ignored.", Some(Expr::str(PLACEHOLDER_IMAGE))),
            variable("runner_ingress", "string", "Network ingress of the runner: INGRESS_TRAFFIC_INTERNAL_ONLY admits Cloud Scheduler and other callers inside Google Cloud; INGRESS_TRAFFIC_ALL also admits callers outside (IAM still decides).", Some(Expr::str("INGRESS_TRAFFIC_INTERNAL_ONLY"))),
            variable("runner_invokers", "list(string)", "More IAM members allowed to call the runner, e.g. user:you@example.com.", Some(Expr::List(Vec::new()))),
        ]);
        if plan.cloud_build() {
            blocks.push(variable(
                "cloudbuild_sa_id",
                "string",
                "Account ID of the service account Cloud Build runs as.",
                Some(Expr::str(CLOUDBUILD_SA)),
            ));
        }
        blocks.push(variable("tf_state_bucket", "string", "Bucket of this configuration's Terraform state (scripts/create_resources.sh creates it); CI reads it to run terraform plan.", None));
    }
    if plan.planner {
        blocks.push(variable(
            "planner_sa_id",
            "string",
            "Account ID of the planner: CI reviews changes as it, reading only.",
            Some(Expr::str("automlops-planner")),
        ));
    }
    if plan.federated {
        if plan.settings.given_identity.is_some() {
            blocks.extend([
                variable(
                    "project_number",
                    "string",
                    "Number of the project of the existing Workload Identity pool.",
                    None,
                ),
                variable(
                    "workload_identity_pool_id",
                    "string",
                    "ID of the existing Workload Identity pool CI signs in through.",
                    None,
                ),
                variable(
                    "workload_identity_provider_id",
                    "string",
                    "ID of that pool's provider.",
                    None,
                ),
                variable(
                    "deployer_sa",
                    "string",
                    "Email of the existing account CI deploys as (not created here).",
                    None,
                ),
            ]);
        } else {
            if plan.gitlab {
                blocks.push(variable("gitlab_project", "string", "Path of the GitLab project (group/project) whose CI jobs may sign in; no other project's can.", None));
            } else {
                blocks.extend([
                    variable("github_owner", "string", "Owner of the GitHub repository whose CI jobs may sign in; no other repository's can.", None),
                    variable("github_repo", "string", "Name of that GitHub repository.", None),
                ]);
            }
            blocks.extend([
                variable("ci_branch", "string", "Branch whose CI jobs deploy as the deployer.", Some(Expr::str("automlops"))),
                variable("workload_identity_pool_id", "string", "ID of the Workload Identity pool created for CI (deleted pools keep their ID for 30 days).", Some(Expr::str("automlops-ci"))),
                variable("deployer_sa_id", "string", "Account ID of the deployer: CI builds, deploys and applies as it, on the deployment branch.", Some(Expr::str("automlops-deployer"))),
            ]);
            if !plan.gitlab {
                blocks.push(variable("ci_apply_environment", "string", "GitHub environment of the apply job: protect it with required reviewers, so nothing is applied before a person approves.", Some(Expr::str("automlops-apply"))));
            }
            if plan.gitlab {
                blocks.push(variable(
                    "gitlab_url",
                    "string",
                    "The GitLab instance, the issuer of its CI job tokens.",
                    Some(Expr::str("https://gitlab.com")),
                ));
            }
        }
    }
    if plan.trigger {
        blocks.extend([
            variable(
                "cb_trigger_name",
                "string",
                "Name of the Cloud Build trigger.",
                Some(Expr::str("automlops-trigger")),
            ),
            variable(
                "cb_trigger_location",
                "string",
                "Location of the Cloud Build trigger.",
                Some(Expr::str("us-central1")),
            ),
            variable(
                "csr_branch_name",
                "string",
                "Branch whose pushes trigger the build.",
                Some(Expr::str("automlops")),
            ),
        ]);
        if plan.github {
            blocks.extend([
                variable("github_connection", "string", "Cloud Build connection to GitHub (projects/P/locations/L/connections/NAME), created once in the console.", None),
                variable("github_owner", "string", "Owner of the GitHub repository.", None),
                variable("github_repo", "string", "Name of the GitHub repository.", None),
            ]);
        } else {
            blocks.push(variable(
                "csr_name",
                "string",
                "Name of the Cloud Source Repository.",
                Some(Expr::str("AutoMLOps-repo")),
            ));
        }
    }
    if plan.has_schedule() {
        blocks.extend([
            variable(
                "schedule",
                "string",
                "Cron schedule of pipeline runs (5 fields).",
                None,
            ),
            variable(
                "schedule_name",
                "string",
                "Name of the Cloud Scheduler job.",
                Some(Expr::str("AutoMLOps-schedule")),
            ),
            variable(
                "schedule_location",
                "string",
                "Region of the Cloud Scheduler job.",
                Some(Expr::str("us-central1")),
            ),
            variable(
                "schedule_time_zone",
                "string",
                "Time zone of the schedule.",
                Some(Expr::str("Etc/UTC")),
            ),
            variable(
                "scheduler_sa_id",
                "string",
                "Account ID of the service account Cloud Scheduler calls the runner as.",
                Some(Expr::str(SCHEDULER_SA)),
            ),
        ]);
    }
    top(blocks)
}

pub(super) fn tfvars(plan: &Plan<'_>) -> Vec<Item> {
    let s = plan.settings;
    let mut values: Vec<(&str, String)> = vec![
        ("project_id", s.project_id.clone()),
        ("region", s.pipeline_job_location.clone()),
        ("af_registry_location", s.af_registry_location.clone()),
        ("af_registry_name", s.af_registry_name.clone()),
        ("gs_bucket_location", s.gs_bucket_location.clone()),
        ("gs_bucket_name", s.gs_bucket_name.clone()),
    ];
    match s.runner_account_id() {
        Some(id) => values.push(("pipeline_runner_sa_id", id.to_owned())),
        None => values.push(("pipeline_runner_sa", s.pipeline_runner_sa.clone())),
    }
    if plan.has_runner() {
        if plan.cloud_build() {
            values.push(("cloudbuild_sa_id", s.cloudbuild_sa_id.clone()));
        }
        values.extend([
            ("tf_state_bucket", s.tf_state_bucket()),
            ("cloud_run_name", s.cloud_run_name.clone()),
            ("cloud_run_location", s.cloud_run_location.clone()),
        ]);
    }
    if plan.planner {
        values.push(("planner_sa_id", s.planner_sa_id.clone()));
    }
    if plan.federated {
        if let Some(given) = &s.given_identity {
            values.extend([
                ("project_number", given.project_number.clone()),
                ("workload_identity_pool_id", given.pool.clone()),
                ("workload_identity_provider_id", given.provider.clone()),
                ("deployer_sa", given.service_account.clone()),
            ]);
        } else {
            match &s.source_repo {
                SourceRepo::GitLab { project } => values.push(("gitlab_project", project.clone())),
                SourceRepo::GitHub { owner, name, .. } => {
                    values.extend([
                        ("github_owner", owner.clone()),
                        ("github_repo", name.clone()),
                    ]);
                }
                SourceRepo::CloudSourceRepositories => {}
            }
            values.extend([
                ("ci_branch", s.csr_branch_name.clone()),
                ("workload_identity_pool_id", s.ci_pool_id.clone()),
                ("deployer_sa_id", s.deployer_sa_id.clone()),
            ]);
        }
    }
    if plan.trigger {
        values.extend([
            ("cb_trigger_name", s.cb_trigger_name.clone()),
            ("cb_trigger_location", s.cb_trigger_location.clone()),
            ("csr_branch_name", s.csr_branch_name.clone()),
        ]);
        match &s.source_repo {
            SourceRepo::CloudSourceRepositories => values.push(("csr_name", s.csr_name.clone())),
            // GitLab is built by GitLab CI, never by a Cloud Build trigger.
            SourceRepo::GitLab { .. } => {}
            SourceRepo::GitHub {
                owner,
                name,
                connection,
            } => values.extend([
                ("github_connection", connection.clone()),
                ("github_owner", owner.clone()),
                ("github_repo", name.clone()),
            ]),
        }
    }
    if let Some(schedule) = &s.schedule {
        values.extend([
            ("schedule", schedule.clone()),
            ("schedule_name", s.schedule_name.clone()),
            ("schedule_location", s.schedule_location.clone()),
            ("scheduler_sa_id", s.scheduler_sa_id.clone()),
        ]);
    }
    values
        .into_iter()
        .map(|(name, value)| Item::Attribute(name.to_owned(), Expr::str(value)))
        .collect()
}
