//! The option matrix of the Terraform output: what is created with and without the CI
//! workflow, a schedule, GitHub, an outside runner account, custom names. `.ci/run` runs
//! `tfcheck --strict` on the same combinations.

use automlops::compile::{Options, compile};
use automlops::notebook::Notebook;

use crate::common::repo;

fn terraform(example: &str, flags: &[(&str, &str)]) -> (String, String, String) {
    let files = files(example, flags);
    let get = |name: &str| {
        files
            .get(&format!("terraform/{name}"))
            .cloned()
            .unwrap_or_default()
    };
    (get("main.tf"), get("variables.tf"), get("terraform.tfvars"))
}

/// Whether `tfvars` sets `name` to the string `value` (whatever the alignment).
fn has_value(tfvars: &str, name: &str, value: &str) -> bool {
    tfvars.lines().any(|line| {
        line.split_once('=')
            .is_some_and(|(key, v)| key.trim() == name && v.trim() == format!("\"{value}\""))
    })
}

#[test]
fn run_local_creates_only_storage_registry_and_the_runner_account() {
    let (main, variables, _) = terraform(
        "training_custom",
        &[("run_local", "true"), ("schedule", "No Schedule Specified")],
    );
    for present in [
        "google_artifact_registry_repository\" \"components\"",
        "google_storage_bucket\" \"pipeline\"",
        "google_service_account\" \"pipeline_runner\"",
    ] {
        assert!(main.contains(present), "{present} missing");
    }
    for absent in [
        "module \"runner\"",
        "google_cloudbuild_trigger",
        "google_cloud_scheduler_job",
        "google_sourcerepo_repository",
        "google_service_account\" \"cloudbuild\"",
    ] {
        assert!(!main.contains(absent), "{absent} present");
    }
    assert!(!variables.contains("cloud_run_name"));
}

#[test]
fn ci_without_schedule_has_runner_and_trigger_but_no_scheduler() {
    let (main, _, _) = terraform("training_custom", &[("schedule", "No Schedule Specified")]);
    assert!(main.contains("module \"runner\""));
    assert!(main.contains("trigger_template"));
    assert!(main.contains("invokers              = var.runner_invokers"));
    assert!(!main.contains("google_cloud_scheduler_job"));
    assert!(!main.contains("google_service_account\" \"scheduler\""));
}

#[test]
fn a_schedule_calls_the_runner_with_an_oidc_token_of_its_own_account() {
    let (main, _, tfvars) = terraform("training_custom", &[]);
    assert!(main.contains("resource \"google_cloud_scheduler_job\" \"pipeline\""));
    assert!(main.contains("service_account_email = google_service_account.scheduler.email"));
    assert!(main.contains("concat([\"serviceAccount:${google_service_account.scheduler.email}\"], var.runner_invokers)"));
    assert!(has_value(&tfvars, "schedule", "0 */12 * * *"), "{tfvars}");
}

#[test]
fn github_replaces_the_source_repository() {
    let (main, variables, tfvars) = terraform(
        "training_custom",
        &[
            ("source_repo_type", "github"),
            ("github_repo", "my-org/beans"),
            (
                "github_connection",
                "projects/my-project/locations/us-central1/connections/gh",
            ),
        ],
    );
    assert!(main.contains("google_cloudbuildv2_repository"));
    assert!(main.contains("repository_event_config"));
    assert!(!main.contains("google_sourcerepo_repository"));
    assert!(variables.contains("variable \"github_connection\""));
    assert!(has_value(&tfvars, "github_owner", "my-org"), "{tfvars}");
}

#[test]
fn a_runner_account_of_another_project_is_used_not_created() {
    let (main, variables, tfvars) = terraform(
        "training_custom",
        &[(
            "pipeline_runner_sa",
            "runner@shared-project.iam.gserviceaccount.com",
        )],
    );
    assert!(!main.contains("google_service_account\" \"pipeline_runner\""));
    assert!(main.contains("member = \"serviceAccount:${var.pipeline_runner_sa}\""));
    assert!(variables.contains("variable \"pipeline_runner_sa\""));
    assert!(tfvars.contains("runner@shared-project.iam.gserviceaccount.com"));
}

#[test]
fn custom_names_and_regions_reach_the_variables() {
    let (_, _, tfvars) = terraform(
        "training_custom",
        &[
            ("cloud_run_name", "beans-runner"),
            ("cloud_run_location", "europe-west4"),
            ("af_registry_name", "beans-images"),
            ("gs_bucket_name", "beans-pipelines"),
            ("schedule_name", "nightly-beans"),
        ],
    );
    for value in [
        "beans-runner",
        "europe-west4",
        "beans-images",
        "beans-pipelines",
        "nightly-beans",
    ] {
        assert!(
            tfvars.contains(&format!("\"{value}\"")),
            "{value} missing from {tfvars}"
        );
    }
}

#[test]
fn runner_roles_follow_the_components_imports() {
    let (with_bigquery, _, _) = terraform("training_custom", &[]);
    assert!(with_bigquery.contains("\"roles/bigquery.jobUser\""));
    assert!(with_bigquery.contains("\"bigquery.googleapis.com\""));
    let (without, _, _) = terraform("custom_types", &[]);
    assert!(!without.contains("bigquery"));
    for forbidden in ["roles/owner", "roles/editor", "roles/viewer", "allUsers"] {
        assert!(!with_bigquery.contains(forbidden));
    }
}

/// The compiled files of an example with these flags.
fn files(example: &str, flags: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    let dir = repo().join("examples").join(example);
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .unwrap();
    let mut options = Options::default();
    for (name, value) in flags {
        options
            .flags
            .insert((*name).to_owned(), (*value).to_owned());
    }
    compile(&Notebook::read(&path).unwrap(), &options)
        .unwrap()
        .artifacts
        .files
        .into_iter()
        .collect()
}

#[test]
fn ci_plans_terraform_with_read_only_grants_on_the_state_it_reads() {
    let out = files("training_custom", &[]);
    let build = &out["cloudbuild.yaml"];
    // Plan steps, in the terraform directory, reading the state bucket the trigger names.
    assert!(build.contains("- id: terraform-plan"), "{build}");
    assert!(build.contains("  dir: terraform"));
    assert!(build.contains("-backend-config=bucket=${_TF_STATE_BUCKET}"));
    assert!(build.contains("  - -lock=false"));
    assert!(build.contains(
        "substitutions:\n  _AUTOMLOPS_IMAGE: us-central1-docker.pkg.dev/my-project/vertex-mlops-af/automlops:"
    ));
    assert!(build.contains("\n  _TF_STATE_BUCKET: my-project-tfstate\n"));
    // Nothing is built, planned or deployed before the committed output is checked.
    assert!(build.contains("steps:\n- id: check-compiled-output\n  name: ${_AUTOMLOPS_IMAGE}\n"));
    for step in [
        "build-component-base",
        "pin-component-image",
        "terraform-init",
    ] {
        let at = &build[build.find(&format!("- id: {step}\n")).unwrap()..];
        let wait = &at[at.find("waitFor:").unwrap()..];
        assert!(
            wait.starts_with("waitFor:\n  - check-compiled-output\n"),
            "{step}: {wait}"
        );
    }
    // The runner is deployed only once the configuration plans.
    let deploy = &build[build.find("- id: deploy-runner").unwrap()..];
    assert!(deploy.contains("  - terraform-plan\n"), "{deploy}");

    let main = &out["terraform/main.tf"];
    assert!(main.contains("_TF_STATE_BUCKET = var.tf_state_bucket"));
    assert!(
        main.contains("bucket = var.tf_state_bucket\n  role   = \"roles/storage.objectViewer\"")
    );
    assert!(has_value(
        &out["terraform/terraform.tfvars"],
        "tf_state_bucket",
        "my-project-tfstate"
    ));
    assert!(out["scripts/create_resources.sh"].contains("-var=\"tf_state_bucket=$state_bucket\""));
    // Narrow viewer roles, never the basic roles/viewer.
    for role in [
        "roles/iam.securityReviewer",
        "roles/cloudscheduler.viewer",
        "roles/cloudbuild.builds.viewer",
    ] {
        assert!(main.contains(&format!("\"{role}\"")), "{role} missing");
    }
    assert!(!main.contains("\"roles/viewer\""));
}

#[test]
fn plan_roles_follow_what_the_configuration_contains() {
    let out = files("training_custom", &[("schedule", "No Schedule Specified")]);
    assert!(!out["terraform/main.tf"].contains("roles/cloudscheduler.viewer"));
    let out = files(
        "training_custom",
        &[
            ("source_repo_type", "github"),
            ("github_repo", "my-org/beans"),
            (
                "github_connection",
                "projects/my-project/locations/us-central1/connections/gh",
            ),
        ],
    );
    assert!(out["terraform/main.tf"].contains("roles/cloudbuild.connectionViewer"));
}

#[test]
fn run_local_has_no_plan_step_and_no_state_variable() {
    let out = files(
        "training_custom",
        &[("run_local", "true"), ("schedule", "No Schedule Specified")],
    );
    assert!(!out["cloudbuild.yaml"].contains("terraform"));
    assert!(!out["cloudbuild.yaml"].contains("substitutions"));
    assert!(!out["terraform/variables.tf"].contains("tf_state_bucket"));
    assert!(out["scripts/create_resources.sh"].contains("terraform plan -input=false -out=tfplan"));
}

/// Two deployments of the same pipeline in one project, with their own buckets, keep their
/// Terraform state apart: applying one never destroys the other's resources.
#[test]
fn deployments_with_their_own_bucket_have_their_own_state() {
    let state = |flags: &[(&str, &str)]| {
        let versions = files("training_custom", flags)["terraform/versions.tf"].clone();
        versions
            .lines()
            .find(|line| line.trim_start().starts_with("prefix"))
            .unwrap()
            .to_owned()
    };
    let default = state(&[]);
    assert!(
        default.contains("automlops/my-project-bucket/training-pipeline"),
        "{default}"
    );
    assert_ne!(default, state(&[("gs_bucket_name", "beans-pipelines")]));
    assert_ne!(default, state(&[("naming_prefix", "team-a")]));
}

/// Every role granted to `member_ref`'s account in `main.tf`: the `role` of each IAM block whose
/// member names it, and, for a `for_each` over a local, that local's list.
fn roles_of(main: &str, member_ref: &str) -> Vec<String> {
    let mut roles = Vec::new();
    for block in main.split("\nresource ").skip(1) {
        let block = block.split("\n}\n").next().unwrap_or(block);
        if !block.contains(&format!("member = \"serviceAccount:${{{member_ref}}}\""))
            && !block.lines().any(|l| {
                l.trim_start().starts_with("member")
                    && l.contains(&format!("serviceAccount:${{{member_ref}}}"))
            })
        {
            continue;
        }
        for line in block.lines() {
            let line = line.trim();
            if let Some(value) = line.strip_prefix("role") {
                let value = value.trim_start().trim_start_matches('=').trim();
                if value == "each.value" {
                    let local = block
                        .lines()
                        .find_map(|l| l.trim().strip_prefix("for_each"))
                        .and_then(|v| v.split("local.").nth(1))
                        .map(|v| v.trim_end_matches(')').to_owned())
                        .expect("for_each over a local");
                    let list = main
                        .split(&format!("  {local} = ["))
                        .nth(1)
                        .or_else(|| {
                            main.lines()
                                .position(|l| l.trim_start().starts_with(&format!("{local} ")))
                                .map(|_| "")
                        })
                        .expect("the local's list");
                    let list = list.split(']').next().unwrap_or("");
                    roles.extend(
                        list.split(',')
                            .map(|r| r.trim().trim_matches('"').to_owned())
                            .filter(|r| !r.is_empty()),
                    );
                } else {
                    roles.push(value.trim_matches('"').to_owned());
                }
            }
        }
    }
    roles
}

#[test]
fn the_planner_of_github_actions_and_gitlab_ci_can_only_read() {
    for example in ["ci_github_actions", "ci_gitlab"] {
        let (main, _, _) = terraform(example, &[]);
        let roles = roles_of(&main, "google_service_account.planner.email");
        assert!(
            roles.len() >= 8,
            "{example}: planner roles not found: {roles:?}"
        );
        for role in &roles {
            let read_only = role == "roles/browser"
                || role.ends_with("iewer")
                || role.ends_with("eader")
                || role.ends_with("eviewer");
            assert!(
                read_only,
                "{example}: the planner holds {role}, which can change resources"
            );
        }
        // The deployer's project IAM changes are bounded to this configuration's roles.
        assert!(
            main.contains(
                "modifiedGrantsByRole', []).hasOnly(${jsonencode(local.granted_project_roles)})"
            ),
            "{example}"
        );
        for primitive in ["roles/owner", "roles/editor", "\"roles/viewer\""] {
            assert!(!main.contains(primitive), "{example} grants {primitive}");
        }
    }
}

#[test]
fn github_actions_admits_only_the_repository_s_review_branch_and_approval_jobs() {
    let (main, _, tfvars) = terraform(
        "training_kfp",
        &[
            ("deployment_framework", "github-actions"),
            ("csr_name", "my-org/my-repo"),
            ("csr_branch_name", "main"),
        ],
    );
    assert!(main.contains("attribute_condition = \"assertion.sub == 'repo:${var.github_owner}/${var.github_repo}:pull_request' || assertion.sub == 'repo:${var.github_owner}/${var.github_repo}:ref:refs/heads/${var.ci_branch}' || assertion.sub == 'repo:${var.github_owner}/${var.github_repo}:environment:${var.ci_apply_environment}'\""), "{main}");
    assert!(has_value(&tfvars, "github_owner", "my-org"));
    assert!(has_value(&tfvars, "github_repo", "my-repo"));
    assert!(has_value(&tfvars, "ci_branch", "main"));
    assert!(!main.contains("google_cloudbuild_trigger"));
    assert!(!main.contains("google_service_account\" \"cloudbuild\""));
}

#[test]
fn cloud_build_from_github_reviews_pull_requests_as_the_planner() {
    let flags = [
        ("source_repo_type", "github"),
        ("github_repo", "my-org/beans"),
        (
            "github_connection",
            "projects/my-project/locations/us-central1/connections/gh",
        ),
    ];
    let out = files("training_custom", &flags);
    let main = &out["terraform/main.tf"];
    let review = main
        .split("resource \"google_cloudbuild_trigger\" \"review\" {")
        .nth(1)
        .expect("a review trigger")
        .split("\n}\n")
        .next()
        .unwrap();
    assert!(
        review.contains("filename        = \"cloudbuild-review.yaml\""),
        "{review}"
    );
    assert!(
        review.contains("google_service_account.planner.id"),
        "{review}"
    );
    assert!(review.contains("pull_request {"), "{review}");
    let roles = roles_of(main, "google_service_account.planner.email");
    assert!(!roles.is_empty());
    for role in &roles {
        let read_only = role == "roles/browser"
            || role == "roles/logging.logWriter"
            || role.ends_with("iewer")
            || role.ends_with("eader")
            || role.ends_with("eviewer");
        assert!(read_only, "the Cloud Build planner holds {role}");
    }
    // The review build runs the review stages, ending with the summary, and pushes nothing.
    let build = &out["cloudbuild-review.yaml"];
    for id in [
        "check-compiled-output",
        "terraform-fmt",
        "terraform-validate",
        "terraform-plan",
        "plan-summary",
    ] {
        assert!(build.contains(&format!("- id: {id}")), "{id} missing");
    }
    assert!(build.contains("- -lock=false"));
    assert!(!build.contains("images:") && !build.contains("push"));
    // Without a connection there is no trigger, so no review build either.
    assert!(!files("training_custom", &[]).contains_key("cloudbuild-review.yaml"));
}
