//! Analysis of the options that choose the CI: `deployment_framework`, `source_repo_type` and
//! the repository, and an existing Workload Identity pool (AutoMLOps 1.3's
//! `workload_identity_*` and `project_number`). Choices that cannot work together are located
//! errors, each with the option to change.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Span};
use crate::model::ci::{Framework, GivenIdentity};
use crate::model::settings::SourceRepo;

use super::naming::is_service_account_email;
use super::options::Reader;

/// What the CI options resolve to.
pub(super) struct Ci {
    pub(super) framework: Framework,
    pub(super) source_repo: SourceRepo,
    pub(super) given_identity: Option<GivenIdentity>,
}

/// The options of an existing Workload Identity pool, in AutoMLOps 1.3's names.
const IDENTITY_OPTIONS: [&str; 4] = [
    "project_number",
    "workload_identity_pool",
    "workload_identity_provider",
    "workload_identity_service_account",
];

pub(super) fn read(
    read: &mut Reader<'_>,
    spans: &BTreeMap<&'static str, Span>,
    run_local: bool,
) -> Ci {
    let at = |name: &str| spans.get(name).copied();
    let framework = match read.string("deployment_framework") {
        None => Framework::CloudBuild,
        Some(name) => Framework::parse(&name).unwrap_or_else(|| {
            read.diagnostics.push(
                Diagnostic::error(
                    at("deployment_framework"),
                    format!(
                        "`deployment_framework` must be one of {}, not `{name}`",
                        quoted(Framework::NAMES)
                    ),
                )
                .with_hint("`github-actions` and `gitlab-ci` build from a GitHub or GitLab repository; `cloud-build` from Cloud Build triggers"),
            );
            Framework::CloudBuild
        }),
    };
    let kind = read.string("source_repo_type");
    let kind = kind.as_deref().unwrap_or(match framework {
        Framework::CloudBuild => "cloud-source-repositories",
        Framework::GitHubActions => "github",
        Framework::GitLabCi => "gitlab",
    });
    let given_identity = if framework.federated() {
        given_identity(read, spans)
    } else {
        None
    };
    let source_repo = match kind {
        "cloud-source-repositories" => SourceRepo::CloudSourceRepositories,
        "github" => github(read, spans, framework, run_local, given_identity.is_some()),
        "gitlab" => gitlab(read, spans, run_local),
        other => {
            read.diagnostics.push(Diagnostic::error(
                at("source_repo_type"),
                format!(
                    "`source_repo_type` must be `cloud-source-repositories`, `github` or `gitlab`, not `{other}`"
                ),
            ));
            SourceRepo::CloudSourceRepositories
        }
    };
    let repo_kind = match source_repo {
        SourceRepo::CloudSourceRepositories => "cloud-source-repositories",
        SourceRepo::GitHub { .. } => "github",
        SourceRepo::GitLab { .. } => "gitlab",
    };
    let fits = match framework {
        Framework::CloudBuild => repo_kind != "gitlab",
        Framework::GitHubActions => repo_kind == "github",
        Framework::GitLabCi => repo_kind == "gitlab",
    };
    if !fits && kind == repo_kind {
        let diagnostic = if framework == Framework::CloudBuild {
            Diagnostic::error(
                at("source_repo_type").or(at("deployment_framework")),
                "not supported yet: Cloud Build triggers on a GitLab repository (they need a Cloud Build connection to GitLab)",
            )
            .with_hint("pass `deployment_framework=\"gitlab-ci\"`: GitLab CI builds, plans and deploys, authenticated by Workload Identity Federation")
        } else {
            let wanted = if framework == Framework::GitHubActions {
                "github"
            } else {
                "gitlab"
            };
            Diagnostic::error(
                at("deployment_framework").or(at("source_repo_type")),
                format!(
                    "`deployment_framework=\"{}\"` runs in a {} repository, but `source_repo_type` is `{repo_kind}`",
                    framework.name(),
                    if wanted == "github" { "GitHub" } else { "GitLab" },
                ),
            )
            .with_hint(format!(
                "pass `source_repo_type=\"{wanted}\"`, or `deployment_framework=\"cloud-build\"` for a Cloud Build trigger"
            ))
        };
        read.diagnostics.push(diagnostic);
    }
    Ci {
        framework,
        source_repo,
        given_identity,
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `project_number` and the `workload_identity_*` options: all four, or none.
fn given_identity(
    read: &mut Reader<'_>,
    spans: &BTreeMap<&'static str, Span>,
) -> Option<GivenIdentity> {
    let values: [Option<String>; 4] =
        IDENTITY_OPTIONS.map(|name| read.string(name).filter(|v| !v.is_empty()));
    let given: Vec<&str> = IDENTITY_OPTIONS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect();
    if given.is_empty() {
        return None;
    }
    // A bare `project_number` (AutoMLOps 1.3 asked for it with every framework) asks for nothing.
    if given == ["project_number"] {
        return None;
    }
    let missing: Vec<&str> = IDENTITY_OPTIONS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    let at = spans.get(given[0]).copied();
    if !missing.is_empty() {
        read.diagnostics.push(
            Diagnostic::error(
                at,
                format!(
                    "an existing Workload Identity pool is named by four options; {} {} missing",
                    quoted(&missing),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            )
            .with_hint("give all four (as AutoMLOps 1.3 required), or none: automlops then creates the pool, its provider and the CI's accounts"),
        );
        return None;
    }
    let [project_number, pool, provider, service_account] = values.map(Option::unwrap_or_default);
    let mut ok = true;
    if project_number.is_empty() || !project_number.bytes().all(|b| b.is_ascii_digit()) {
        read.diagnostics.push(
            Diagnostic::error(
                spans.get("project_number").copied(),
                format!(
                    "`project_number` is the project's number (digits), not `{project_number}`"
                ),
            )
            .with_hint(
                "`gcloud projects describe PROJECT_ID --format='value(projectNumber)'` prints it",
            ),
        );
        ok = false;
    }
    for (name, id) in [
        ("workload_identity_pool", &pool),
        ("workload_identity_provider", &provider),
    ] {
        // Pool and provider IDs: 4 to 32 lowercase letters, digits and hyphens.
        let valid = (4..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !valid {
            read.diagnostics.push(
                Diagnostic::error(spans.get(name).copied(), format!("`{name}` must be the ID of the {} (4 to 32 lowercase letters, digits and hyphens), not `{id}`", if name.ends_with("pool") { "pool" } else { "provider" }))
                    .with_hint("give the short ID, not the full resource name: `projects/N/locations/global/workloadIdentityPools/ID` is built from it"),
            );
            ok = false;
        }
    }
    if !is_service_account_email(&service_account) {
        read.diagnostics.push(
            Diagnostic::error(
                spans.get("workload_identity_service_account").copied(),
                format!(
                    "`workload_identity_service_account` must be a service account email, not `{service_account}`"
                ),
            )
            .with_hint("use the form `name@project-id.iam.gserviceaccount.com`"),
        );
        ok = false;
    }
    ok.then_some(GivenIdentity {
        project_number,
        pool,
        provider,
        service_account,
    })
}

/// `owner/name`, as GitHub spells repositories, when `text` is one.
fn github_repository(text: &str) -> Option<(&str, &str)> {
    // Owners are letters, digits and hyphens; repository names add `_` and `.` but are never
    // `.` or `..`, and the remote URL adds `.git` itself.
    text.split_once('/').filter(|(o, n)| {
        !o.is_empty()
            && o.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !n.is_empty()
            && *n != "."
            && *n != ".."
            && !n.to_ascii_lowercase().ends_with(".git")
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    })
}

/// A GitHub repository; with Cloud Build, the connection to it too.
fn github(
    read: &mut Reader<'_>,
    spans: &BTreeMap<&'static str, Span>,
    framework: Framework,
    run_local: bool,
    identity_given: bool,
) -> SourceRepo {
    let at = |name: &str| spans.get(name).copied();
    // AutoMLOps 1.3 names the GitHub repository with `source_repo_name`.
    let named_by = if spans.contains_key("github_repo") {
        "github_repo"
    } else {
        "csr_name"
    };
    let repo = read
        .string("github_repo")
        .or_else(|| read.string("csr_name").filter(|name| name.contains('/')));
    let connection = read.string("github_connection");
    let empty = SourceRepo::GitHub {
        owner: String::new(),
        name: String::new(),
        connection: String::new(),
    };
    if framework == Framework::CloudBuild {
        let (Some(repo), Some(connection)) = (repo, connection) else {
            // AutoMLOps 1.3 notebooks choose GitHub (its default) and build with GitHub
            // Actions; they compile, without a Cloud Build trigger.
            read.diagnostics.push(
                Diagnostic::warning(
                    at("source_repo_type"),
                    "with `source_repo_type` github, the CI trigger needs `github_repo` and `github_connection`; without them no trigger is created",
                )
                .with_hint("connect GitHub once in the Cloud Build console, then pass `github_repo=\"owner/name\"` and `github_connection=\"projects/P/locations/L/connections/NAME\"`, or pass `deployment_framework=\"github-actions\"`"),
            );
            return empty;
        };
        let owner_name = checked_github_repository(read, spans, &repo);
        let parts: Vec<&str> = connection.split('/').collect();
        let well_formed = parts.len() == 6
            && parts[0] == "projects"
            && parts[2] == "locations"
            && parts[4] == "connections"
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            });
        if !well_formed {
            read.diagnostics.push(
                Diagnostic::error(at("github_connection").or(at("source_repo_type")), format!("`github_connection` must be a Cloud Build connection name, not `{connection}`"))
                    .with_hint("connect GitHub once in the Cloud Build console (it needs your GitHub login), then pass its name: `projects/my-project/locations/us-central1/connections/github`"),
            );
        }
        // With a malformed repository the compile fails anyway; keep checking the rest.
        let (owner, name) = owner_name.unwrap_or((repo.as_str(), ""));
        return SourceRepo::GitHub {
            owner: owner.to_owned(),
            name: name.to_owned(),
            connection,
        };
    }
    // GitHub Actions: the pool automlops creates admits this one repository.
    if let Some(repo) = repo {
        let (owner, name) = checked_github_repository(read, spans, &repo).unwrap_or(("", ""));
        return SourceRepo::GitHub {
            owner: owner.to_owned(),
            name: name.to_owned(),
            connection: String::new(),
        };
    }
    if !run_local && !identity_given {
        read.diagnostics.push(
            Diagnostic::error(
                at(named_by).or(at("deployment_framework")),
                "GitHub Actions authenticates to Google Cloud through a Workload Identity pool that admits only this pipeline's repository: name it as owner/name",
            )
            .with_hint("pass `source_repo_name=\"my-org/my-repo\"` (or `github_repo`), or name an existing pool with `project_number` and the `workload_identity_*` options"),
        );
    }
    empty
}

fn checked_github_repository<'r>(
    read: &mut Reader<'_>,
    spans: &BTreeMap<&'static str, Span>,
    repo: &'r str,
) -> Option<(&'r str, &'r str)> {
    let owner_name = github_repository(repo);
    if owner_name.is_none() {
        read.diagnostics.push(
            Diagnostic::error(
                spans
                    .get("github_repo")
                    .or(spans.get("csr_name"))
                    .or(spans.get("source_repo_type"))
                    .copied(),
                format!("`github_repo` must name the repository as owner/name, not `{repo}`"),
            )
            .with_hint(
                "pass `github_repo=\"my-org/my-repo\"` (or `--github-repo my-org/my-repo`), without `.git`",
            ),
        );
    }
    owner_name
}

/// A GitLab project, `group/project` (subgroups allowed), named by `source_repo_name`.
fn gitlab(
    read: &mut Reader<'_>,
    spans: &BTreeMap<&'static str, Span>,
    run_local: bool,
) -> SourceRepo {
    let at = spans
        .get("csr_name")
        .or(spans.get("source_repo_type"))
        .copied();
    let path = read.string("csr_name").filter(|p| p.contains('/'));
    let Some(path) = path else {
        if !run_local {
            read.diagnostics.push(
                Diagnostic::error(
                    at.or(spans.get("deployment_framework").copied()),
                    "GitLab CI authenticates to Google Cloud through a Workload Identity pool that admits only this pipeline's project: name it by its path, group/project",
                )
                .with_hint("pass `source_repo_name=\"my-group/my-project\"`"),
            );
        }
        return SourceRepo::GitLab {
            project: String::new(),
        };
    };
    // GitLab paths: segments of letters, digits, `_`, `-` and `.`, not starting or ending
    // with a special character.
    let valid = path.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && segment.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && !segment.ends_with(['-', '.'])
            && !segment.to_ascii_lowercase().ends_with(".git")
    });
    if !valid {
        read.diagnostics.push(
            Diagnostic::error(
                at,
                format!("`source_repo_name` must be a GitLab project path, group/project, not `{path}`"),
            )
            .with_hint("pass the path as GitLab shows it in the project's URL, e.g. `my-group/my-project`, without `.git`"),
        );
    }
    SourceRepo::GitLab { project: path }
}
