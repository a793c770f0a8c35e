//! Google Cloud's naming rules for what the options name (projects, buckets, service
//! accounts, Cloud Run, Cloud Build, Cloud Scheduler, regions, images, output paths), checked
//! at compile time so that a bad name is a located diagnostic and not an apply-time failure.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::Settings;
use crate::model::settings::{RENAMED, SourceRepo};

/// Google's rules for the names the Terraform creates, so a bad name fails here and not at
/// `terraform apply`.
/// `explicit` lists the options given (in the notebook or by flag); `derived` those whose
/// names were derived from `naming_prefix`: what fails among them is reported once, at the
/// prefix the user wrote.
pub(crate) fn check_resource_names(
    settings: &Settings,
    explicit: &[&str],
    derived: &[&str],
    at: &dyn Fn(&str) -> Option<Span>,
    diagnostics: &mut Diagnostics,
) {
    let prefix_ok = settings
        .naming_prefix
        .as_deref()
        .is_none_or(|prefix| NameRule::Prefix.check(prefix).is_ok());
    let mut refused_derived: Vec<String> = Vec::new();
    let mut check = |option: &str, value: &str, rule: NameRule| {
        if let Err(problem) = rule.check(value) {
            if derived.contains(&option) {
                // A prefix of bad characters is one mistake, reported at the prefix itself.
                if prefix_ok {
                    // `naming_prefix` is AutoMLOps 1.2's: name the options as 1.2 does.
                    let option = RENAMED
                        .iter()
                        .find(|(_, ours)| *ours == option)
                        .map_or(option, |(later, _)| *later);
                    refused_derived.push(format!(
                        "`{value}` ({}, `{option}`: {problem})",
                        rule.what()
                    ));
                }
                return;
            }
            diagnostics.push(
                Diagnostic::error(
                    at(option),
                    format!("`{value}` is not a valid {}: {problem}", rule.what()),
                )
                .with_hint(format!("set `{option}` to {}", rule.help())),
            );
        }
    };
    check(
        "af_registry_name",
        &settings.af_registry_name,
        NameRule::Repository,
    );
    if let Some(prefix) = &settings.naming_prefix {
        check("naming_prefix", prefix, NameRule::Prefix);
    }
    check(
        "pipeline_job_location",
        &settings.pipeline_job_location,
        NameRule::Location,
    );
    if let Some(image) = &settings.base_image {
        check("base_image", image, NameRule::Image);
    }
    for option in [
        "af_registry_location",
        "gs_bucket_location",
        "cloud_run_location",
        "schedule_location",
        "cb_trigger_location",
    ] {
        let value = match option {
            "af_registry_location" => &settings.af_registry_location,
            "gs_bucket_location" => &settings.gs_bucket_location,
            "cloud_run_location" => &settings.cloud_run_location,
            "schedule_location" => &settings.schedule_location,
            _ => &settings.cb_trigger_location,
        };
        check(option, value, NameRule::Location);
    }
    if let Some(id) = settings.runner_account_id() {
        check("pipeline_runner_sa", id, NameRule::ServiceAccount);
    }
    if !settings.run_local {
        check(
            "cloud_run_name",
            &settings.cloud_run_name,
            NameRule::CloudRun,
        );
        check(
            "cb_trigger_name",
            &settings.cb_trigger_name,
            NameRule::Trigger,
        );
        if settings.source_repo == SourceRepo::CloudSourceRepositories {
            check("csr_name", &settings.csr_name, NameRule::SourceRepository);
        }
        check(
            "csr_branch_name",
            &settings.csr_branch_name,
            NameRule::Branch,
        );
    }
    if settings.schedule.is_some() {
        check(
            "schedule_name",
            &settings.schedule_name,
            NameRule::SchedulerJob,
        );
    }
    // The pipeline bucket, and its access-log bucket named after it. A name derived from a bad
    // project ID is not a second mistake; one derived from the prefix is reported with the
    // prefix's other names.
    let bucket = &settings.gs_bucket_name;
    let project_ok = is_project_id(&settings.project_id);
    let invalid = bucket_name_problem(bucket).err();
    let too_long = (bucket.len() > 58)
        .then_some("with `-logs` for its access-log bucket, it is longer than 63 characters");
    if derived.contains(&"gs_bucket_name") {
        if let Some(problem) = invalid.or(too_long).filter(|_| project_ok && prefix_ok) {
            refused_derived.push(format!(
                "`{bucket}` (Cloud Storage bucket, `storage_bucket_name`: {problem})"
            ));
        }
    } else if let Some(problem) = invalid {
        // A name given by flag has no place in the notebook; a derived one points at the
        // project ID it comes from, and says so.
        let from_project = !explicit.contains(&"gs_bucket_name");
        if project_ok || !from_project {
            let (span, derived_from) = if from_project {
                (
                    at("project_id"),
                    " (derived from `project_id` as `PROJECT-bucket`)",
                )
            } else {
                (at("gs_bucket_name"), "")
            };
            diagnostics.push(
                Diagnostic::error(span, format!("`{bucket}`{derived_from} is not a valid Cloud Storage bucket name: {problem}"))
                    .with_hint("set `gs_bucket_name` (`storage_bucket_name`) to 3 to 63 lowercase letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"),
            );
        }
    } else if too_long.is_some() && project_ok {
        diagnostics.push(
            Diagnostic::error(at("gs_bucket_name").or(at("project_id")), format!("bucket name `{bucket}` is too long to name its access-log bucket `{bucket}-logs` (63 characters at most)"))
                .with_hint("set `gs_bucket_name` to at most 58 characters"),
        );
    }
    if let (Some(prefix), false) = (&settings.naming_prefix, refused_derived.is_empty()) {
        diagnostics.push(
            Diagnostic::error(
                at("naming_prefix"),
                format!(
                    "naming prefix `{prefix}` makes names Google Cloud refuses: {}",
                    refused_derived.join(", ")
                ),
            )
            .with_hint("shorten `naming_prefix`, or name those resources yourself with the options in parentheses"),
        );
    }
}

/// The ID of an account automlops adds beside AutoMLOps's own, `PREFIX-ROLE`: when that is
/// longer than Google's 30 characters, the prefix is cut and a stable hash of the whole prefix
/// keeps two long prefixes that share a beginning apart (`dry-beans-dt-9f2c41-cloudbuild`).
pub(crate) fn derived_account_id(prefix: &str, role: &str) -> String {
    const MAX: usize = 30;
    let whole = format!("{prefix}-{role}");
    if whole.len() <= MAX {
        return whole;
    }
    // FNV-1a: small, stable across platforms and releases (std's hashers are neither).
    let hash = prefix.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let hash = format!("{:06x}", hash & 0x00ff_ffff);
    let keep = MAX - role.len() - hash.len() - 2;
    let cut = prefix.get(..keep).unwrap_or(prefix).trim_end_matches('-');
    format!("{cut}-{hash}-{role}")
}

/// The longest component name: it becomes file names (`src/<name>.py`, file systems hold
/// 255 bytes) and kfp's task and executor names, which Vertex AI limits to 128 characters.
pub(crate) const MAX_COMPONENT_NAME: usize = 128;

/// The error for a component name too long to be a file name and a task name.
pub(crate) fn component_name_too_long(name: &str, span: Option<Span>) -> Option<Diagnostic> {
    (name.len() > MAX_COMPONENT_NAME).then(|| {
        Diagnostic::error(
            span,
            format!(
                "component name `{}…` has {} characters; it becomes file names and Vertex AI task names, which hold at most {MAX_COMPONENT_NAME}",
                name.chars().take(24).collect::<String>(),
                name.chars().count()
            ),
        )
        .with_hint("give the component a shorter name")
    })
}

/// Whether `email` is a Google Cloud service account's email: a lower-case account name (letters,
/// digits, hyphens), `@`, and a domain of `gserviceaccount.com` (`PROJECT.iam.`, `developer.`,
/// `appspot.`, Google's service agents).
pub(crate) fn is_service_account_email(email: &str) -> bool {
    let Some((account, domain)) = email.split_once('@') else {
        return false;
    };
    let label = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    };
    (1..=64).contains(&account.len())
        && label(account)
        && domain
            .strip_suffix("gserviceaccount.com")
            .is_some_and(|head| {
                head.is_empty()
                    || head
                        .strip_suffix('.')
                        .is_some_and(|h| h.split('.').all(label))
            })
}

/// A base image without a version tag or digest, or tagged `latest`, changes under the
/// pipeline between builds (and the generated Dockerfile fails hadolint's DL3006/DL3007).
pub(crate) fn unpinned_image(image: &str, span: Option<Span>) -> Option<Diagnostic> {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let pinned = last.contains('@') || tag.is_some_and(|tag| tag != "latest");
    (!pinned).then(|| {
        Diagnostic::warning(span, format!("base image `{image}` is not pinned to a version, so component builds change under the pipeline"))
            .with_hint("pin a tag or a digest, e.g. `python:3.12-slim`")
    })
}

/// Vertex AI, Cloud Run and Cloud Scheduler run in one region: a multi-region (`us`) or a
/// dual-region (`eur4`), valid for buckets and registries, is refused there at apply time.
pub(crate) fn check_regions(
    settings: &Settings,
    at: &dyn Fn(&str) -> Option<Span>,
    diagnostics: &mut Diagnostics,
) {
    for (option, value, what) in [
        (
            "pipeline_job_location",
            &settings.pipeline_job_location,
            "Vertex AI runs pipelines",
        ),
        (
            "cloud_run_location",
            &settings.cloud_run_location,
            "Cloud Run runs the runner service",
        ),
        (
            "schedule_location",
            &settings.schedule_location,
            "Cloud Scheduler runs the schedule",
        ),
    ] {
        if NameRule::Location.check(value).is_ok() && !is_region(value) {
            let defaulted = if option == "pipeline_job_location" {
                " (`pipeline_job_location` defaults to `gs_bucket_location`)"
            } else {
                ""
            };
            diagnostics.push(
                Diagnostic::error(
                    at(option)
                        .or_else(|| at("gs_bucket_location").filter(|_| !defaulted.is_empty())),
                    format!("`{value}` is not a region, and {what} in a region{defaulted}"),
                )
                .with_hint(format!(
                    "set `{option}` to a region such as `us-central1` or `europe-west4`"
                )),
            );
        }
    }
}

/// A Google Cloud region: `us-central1`, `europe-west4`, `northamerica-northeast1`; not a
/// multi-region (`us`) nor a dual-region (`nam4`).
fn is_region(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let Some((last, first)) = parts.split_last() else {
        return false;
    };
    let letters = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase());
    let digits_at = last.find(|c: char| c.is_ascii_digit());
    !first.is_empty()
        && first.iter().all(|part| letters(part))
        && digits_at.is_some_and(|at| {
            letters(&last[..at]) && last[at..].chars().all(|c| c.is_ascii_digit())
        })
}

#[derive(Clone, Copy)]
enum NameRule {
    Repository,
    Location,
    ServiceAccount,
    CloudRun,
    Trigger,
    SourceRepository,
    SchedulerJob,
    Branch,
    Prefix,
    Image,
}

impl NameRule {
    fn what(self) -> &'static str {
        match self {
            NameRule::Repository => "Artifact Registry repository ID",
            NameRule::Location => "Google Cloud location",
            NameRule::ServiceAccount => "service account ID",
            NameRule::CloudRun => "Cloud Run service name",
            NameRule::Trigger => "Cloud Build trigger name",
            NameRule::SourceRepository => "Cloud Source Repositories name",
            NameRule::SchedulerJob => "Cloud Scheduler job name",
            NameRule::Branch => "branch name for the CI trigger",
            NameRule::Prefix => "naming prefix",
            NameRule::Image => "container image reference",
        }
    }

    fn help(self) -> &'static str {
        match self {
            NameRule::Repository => {
                "lowercase letters, digits and hyphens, starting with a letter (63 at most)"
            }
            NameRule::Location => "a region such as `us-central1` or a multi-region such as `us`",
            NameRule::ServiceAccount => {
                "an email whose part before `@` has 6 to 30 lowercase letters, digits and hyphens, starting with a letter"
            }
            NameRule::CloudRun => {
                "lowercase letters, digits and hyphens, starting with a letter (49 at most)"
            }
            NameRule::Trigger => "letters, digits and hyphens, starting with a letter (64 at most)",
            NameRule::SourceRepository => "letters, digits, `-`, `_` and `.` (128 at most)",
            NameRule::SchedulerJob => "letters, digits, hyphens and underscores (500 at most)",
            NameRule::Branch => {
                "letters, digits, `.`, `_`, `-` and `/` (the trigger matches it exactly)"
            }
            NameRule::Prefix => {
                "lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit"
            }
            NameRule::Image => {
                "an image such as `python:3.12-slim` or `us-docker.pkg.dev/project/repo/image:tag`"
            }
        }
    }

    fn check(self, value: &str) -> Result<(), &'static str> {
        if matches!(self, NameRule::Image) && !super::image_ref::is_valid(value) {
            return Err("it is not `[registry/]repository[:tag][@digest]`");
        }
        let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let (max, min, allowed, start_letter, end_alnum): (
            usize,
            usize,
            &dyn Fn(char) -> bool,
            bool,
            bool,
        ) = match self {
            // A prefix's derived names are checked one by one, with their own limits.
            NameRule::Repository | NameRule::Prefix => (63, 1, &lower, true, true),
            NameRule::Location => (30, 2, &lower, true, true),
            NameRule::ServiceAccount => (30, 6, &lower, true, true),
            NameRule::CloudRun => (49, 1, &lower, true, true),
            NameRule::Trigger => (
                64,
                1,
                &|c: char| c.is_ascii_alphanumeric() || c == '-',
                true,
                true,
            ),
            NameRule::SourceRepository => (
                128,
                1,
                &|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
                false,
                false,
            ),
            NameRule::SchedulerJob => (
                500,
                1,
                &|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'),
                false,
                false,
            ),
            NameRule::Branch => (
                255,
                1,
                &|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'),
                false,
                true,
            ),
            NameRule::Image => (
                255,
                1,
                &|c: char| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@')
                },
                false,
                true,
            ),
        };
        let length = value.chars().count();
        if length < min || length > max {
            return Err(if length < min {
                "it is too short"
            } else {
                "it is too long"
            });
        }
        if !value.chars().all(allowed) {
            return Err("it has characters that are not allowed");
        }
        if start_letter && !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err("it must start with a letter");
        }
        if end_alnum && !value.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("it must end with a letter or digit");
        }
        Ok(())
    }
}

pub(crate) fn is_project_id(id: &str) -> bool {
    // Domain-scoped projects (`example.com:my-project`) keep the rules for the part after `:`.
    let id = id.rsplit_once(':').map_or(id, |(_, id)| id);
    let bytes = id.as_bytes();
    (6..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.last().is_some_and(|b| *b != b'-')
}

pub(crate) fn bucket_name_problem(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) && !name.contains('.') {
        return Err("it must have 3 to 63 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("only lowercase letters, digits, `-`, `_` and `.` are allowed");
    }
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(bytes.first()) || !alnum(bytes.last()) {
        return Err("it must start and end with a letter or digit");
    }
    if name.starts_with("goog") || name.contains("google") {
        return Err("names starting with `goog` or containing `google` are reserved");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_account_emails_are_googles_and_nothing_else() {
        use super::is_service_account_email as ok;
        assert!(ok("vertex-pipelines@my-project.iam.gserviceaccount.com"));
        assert!(ok("123456789-compute@developer.gserviceaccount.com"));
        assert!(ok("my-project@appspot.gserviceaccount.com"));
        assert!(!ok("a b@c"));
        assert!(!ok("user:evil@example.com"));
        assert!(!ok("evil@example.com"));
        assert!(!ok("x@my-project.iam.gserviceaccount.com\nRUN"));
        assert!(!ok("@my-project.iam.gserviceaccount.com"));
        assert!(!ok("Upper@my-project.iam.gserviceaccount.com"));
        assert!(!ok("x@evilgserviceaccount.com"));
    }

    use super::*;
    use crate::model::is_relative_path;

    #[test]
    fn accounts_derived_from_any_prefix_are_valid_and_stable() {
        assert_eq!(
            derived_account_id("dry-beans", "cloudbuild"),
            "dry-beans-cloudbuild"
        );
        let long = derived_account_id("dry-beans-dt-inferencing", "cloudbuild");
        assert_eq!(
            long,
            derived_account_id("dry-beans-dt-inferencing", "cloudbuild")
        );
        assert!(
            long.starts_with("dry-beans-dt-") && long.ends_with("-cloudbuild"),
            "{long}"
        );
        // Two long prefixes that share their beginning stay apart.
        assert_ne!(
            long,
            derived_account_id("dry-beans-dt-training", "cloudbuild")
        );
        for prefix in [
            "automlops-default-prefix",
            "a",
            "x-------------------------y",
            &"p".repeat(63),
        ] {
            for role in ["cloudbuild", "scheduler"] {
                let id = derived_account_id(prefix, role);
                assert!(NameRule::ServiceAccount.check(&id).is_ok(), "{id}");
            }
        }
    }

    #[test]
    fn google_naming_rules() {
        assert!(is_project_id("my-project"));
        assert!(!is_project_id("My_Project"));
        assert!(!is_project_id("p"));
        assert!(bucket_name_problem("my-project-bucket").is_ok());
        assert!(bucket_name_problem("My-Bucket").is_err());
        assert!(bucket_name_problem("-bucket").is_err());
        assert!(is_relative_path("scripts/pipeline_spec/pipeline_job.json"));
        assert!(NameRule::ServiceAccount.check("vertex-pipelines").is_ok());
        assert!(NameRule::ServiceAccount.check("sa").is_err());
        assert!(NameRule::CloudRun.check("run-pipeline").is_ok());
        assert!(NameRule::CloudRun.check("Run_Pipeline").is_err());
        assert!(NameRule::Location.check("europe-west4").is_ok());
        assert!(NameRule::SchedulerJob.check("AutoMLOps-schedule").is_ok());
        assert!(!is_relative_path("../x.json"));
        assert!(!is_relative_path("/tmp/x.json"));
        for region in ["us-central1", "europe-west4", "northamerica-northeast1"] {
            assert!(is_region(region), "{region}");
        }
        for not_region in ["us", "eu", "eur4", "nam4", "asia", "global", "us-central"] {
            assert!(!is_region(not_region), "{not_region}");
        }
        assert!(unpinned_image("python", None).is_some());
        assert!(unpinned_image("python:latest", None).is_some());
        assert!(unpinned_image("localhost:5000/python", None).is_some());
        assert!(unpinned_image("python:3.12-slim", None).is_none());
        assert!(unpinned_image("gcr.io/p/img@sha256:abc", None).is_none());
    }
}
