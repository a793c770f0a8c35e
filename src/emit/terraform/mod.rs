//! The Terraform emitter: `terraform/`, a root module for everything the pipeline runs on,
//! plus the reusable modules of `terraform_modules/` (built into the binary). What is created
//! follows the options: APIs, Artifact Registry, the pipeline bucket, service accounts with
//! least-privilege IAM, and with `run_local` false the Cloud Run runner, the CI trigger and, on
//! a schedule, Cloud Scheduler.

mod hcl;
mod roles;

use std::collections::BTreeSet;

use hcl::{Block, Expr, Item, Part, file};

use crate::analyze::Analysis;
use crate::model::Settings;
use crate::model::settings::SourceRepo;

/// The reusable modules, emitted under `terraform/modules/`.
const MODULES: &[(&str, &str)] = &[
    (
        "modules/cloud_run_runner/main.tf",
        include_str!("../../../terraform_modules/cloud_run_runner/main.tf"),
    ),
    (
        "modules/cloud_run_runner/outputs.tf",
        include_str!("../../../terraform_modules/cloud_run_runner/outputs.tf"),
    ),
    (
        "modules/cloud_run_runner/variables.tf",
        include_str!("../../../terraform_modules/cloud_run_runner/variables.tf"),
    ),
    (
        "modules/cloud_run_runner/versions.tf",
        include_str!("../../../terraform_modules/cloud_run_runner/versions.tf"),
    ),
];

/// The image the runner service starts with, before CI deploys the real one: a public
/// placeholder, so `terraform apply` works before any image is built.
const PLACEHOLDER_IMAGE: &str = "us-docker.pkg.dev/cloudrun/container/hello";

/// Service account IDs created beside the runner's.
const SCHEDULER_SA: &str = "automlops-scheduler";
const CLOUDBUILD_SA: &str = "automlops-cloudbuild";

/// What the configuration contains, decided once from the settings.
struct Plan<'a> {
    settings: &'a Settings,
    pipeline: &'a str,
    /// The runner service account is created here (it belongs to this project).
    create_runner_sa: bool,
    /// The CI trigger watches a GitHub repository (else a Cloud Source Repository).
    github: bool,
    /// A CI trigger is created (not with GitHub but no connection to it).
    trigger: bool,
    runner_roles: Vec<&'static str>,
    services: BTreeSet<&'static str>,
    parameter_values_path: &'a str,
    /// The pipeline's own `pipeline_root`, when it gives one.
    pipeline_root: Option<&'a str>,
    /// Components run as Vertex AI `CustomJob`s as an account of their own, with that account.
    custom_job_accounts: Vec<(&'a str, &'a str)>,
}

impl Plan<'_> {
    /// With `run_local` false: the Cloud Run runner and the CI trigger.
    fn has_runner(&self) -> bool {
        !self.settings.run_local
    }

    fn has_schedule(&self) -> bool {
        self.settings.schedule.is_some()
    }

    /// The bucket of the pipeline's own `pipeline_root`, when it is not the pipeline bucket.
    fn root_bucket(&self) -> Option<&str> {
        let path = self.pipeline_root?.strip_prefix("gs://")?;
        let bucket = path.split('/').next().unwrap_or(path);
        (bucket != self.settings.gs_bucket_name).then_some(bucket)
    }
}

/// The files of `terraform/`, relative to it.
pub(crate) fn files(analysis: &Analysis, notebook: &str) -> Vec<(String, String)> {
    let settings = &analysis.settings;
    let runner = !settings.run_local;
    let github = runner && matches!(settings.source_repo, SourceRepo::GitHub { .. });
    let trigger = settings.has_ci_trigger();
    let derived = roles::for_imports(&analysis.components);
    let mut services: BTreeSet<&'static str> = [
        "aiplatform.googleapis.com",
        "artifactregistry.googleapis.com",
        "cloudbuild.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "iam.googleapis.com",
        "logging.googleapis.com",
        "storage.googleapis.com",
    ]
    .into_iter()
    .collect();
    services.extend(derived.services.iter().copied());
    if runner {
        services.insert("run.googleapis.com");
        if !github && trigger {
            services.insert("sourcerepo.googleapis.com");
        }
    }
    if settings.schedule.is_some() {
        services.insert("cloudscheduler.googleapis.com");
    }
    let mut runner_roles = vec!["roles/aiplatform.user", "roles/logging.logWriter"];
    runner_roles.extend(derived.roles.iter().copied());
    runner_roles.sort_unstable();
    runner_roles.dedup();
    let plan = Plan {
        settings,
        pipeline: &analysis.pipeline.name,
        create_runner_sa: settings.runner_account_id().is_some(),
        github,
        trigger,
        runner_roles,
        services,
        parameter_values_path: &settings.parameter_values_path,
        pipeline_root: analysis.pipeline.root.as_deref(),
        custom_job_accounts: analysis
            .components
            .iter()
            .filter_map(|c| {
                let job = c.custom_job.as_ref()?;
                let (_, account) = job.arguments.iter().find(|(k, _)| k == "service_account")?;
                let account = account.as_str().filter(|a| !a.is_empty())?;
                (account != settings.pipeline_runner_sa).then_some((c.name.as_str(), account))
            })
            .collect(),
    };
    let header = format!(
        "# Generated by automlops from {notebook}. Edit the notebook and recompile rather than this file.\n\n"
    );
    let mut out: Vec<(String, String)> = vec![
        (
            "versions.tf".to_owned(),
            header.clone() + &file(&versions(&plan)),
        ),
        (
            "variables.tf".to_owned(),
            header.clone() + &file(&variables(&plan)),
        ),
        ("main.tf".to_owned(), header.clone() + &file(&main(&plan))),
        (
            "outputs.tf".to_owned(),
            header.clone() + &file(&outputs(&plan)),
        ),
        (
            "terraform.tfvars".to_owned(),
            header + &file(&tfvars(&plan)),
        ),
    ];
    if plan.has_runner() {
        out.extend(
            MODULES
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned())),
        );
    }
    out
}

fn raw(text: &str) -> Expr {
    Expr::raw(text)
}

fn member(email_expr: &str) -> Expr {
    Expr::template(vec![
        Part::Literal("serviceAccount:".to_owned()),
        Part::Interpolation(email_expr.to_owned()),
    ])
}

fn depends_on_services() -> Expr {
    Expr::List(vec![raw("google_project_service.enabled")])
}

fn top(blocks: Vec<Block>) -> Vec<Item> {
    let mut items = Vec::new();
    for block in blocks {
        if !items.is_empty() {
            items.push(Item::Blank);
        }
        items.push(Item::Block(block));
    }
    items
}

fn versions(plan: &Plan<'_>) -> Vec<Item> {
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

/// A variable: name, type, description and an optional default.
fn variable(name: &str, ty: &str, description: &str, default: Option<Expr>) -> Block {
    let block = Block::new("variable", &[name])
        .attr("description", Expr::str(description))
        .attr("type", raw(ty));
    match default {
        Some(default) => block.attr("default", default),
        None => block,
    }
}

fn variables(plan: &Plan<'_>) -> Vec<Item> {
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
            variable("cloudbuild_sa_id", "string", "Account ID of the service account Cloud Build runs as.", Some(Expr::str(CLOUDBUILD_SA))),
            variable("tf_state_bucket", "string", "Bucket of this configuration's Terraform state (scripts/create_resources.sh creates it); Cloud Build reads it to run terraform plan.", None),
        ]);
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

/// The runner service account's email, as an expression.
fn runner_email(plan: &Plan<'_>) -> &'static str {
    if plan.create_runner_sa {
        "google_service_account.pipeline_runner.email"
    } else {
        "var.pipeline_runner_sa"
    }
}

fn main(plan: &Plan<'_>) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let section = |items: &mut Vec<Item>, title: &str, blocks: Vec<Block>| {
        if !items.is_empty() {
            items.push(Item::Blank);
        }
        items.push(Item::Comment(title.to_owned()));
        items.push(Item::Blank);
        items.extend(top(blocks));
    };

    let labels = Block::new("locals", &[])
        .attr(
            "labels",
            Expr::Object(vec![
                ("managed-by".to_owned(), Expr::str("automlops")),
                ("pipeline".to_owned(), Expr::str(plan.pipeline)),
            ]),
        )
        .blank()
        .attr(
            "services",
            Expr::List(plan.services.iter().map(|s| Expr::str(*s)).collect()),
        )
        .blank()
        .comment(
            "Roles of the service account pipelines run as, on the project: Vertex AI and logs,",
        )
        .comment(
            "plus what the components' imports need (BigQuery, Pub/Sub, ...). Storage access is",
        )
        .comment("granted on the pipeline bucket only.")
        .attr(
            "pipeline_runner_roles",
            Expr::List(plan.runner_roles.iter().map(|r| Expr::str(*r)).collect()),
        );
    let labels = if plan.has_runner() {
        labels
            .blank()
            .comment(
                "Read-only roles Cloud Build needs to run terraform plan: every IAM policy, the",
            )
            .comment(
                "service accounts, the APIs, and the resources it does not already reach through",
            )
            .comment("its grants below (the registry, the repository, the runner).")
            .attr(
                "cloudbuild_plan_roles",
                Expr::List(plan_roles(plan).into_iter().map(Expr::str).collect()),
            )
    } else {
        labels
    };
    let services = Block::new("resource", &["google_project_service", "enabled"])
        .attr("for_each", raw("toset(local.services)"))
        .blank()
        .attr("project", raw("var.project_id"))
        .attr("service", raw("each.value"))
        .attr("disable_on_destroy", Expr::Bool(false));
    section(
        &mut items,
        "Shared values and the APIs everything below needs",
        vec![labels, services],
    );

    section(
        &mut items,
        "Artifact Registry: the component images",
        registry(plan),
    );
    section(
        &mut items,
        "Storage: the pipeline bucket (pipeline root under gs://BUCKET/pipeline_root)",
        storage(plan),
    );
    section(
        &mut items,
        "Service accounts and IAM: one account per workload, each with only what it uses",
        iam(plan),
    );
    if plan.has_runner() {
        section(
            &mut items,
            "The Cloud Run service that submits PipelineJobs",
            runner(plan),
        );
        if plan.trigger {
            section(
                &mut items,
                "CI: Cloud Build runs cloudbuild.yaml on every push to the branch",
                trigger(plan),
            );
        }
    }
    if plan.has_schedule() {
        section(
            &mut items,
            "Cloud Scheduler calls the runner with an OIDC token and the runtime parameters",
            scheduler(plan),
        );
    }
    items
}

fn registry(plan: &Plan<'_>) -> Vec<Block> {
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
    if plan.has_runner() {
        blocks.push(repository_member(
            "cloudbuild_writer",
            "roles/artifactregistry.writer",
            "google_service_account.cloudbuild.email",
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

fn storage(plan: &Plan<'_>) -> Vec<Block> {
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
fn pipeline_root_expr(plan: &Plan<'_>) -> Expr {
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

fn service_account(name: &str, id_var: &str, display: &str, description: &str) -> Block {
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
fn plan_roles(plan: &Plan<'_>) -> Vec<&'static str> {
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

fn iam(plan: &Plan<'_>) -> Vec<Block> {
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
        let acts_as = |name: &str, email: &str| {
            Block::new("resource", &["google_service_account_iam_member", name])
                .attr("service_account_id", runner_sa_id.clone())
                .attr("role", Expr::str("roles/iam.serviceAccountUser"))
                .attr("member", member(email))
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

fn runner(plan: &Plan<'_>) -> Vec<Block> {
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
    vec![module, deployer]
}

fn trigger(plan: &Plan<'_>) -> Vec<Block> {
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
        let trigger = base.block(
            Block::new("repository_event_config", &[])
                .attr(
                    "repository",
                    raw("google_cloudbuildv2_repository.source.id"),
                )
                .block(Block::new("push", &[]).attr("branch", branch)),
        );
        vec![repository, trigger]
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

fn scheduler(plan: &Plan<'_>) -> Vec<Block> {
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

fn outputs(plan: &Plan<'_>) -> Vec<Item> {
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
    if plan.has_runner() {
        blocks.extend([
            output(
                "runner_url",
                "URL of the Cloud Run service that submits PipelineJobs.",
                raw("module.runner.uri"),
            ),
            output(
                "cloudbuild_service_account",
                "Email of the service account Cloud Build runs as.",
                raw("google_service_account.cloudbuild.email"),
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

fn tfvars(plan: &Plan<'_>) -> Vec<Item> {
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
        values.extend([
            ("cloudbuild_sa_id", s.cloudbuild_sa_id.clone()),
            ("tf_state_bucket", s.tf_state_bucket()),
            ("cloud_run_name", s.cloud_run_name.clone()),
            ("cloud_run_location", s.cloud_run_location.clone()),
        ]);
    }
    if plan.trigger {
        values.extend([
            ("cb_trigger_name", s.cb_trigger_name.clone()),
            ("cb_trigger_location", s.cb_trigger_location.clone()),
            ("csr_branch_name", s.csr_branch_name.clone()),
        ]);
        match &s.source_repo {
            SourceRepo::CloudSourceRepositories => values.push(("csr_name", s.csr_name.clone())),
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
