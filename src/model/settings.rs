//! The options of `AutoMLOps.go(...)`/`generate(...)`, their defaults, and the resolved
//! [`Settings`] every emitter reads.
//!
//! [`OPTIONS`] is the single list of options: analysis reads notebook calls with it, the CLI
//! builds its flags from it, and `configs/defaults.yaml` lists what it resolves to.

use super::ci::{Framework, GivenIdentity};

/// How an option's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptionKind {
    Str,
    Bool,
    /// `pipeline_params`: a dict in the notebook, a JSON file on the command line.
    Params,
}

#[derive(Debug)]
pub(crate) struct OptionSpec {
    /// The keyword in the notebook (`af_registry_name`); the flag is its kebab case.
    pub(crate) name: &'static str,
    pub(crate) kind: OptionKind,
    /// The default as `AutoMLOps` 1.0 documents it, or how it is derived.
    pub(crate) default: &'static str,
    pub(crate) help: &'static str,
    /// Another name `AutoMLOps` 1.0 accepted for the same option.
    pub(crate) alias: Option<&'static str>,
}

const fn option(
    name: &'static str,
    kind: OptionKind,
    default: &'static str,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        default,
        help,
        alias: None,
    }
}

pub(crate) const OPTIONS: &[OptionSpec] = &[
    option(
        "project_id",
        OptionKind::Str,
        "",
        "Google Cloud project ID (required)",
    ),
    option(
        "pipeline_params",
        OptionKind::Params,
        "",
        "Runtime values of the pipeline parameters (a dict in the notebook, a JSON file as a flag)",
    ),
    option(
        "af_registry_location",
        OptionKind::Str,
        "us-central1",
        "Artifact Registry location",
    ),
    option(
        "af_registry_name",
        OptionKind::Str,
        "vertex-mlops-af",
        "Artifact Registry repository name",
    ),
    option(
        "cb_trigger_location",
        OptionKind::Str,
        "us-central1",
        "Cloud Build trigger location",
    ),
    option(
        "cb_trigger_name",
        OptionKind::Str,
        "automlops-trigger",
        "Cloud Build trigger name",
    ),
    option(
        "cloud_run_location",
        OptionKind::Str,
        "us-central1",
        "Cloud Run location of the pipeline runner",
    ),
    option(
        "cloud_run_name",
        OptionKind::Str,
        "run-pipeline",
        "Cloud Run service name of the pipeline runner",
    ),
    option(
        "csr_branch_name",
        OptionKind::Str,
        "automlops",
        "Source repository branch that triggers builds",
    ),
    option(
        "csr_name",
        OptionKind::Str,
        "AutoMLOps-repo",
        "Cloud Source Repository name",
    ),
    option(
        "gs_bucket_location",
        OptionKind::Str,
        "us-central1",
        "Location of the pipeline bucket and of pipeline runs",
    ),
    option(
        "gs_bucket_name",
        OptionKind::Str,
        "<project_id>-bucket",
        "Pipeline bucket name",
    ),
    option(
        "parameter_values_path",
        OptionKind::Str,
        "pipelines/runtime_parameters/pipeline_parameter_values.json",
        "Where the runtime parameter values are written, relative to the output directory",
    ),
    option(
        "pipeline_job_spec_path",
        OptionKind::Str,
        "scripts/pipeline_spec/pipeline_job.json",
        "Where the compiled PipelineJob is written, relative to the output directory",
    ),
    option(
        "pipeline_runner_sa",
        OptionKind::Str,
        "vertex-pipelines@<project_id>.iam.gserviceaccount.com",
        "Service account that runs the pipeline",
    ),
    option(
        "run_local",
        OptionKind::Bool,
        "true",
        "Build and run from this machine (true) or through Cloud Build CI (false)",
    ),
    OptionSpec {
        alias: Some("schedule_pattern"),
        ..option(
            "schedule",
            OptionKind::Str,
            "No Schedule Specified",
            "Cron schedule of recurring runs (needs run_local false)",
        )
    },
    option(
        "schedule_location",
        OptionKind::Str,
        "us-central1",
        "Cloud Scheduler location",
    ),
    option(
        "schedule_name",
        OptionKind::Str,
        "AutoMLOps-schedule",
        "Cloud Scheduler job name",
    ),
    option(
        "use_kfp_spec",
        OptionKind::Bool,
        "detected: false when the notebook calls makePipeline, else true",
        "Compile the Kubeflow definitions (true) or the makeComponent/makePipeline ones (false)",
    ),
    // Not in AutoMLOps 1.0: Cloud Source Repositories is closed to new customers since
    // 2024-06-17, so the CI trigger can watch a GitHub repository instead.
    option(
        "source_repo_type",
        OptionKind::Str,
        "",
        "Where the code lives: cloud-source-repositories, github or gitlab [default: cloud-source-repositories, or what deployment_framework builds from]",
    ),
    option(
        "github_repo",
        OptionKind::Str,
        "",
        "With source_repo_type github: the repository, as owner/name",
    ),
    option(
        "naming_prefix",
        OptionKind::Str,
        "",
        "Prefix of the names of everything created, so several pipelines can share a project (AutoMLOps 1.2+)",
    ),
    option(
        "base_image",
        OptionKind::Str,
        "python:3.12-slim",
        "Base image of the component image (default: the components' base_image, else this)",
    ),
    option(
        "pipeline_job_location",
        OptionKind::Str,
        "<gs_bucket_location>",
        "Region of Vertex AI pipeline runs",
    ),
    option(
        "experiment",
        OptionKind::Str,
        "",
        "Vertex AI Experiment every run is submitted into (AutoMLOps 1.2+: `vertex_experiment_tracking_name` in pipeline_params)",
    ),
    option(
        "github_connection",
        OptionKind::Str,
        "",
        "With source_repo_type github: the Cloud Build connection to GitHub, as projects/P/locations/L/connections/NAME",
    ),
    option(
        "deployment_framework",
        OptionKind::Str,
        "cloud-build",
        "What runs CI (with use_ci): cloud-build, github-actions or gitlab-ci (AutoMLOps 1.2+)",
    ),
    option(
        "project_number",
        OptionKind::Str,
        "",
        "With an existing Workload Identity pool: the project's number (AutoMLOps 1.3); else Terraform reads it",
    ),
    option(
        "workload_identity_pool",
        OptionKind::Str,
        "",
        "ID of an existing Workload Identity pool GitHub Actions or GitLab CI authenticates through (AutoMLOps 1.3); else one is created",
    ),
    option(
        "workload_identity_provider",
        OptionKind::Str,
        "",
        "ID of the provider of that pool (AutoMLOps 1.3)",
    ),
    option(
        "workload_identity_service_account",
        OptionKind::Str,
        "",
        "Email of the existing account CI deploys as, through that pool (AutoMLOps 1.3)",
    ),
];

/// Options of `AutoMLOps` that automlops does not implement, with the values that mean "not
/// used" or that automlops's own output already stands for (`AutoMLOps`'s example notebooks
/// pass them explicitly, 1.2 and later every one): those are accepted silently, any other value
/// gets a warning. `"*"` accepts any value; `None` and `False` count as not used.
///
/// The provisioning and submission frameworks of 1.2+ (gcloud or Terraform; Cloud Functions or
/// Cloud Run behind Pub/Sub) are all one thing here: Terraform, and a Cloud Run runner.
pub(crate) const UNSUPPORTED_OPTIONS: &[(&str, &[&str])] = &[
    ("artifact_repo_type", &["artifact-registry"]),
    ("cloud_tasks_queue_location", &["us-central1"]),
    ("cloud_tasks_queue_name", &["queueing-svc"]),
    ("hide_warnings", &["*"]),
    ("precheck", &["*"]),
    ("orchestration_framework", &["kfp"]),
    (
        "pipeline_job_submission_service_type",
        &["cloud-run", "cloud-functions"],
    ),
    ("provision_credentials_key", &[]),
    ("provisioning_framework", &["terraform", "gcloud"]),
    ("pubsub_topic_name", &[]),
    ("setup_model_monitoring", &[]),
    ("vpc_connector", &["No VPC Specified"]),
];

/// Option names of AutoMLOps 1.2 and later, and the option of 1.0 each one is
/// (`use_ci` is `run_local` inverted, read apart).
pub(crate) const RENAMED: &[(&str, &str)] = &[
    ("artifact_repo_location", "af_registry_location"),
    ("artifact_repo_name", "af_registry_name"),
    ("build_trigger_location", "cb_trigger_location"),
    ("build_trigger_name", "cb_trigger_name"),
    ("pipeline_job_runner_service_account", "pipeline_runner_sa"),
    (
        "pipeline_job_submission_service_location",
        "cloud_run_location",
    ),
    ("pipeline_job_submission_service_name", "cloud_run_name"),
    ("source_repo_branch", "csr_branch_name"),
    ("source_repo_name", "csr_name"),
    ("storage_bucket_location", "gs_bucket_location"),
    ("storage_bucket_name", "gs_bucket_name"),
];

/// The schedule value that means "no schedule", as `AutoMLOps` 1.0 spelled it.
pub(crate) const NO_SCHEDULE: &str = "No Schedule Specified";

/// Looks an option up by its name or its alias.
pub(crate) fn option_spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|spec| spec.name == name || spec.alias == Some(name))
}

/// Every option, resolved: notebook call, then flags, then defaults.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Settings {
    pub(crate) project_id: String,
    pub(crate) af_registry_location: String,
    pub(crate) af_registry_name: String,
    pub(crate) cb_trigger_location: String,
    pub(crate) cb_trigger_name: String,
    pub(crate) cloud_run_location: String,
    pub(crate) cloud_run_name: String,
    pub(crate) csr_branch_name: String,
    pub(crate) csr_name: String,
    pub(crate) gs_bucket_location: String,
    pub(crate) gs_bucket_name: String,
    pub(crate) parameter_values_path: String,
    pub(crate) pipeline_job_spec_path: String,
    pub(crate) pipeline_runner_sa: String,
    pub(crate) run_local: bool,
    pub(crate) schedule: Option<String>,
    pub(crate) schedule_location: String,
    pub(crate) schedule_name: String,
    pub(crate) use_kfp_spec: bool,
    pub(crate) source_repo: SourceRepo,
    pub(crate) naming_prefix: Option<String>,
    /// Set by the option; else the components' own `base_image` decides.
    pub(crate) base_image: Option<String>,
    pub(crate) pipeline_job_location: String,
    /// The Vertex AI Experiment runs are submitted into.
    pub(crate) experiment: Option<String>,
    /// Service accounts created beside the runner's.
    pub(crate) scheduler_sa_id: String,
    pub(crate) cloudbuild_sa_id: String,
    /// What runs the CI (with `run_local` false).
    pub(crate) deployment_framework: Framework,
    /// An existing Workload Identity pool the CI authenticates through (GitHub Actions and
    /// GitLab CI); without one, the Terraform creates it.
    pub(crate) given_identity: Option<GivenIdentity>,
    /// Accounts of GitHub Actions and GitLab CI: the planner reads (reviews), the deployer
    /// builds, deploys and applies.
    pub(crate) planner_sa_id: String,
    pub(crate) deployer_sa_id: String,
    /// The Workload Identity pool created for GitHub Actions or GitLab CI.
    pub(crate) ci_pool_id: String,
}

/// The repository whose pushes trigger CI (`run_local` false).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SourceRepo {
    /// A Cloud Source Repository named `csr_name`, created by the Terraform.
    CloudSourceRepositories,
    /// A GitHub repository reached through an existing Cloud Build connection; with an empty
    /// connection, no trigger is created (AutoMLOps 1.3 built GitHub with GitHub Actions).
    GitHub {
        owner: String,
        name: String,
        connection: String,
    },
    /// A GitLab project, `group/project`, built by GitLab CI.
    GitLab { project: String },
}

impl Settings {
    /// The account ID (the part before `@`) of the runner service account, when it belongs to
    /// this project and so is created here.
    pub(crate) fn runner_account_id(&self) -> Option<&str> {
        let (id, domain) = self.pipeline_runner_sa.split_once('@')?;
        (domain == format!("{}.iam.gserviceaccount.com", self.project_id)).then_some(id)
    }

    /// Whether the CI workflow has a Cloud Build trigger: with `run_local` false and Cloud
    /// Build as the framework, unless GitHub is chosen without a Cloud Build connection to it.
    pub(crate) fn has_ci_trigger(&self) -> bool {
        !self.run_local
            && self.deployment_framework == Framework::CloudBuild
            && !matches!(&self.source_repo, SourceRepo::GitHub { connection, .. } if connection.is_empty())
            && !matches!(self.source_repo, SourceRepo::GitLab { .. })
    }

    /// Whether Cloud Build reviews pull requests (`cloudbuild-review.yaml`): its trigger
    /// watches GitHub, which has pull requests.
    pub(crate) fn cloud_build_reviews(&self) -> bool {
        self.has_ci_trigger() && matches!(self.source_repo, SourceRepo::GitHub { .. })
    }

    /// The email of an account of this project.
    fn account(&self, id: &str) -> String {
        format!("{id}@{}.iam.gserviceaccount.com", self.project_id)
    }

    /// The account reviews run as: it can only read.
    pub(crate) fn planner_email(&self) -> String {
        self.account(&self.planner_sa_id)
    }

    /// The account GitHub Actions and GitLab CI deploy and apply as: the given one, or ours.
    pub(crate) fn deployer_email(&self) -> String {
        match &self.given_identity {
            Some(given) => given.service_account.clone(),
            None => self.account(&self.deployer_sa_id),
        }
    }

    /// Whether GitHub Actions or GitLab CI runs the CI, through Workload Identity Federation.
    pub(crate) fn federated_ci(&self) -> bool {
        !self.run_local && self.deployment_framework.federated()
    }

    /// The bucket of the Terraform state: `scripts/create_resources.sh` creates it, and Cloud
    /// Build reads it to run `terraform plan`.
    pub(crate) fn tf_state_bucket(&self) -> String {
        format!("{}-tfstate", self.project_id)
    }
}

impl Settings {
    /// An image of this pipeline in its Artifact Registry repository, without a tag: under
    /// `naming_prefix/` when there is one, as AutoMLOps 1.2+ names them.
    pub(crate) fn image(&self, name: &str) -> String {
        let prefix = self
            .naming_prefix
            .as_deref()
            .map_or_else(String::new, |prefix| format!("{prefix}/"));
        format!(
            "{}-docker.pkg.dev/{}/{}/{prefix}{name}",
            self.af_registry_location, self.project_id, self.af_registry_name
        )
    }

    /// The image every component runs in.
    pub(crate) fn component_image(&self) -> String {
        format!("{}:latest", self.image("components/component_base"))
    }

    /// Where pipeline runs write their outputs.
    pub(crate) fn pipeline_root(&self) -> String {
        format!("gs://{}/pipeline_root", self.gs_bucket_name)
    }
}
