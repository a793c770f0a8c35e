//! GitLab CI: `.gitlab-ci.yml`. On a merge request to the deployment branch: check, lint and
//! plan as the read-only planner, the summary kept as an artifact and, with a project token in
//! `AUTOMLOPS_GITLAB_TOKEN`, posted as one merge request note that each push updates. On a push
//! to the branch: build, pin, plan and deploy as the deployer; `terraform apply` is a manual job
//! of the `automlops-apply` environment (protect it, so only approvers can run it). Jobs sign
//! in with GitLab's ID tokens through Workload Identity Federation; no key is stored anywhere.

use serde_json::{Value, json};

use crate::model::ci::{Stage, stages};

use super::{COMMENT_MARKER, Context, TERRAFORM_VERSION, commands};

const RUST_IMAGE: &str = "rust:1.95-bookworm";
const PYTHON_IMAGE: &str = "python:3.12-slim-bookworm";
const CLOUD_SDK_IMAGE: &str = "gcr.io/google.com/cloudsdktool/google-cloud-cli:stable";
const DOCKER_SERVICE: &str = "docker:27-dind";

/// Writes the job's ID token and an external-account credential for `GCP_SERVICE_ACCOUNT`, which
/// Terraform and gcloud read as application default credentials.
const SIGN_IN: &[&str] = &[
    "printf '%s' \"$GCP_ID_TOKEN\" > \"$CI_PROJECT_DIR/.gcp-id-token\"",
    "printf '{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/%s\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\",\"token_url\":\"https://sts.googleapis.com/v1/token\",\"service_account_impersonation_url\":\"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/%s:generateAccessToken\",\"credential_source\":{\"file\":\"%s\"}}' \"$GCP_WORKLOAD_IDENTITY_PROVIDER\" \"$GCP_SERVICE_ACCOUNT\" \"$CI_PROJECT_DIR/.gcp-id-token\" > \"$CI_PROJECT_DIR/.gcp-credentials.json\"",
    "export GOOGLE_APPLICATION_CREDENTIALS=\"$CI_PROJECT_DIR/.gcp-credentials.json\"",
];

/// Posts or updates the merge request note (Python's standard library only).
const NOTE_SCRIPT: &str = r#"import json, os, urllib.request
api = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
headers = {"PRIVATE-TOKEN": os.environ["AUTOMLOPS_GITLAB_TOKEN"], "Content-Type": "application/json"}
marker = os.environ["MARKER"]
body = marker + "\n" + open("plan.md", encoding="utf-8").read()
def call(url, method="GET", data=None):
    request = urllib.request.Request(url, method=method, headers=headers, data=None if data is None else json.dumps(data).encode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)
previous = [n for n in call(api + "?per_page=100") if n["body"].startswith(marker)]
if previous:
    call(f"{api}/{previous[0]['id']}", "PUT", {"body": body})
else:
    call(api, "POST", {"body": body})
"#;

fn on_review() -> Value {
    json!([{ "if": "$CI_PIPELINE_SOURCE == \"merge_request_event\" && $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == $AUTOMLOPS_BRANCH" }])
}

fn on_deploy() -> Value {
    json!([{ "if": "$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH == $AUTOMLOPS_BRANCH" }])
}

fn script(stages: &[Stage], ctx: &Context<'_>) -> Vec<String> {
    stages
        .iter()
        .flat_map(|stage| commands(*stage, ctx))
        .collect()
}

fn signed_in(account: &str, job: Value) -> Value {
    let mut job = job;
    job["id_tokens"] = json!({ "GCP_ID_TOKEN": { "aud": "https://iam.googleapis.com/${GCP_WORKLOAD_IDENTITY_PROVIDER}" } });
    // The account first, then the job's own variables.
    let mut variables = serde_json::Map::new();
    variables.insert("GCP_SERVICE_ACCOUNT".to_owned(), json!(account));
    if let Some(own) = job.get("variables").and_then(Value::as_object) {
        variables.extend(own.clone());
    }
    job["variables"] = Value::Object(variables);
    let mut before: Vec<Value> = SIGN_IN.iter().map(|l| json!(l)).collect();
    if let Some(extra) = job.get("before_script").and_then(Value::as_array) {
        before.extend(extra.iter().cloned());
    }
    job["before_script"] = Value::Array(before);
    job
}

fn terraform_image() -> Value {
    json!({ "name": format!("hashicorp/terraform:{TERRAFORM_VERSION}"), "entrypoint": [""] })
}

fn pipeline(ctx: &Context<'_>) -> Value {
    let all = stages();
    let version = env!("CARGO_PKG_VERSION");
    let path = "export PATH=\"$CI_PROJECT_DIR/.automlops/bin:$PATH\"";
    let provider = match &ctx.settings.given_identity {
        Some(given) => json!(given.provider_name()),
        None => Value::Null,
    };
    let mut variables = json!({
        "AUTOMLOPS_BRANCH": ctx.settings.csr_branch_name,
        "TF_STATE_BUCKET": ctx.settings.tf_state_bucket(),
        "COMMIT_SHA": "$CI_COMMIT_SHA",
    });
    if !provider.is_null() {
        variables["GCP_WORKLOAD_IDENTITY_PROVIDER"] = provider;
    }
    let check_script: Vec<String> = std::iter::once(path.to_owned())
        .chain(commands(Stage::CheckCompiled, ctx))
        .collect();
    let check = |rules: Value| {
        json!({
            "stage": "check",
            "image": RUST_IMAGE,
            "needs": ["automlops"],
            "rules": rules,
            "script": check_script,
        })
    };
    let review_plan = signed_in(
        &ctx.settings.planner_email(),
        json!({
            "stage": "plan",
            "image": terraform_image(),
            "rules": on_review(),
            "script": script(&[Stage::TerraformLint, Stage::TerraformPlan], ctx),
            "artifacts": { "paths": ["plan.json"], "expire_in": "1 week" },
        }),
    );
    let summary = json!({
        "stage": "summary",
        "image": PYTHON_IMAGE,
        "needs": ["automlops", "review:plan"],
        "rules": on_review(),
        "variables": { "MARKER": COMMENT_MARKER },
        "script": [
            path,
            "status=0",
            "automlops plan-summary plan.json --output plan.md || status=$?",
            "if [ \"$status\" -eq 1 ]; then exit 1; fi",
            "cat plan.md",
            format!("if [ -n \"$AUTOMLOPS_GITLAB_TOKEN\" ]; then python3 -c {}; fi", super::super::shell::quote(NOTE_SCRIPT)),
            "if [ \"$status\" -eq 2 ]; then echo 'This plan destroys or replaces resources that hold data: read the summary before merging.'; exit 2; fi",
        ],
        "allow_failure": { "exit_codes": [2] },
        "artifacts": { "paths": ["plan.md"], "expire_in": "1 week", "when": "always" },
    });
    let deploy_stages: Vec<Stage> = all
        .deploy
        .iter()
        .copied()
        .filter(|s| *s != Stage::CheckCompiled && *s != Stage::TerraformPlan)
        .collect();
    let deploy = signed_in(
        &ctx.settings.deployer_email(),
        json!({
            "stage": "deploy",
            "image": CLOUD_SDK_IMAGE,
            "services": [DOCKER_SERVICE],
            "needs": ["deploy:check", "deploy:plan"],
            "rules": on_deploy(),
            "variables": {
                "DOCKER_HOST": "tcp://docker:2376",
                "DOCKER_TLS_CERTDIR": "/certs",
                "DOCKER_CERT_PATH": "/certs/client",
                "DOCKER_TLS_VERIFY": "1",
            },
            "before_script": [
                "apt-get update -qq && apt-get install -y -qq docker.io > /dev/null",
                "gcloud auth login --cred-file=\"$GOOGLE_APPLICATION_CREDENTIALS\" --quiet",
            ],
            "script": script(&deploy_stages, ctx),
        }),
    );
    let deploy_plan = signed_in(
        &ctx.settings.deployer_email(),
        json!({
            "stage": "plan",
            "image": terraform_image(),
            "rules": on_deploy(),
            "script": script(&[Stage::TerraformPlan], ctx),
            "artifacts": { "paths": ["plan.json"], "expire_in": "1 week" },
        }),
    );
    let apply = signed_in(
        &ctx.settings.deployer_email(),
        json!({
            "stage": "apply",
            "image": terraform_image(),
            "needs": ["deploy"],
            "rules": [{ "if": "$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH == $AUTOMLOPS_BRANCH", "when": "manual" }],
            "environment": { "name": "automlops-apply", "action": "start" },
            "resource_group": "automlops-apply",
            "script": script(&[Stage::TerraformApply], ctx),
        }),
    );
    json!({
        "stages": ["build", "check", "plan", "summary", "deploy", "apply"],
        "variables": variables,
        "automlops": {
            "stage": "build",
            "image": RUST_IMAGE,
            "rules": [{ "if": "$CI_PIPELINE_SOURCE == \"merge_request_event\" || $CI_COMMIT_BRANCH == $AUTOMLOPS_BRANCH" }],
            "cache": { "key": format!("automlops-{version}"), "paths": [".automlops/"] },
            "script": [format!("test -x .automlops/bin/automlops || {} --root .automlops", super::install_automlops())],
            "artifacts": { "paths": [".automlops/bin/automlops"], "expire_in": "1 day" },
        },
        "review:check": check(on_review()),
        "review:plan": review_plan,
        "review:summary": summary,
        "deploy:check": check(on_deploy()),
        "deploy:plan": deploy_plan,
        "deploy": deploy,
        "apply": apply,
    })
}

/// `.gitlab-ci.yml`, relative to the output directory.
pub(crate) fn files(
    ctx: &Context<'_>,
    header: &str,
) -> Result<Vec<(String, String)>, serde_json::Error> {
    let yaml = super::super::yaml::to_yaml(&pipeline(ctx))?;
    Ok(vec![(
        ".gitlab-ci.yml".to_owned(),
        format!("{header}{yaml}"),
    )])
}
