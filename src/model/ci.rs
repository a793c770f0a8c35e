//! The CI of a compiled pipeline, as plain data: which framework runs it, where the code lives,
//! how CI authenticates to Google Cloud, and the stages every framework runs: on review (a pull
//! or merge request), on a push to the deployment branch, and behind an approval. Each
//! framework's emitter (`emit/ci/`) says how; this says what.

/// `deployment_framework`: what runs the CI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framework {
    /// A Cloud Build trigger running `cloudbuild.yaml` (AutoMLOps 1.0's).
    CloudBuild,
    /// `.github/workflows/`, authenticated by Workload Identity Federation (AutoMLOps 1.3's default).
    GitHubActions,
    /// `.gitlab-ci.yml`, authenticated by Workload Identity Federation.
    GitLabCi,
}

impl Framework {
    pub(crate) const NAMES: &[&str] = &["cloud-build", "github-actions", "gitlab-ci"];

    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "cloud-build" => Some(Self::CloudBuild),
            "github-actions" => Some(Self::GitHubActions),
            "gitlab-ci" => Some(Self::GitLabCi),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CloudBuild => "cloud-build",
            Self::GitHubActions => "github-actions",
            Self::GitLabCi => "gitlab-ci",
        }
    }

    /// Whether CI outside Google Cloud authenticates with Workload Identity Federation.
    pub(crate) fn federated(self) -> bool {
        !matches!(self, Self::CloudBuild)
    }
}

/// A Workload Identity pool, provider and deploying account that exist already (AutoMLOps
/// 1.3's `project_number`, `workload_identity_pool`, `workload_identity_provider`,
/// `workload_identity_service_account`): used as they are, none created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GivenIdentity {
    pub(crate) project_number: String,
    pub(crate) pool: String,
    pub(crate) provider: String,
    /// The account deploys run as.
    pub(crate) service_account: String,
}

impl GivenIdentity {
    /// The provider's resource name, as `google-github-actions/auth` and gcloud take it.
    pub(crate) fn provider_name(&self) -> String {
        format!(
            "projects/{}/locations/global/workloadIdentityPools/{}/providers/{}",
            self.project_number, self.pool, self.provider
        )
    }
}

/// One step of the CI, whatever runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `automlops compile --check`: the committed output is what the committed notebook
    /// compiles to.
    CheckCompiled,
    /// `terraform fmt -check` and `terraform validate`.
    TerraformLint,
    /// `terraform plan` against the real state, read-only and without the lock; summarized by
    /// `automlops plan-summary` and posted for review.
    TerraformPlan,
    /// Build and push the component image, tagged with the commit.
    BuildComponentImage,
    /// Point the compiled pipeline at the component image of this commit.
    PinPipeline,
    /// Build and push the runner image (which holds the pinned pipeline), tagged with the commit.
    BuildRunnerImage,
    /// Deploy the runner service with the image of this commit.
    DeployRunner,
    /// `terraform apply` of the reviewed plan, behind an approval.
    TerraformApply,
}

/// When stages run, and as which identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stages {
    /// On a pull or merge request, as the planner (read-only).
    pub(crate) review: Vec<Stage>,
    /// On a push to the deployment branch, as the deployer.
    pub(crate) deploy: Vec<Stage>,
    /// After a person approves, as the deployer.
    pub(crate) approved: Vec<Stage>,
}

/// The stages of a pipeline's CI (with `use_ci`), the same for every framework.
pub(crate) fn stages() -> Stages {
    Stages {
        review: vec![
            Stage::CheckCompiled,
            Stage::TerraformLint,
            Stage::TerraformPlan,
        ],
        deploy: vec![
            Stage::CheckCompiled,
            Stage::BuildComponentImage,
            Stage::PinPipeline,
            Stage::BuildRunnerImage,
            Stage::TerraformPlan,
            Stage::DeployRunner,
        ],
        approved: vec![Stage::TerraformPlan, Stage::TerraformApply],
    }
}
