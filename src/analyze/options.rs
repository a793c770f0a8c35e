//! Resolves the options: the last `AutoMLOps.go(...)`/`generate(...)` call of the notebook,
//! then command-line flags, then `AutoMLOps` 1.0's defaults. Also checks them, so a bad bucket
//! name fails here rather than at `terraform apply`.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::settings::SourceRepo;
use crate::model::settings::{
    NO_SCHEDULE, OPTIONS, OptionKind, RENAMED, UNSUPPORTED_OPTIONS, option_spec,
};
use crate::model::{Settings, is_relative_path};

use super::naming::{
    check_regions, check_resource_names, derived_account_id, is_project_id, unpinned_image,
};
use super::scan::{Arg, OptionsCall};
use super::suggest::did_you_mean;
use super::value::{Kind, Value};

/// The project ID that stands in for a missing one, so the rest is still checked.
const MISSING_PROJECT: &str = "missing-project-id";

/// An option's value after reading the notebook and the flags, with where it came from.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) settings: Settings,
    /// Whether `use_kfp_spec` was given; if not, the syntax the notebook uses decides.
    pub(crate) use_kfp_spec_given: bool,
    /// `pipeline_params`, still as a value so entries keep their spans.
    pub(crate) pipeline_params: Option<Value>,
    /// AutoMLOps's `custom_training_job_specs`, read against the components.
    pub(crate) custom_training_job_specs: Option<Value>,
}

/// Command-line flags, as raw text keyed by option name (snake case).
pub(crate) type FlagValues = BTreeMap<String, String>;

/// The options call that compiles: the one in cell `chosen` (counted from 1, as the notebook's
/// cells are), or else the notebook's last. `Err` when that cell has none (reported).
pub(crate) fn chosen_call<'a>(
    calls: &'a [OptionsCall],
    chosen: Option<usize>,
    diagnostics: &mut Diagnostics,
) -> Result<Option<&'a OptionsCall>, ()> {
    let Some(cell) = chosen else {
        return Ok(calls.last());
    };
    let in_cell = calls.iter().rev().find(|call| call.span.cell + 1 == cell);
    if in_cell.is_none() {
        let mut call_cells: Vec<String> = calls
            .iter()
            .map(|c| (c.span.cell + 1).to_string())
            .collect();
        call_cells.dedup();
        diagnostics.push(
            Diagnostic::error(None, format!("`--options-call {cell}`: cell {cell} calls neither `AutoMLOps.go`, `generate` nor `launchAll`"))
                .with_hint(if call_cells.is_empty() {
                    "the notebook has no options call".to_owned()
                } else {
                    format!("the notebook's options calls are in cell {}", call_cells.join(", "))
                }),
        );
        return Err(());
    }
    Ok(in_cell)
}

pub(crate) fn resolve(
    call: Option<&OptionsCall>,
    flags: &FlagValues,
    flag_params: Option<&serde_json::Map<String, serde_json::Value>>,
    diagnostics: &mut Diagnostics,
) -> Resolved {
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut spans: BTreeMap<&'static str, Span> = BTreeMap::new();
    let mut custom_training_job_specs = None;
    // The name each option was given by in the notebook (`artifact_repo_name` for ours
    // `af_registry_name`), for messages in the notebook's own words.
    let mut written: BTreeMap<&'static str, String> = BTreeMap::new();
    if let Some(call) = call {
        for Arg { name, span, value } in &call.args {
            // AutoMLOps 1.2+ writes every option out, `None` meaning "the default" (derived
            // from `naming_prefix` and `project_id` where AutoMLOps derives it).
            if value.kind == Kind::None && name != "project_id" {
                continue;
            }
            // AutoMLOps 1.2+ names the same options differently.
            if name == "use_ci" {
                let value = match value.kind {
                    Kind::Bool(use_ci) => Value::new(Kind::Bool(!use_ci), value.span),
                    _ => value.clone(),
                };
                use_ci_disagrees(&values, "run_local", &value, *span, diagnostics);
                spans.insert("run_local", *span);
                values.insert("run_local", value);
                written.insert("run_local", name.clone());
                continue;
            }
            if name == "custom_training_job_specs" {
                custom_training_job_specs = Some(value.clone());
                continue;
            }
            let as_written = name;
            let name = RENAMED
                .iter()
                .find(|(later, _)| later == name)
                .map_or(name.as_str(), |(_, ours)| *ours);
            if let Some((_, unused)) = UNSUPPORTED_OPTIONS.iter().find(|(n, _)| *n == name) {
                let is_unused = matches!(value.kind, Kind::None | Kind::Bool(false))
                    || unused.contains(&"*")
                    || value.as_str().is_some_and(|v| unused.contains(&v));
                if !is_unused {
                    diagnostics.push(
                        Diagnostic::warning(
                            *span,
                            format!("option `{name}` of AutoMLOps is not supported and is ignored"),
                        )
                        .with_hint(
                            "the pipeline compiles without it; the README lists what is supported",
                        ),
                    );
                }
                continue;
            }
            let Some(spec) = option_spec(name) else {
                let names = OPTIONS.iter().map(|o| o.name);
                diagnostics.push(
                    Diagnostic::warning(
                        *span,
                        format!("option `{name}` is not supported by automlops and is ignored"),
                    )
                    .with_optional_hint(
                        did_you_mean(name, names).map(|s| format!("did you mean `{s}`?")),
                    ),
                );
                continue;
            };
            if spec.name == "run_local" {
                use_ci_disagrees(&values, "run_local", value, *span, diagnostics);
            }
            // (`use_ci` and `run_local` may agree: `use_ci_disagrees` checks them.)
            if let Some(other) = written
                .get(spec.name)
                .filter(|other| *other != as_written && spec.name != "run_local")
            {
                diagnostics.push(
                    Diagnostic::error(*span, format!("`{as_written}` and `{other}` are one option (named once as in AutoMLOps 1.0, once as in 1.2), given twice"))
                        .with_hint("keep one of them"),
                );
            }
            spans.insert(spec.name, *span);
            values.insert(spec.name, value.clone());
            written.insert(spec.name, as_written.clone());
        }
    }
    for (name, text) in flags {
        let Some(spec) = option_spec(name) else {
            continue;
        };
        let value = match spec.kind {
            OptionKind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Kind::Bool(true),
                "false" | "0" | "no" => Kind::Bool(false),
                _ => {
                    diagnostics.push(Diagnostic::error(
                        None,
                        format!(
                            "`--{}` takes `true` or `false`, not `{text}`",
                            spec.name.replace('_', "-")
                        ),
                    ));
                    continue;
                }
            },
            _ => Kind::Str(text.clone()),
        };
        spans.remove(spec.name);
        values.insert(spec.name, Value::new(value, None));
    }
    if let Some(params) = flag_params {
        spans.remove("pipeline_params");
        values.insert(
            "pipeline_params",
            json_to_value(&serde_json::Value::Object(params.clone())),
        );
    }

    let mut read = Reader {
        values: &values,
        written: &written,
        diagnostics,
    };
    let project_id = read.string("project_id");
    // Without a project ID the rest is still checked, so one run lists every mistake; the
    // stand-in is a valid ID, so nothing derived from it is reported.
    let project_id = project_id.unwrap_or_else(|| {
        if !values.contains_key("project_id") {
            read.diagnostics.push(
                Diagnostic::error(call.map(|call| call.span), "no project ID: `project_id` is required")
                    .with_hint("pass `project_id=\"my-project\"` to `AutoMLOps.generate(...)`, or `--project-id my-project` (`-p PROJECT_ID=my-project` sets the notebook's constant)"),
            );
        }
        MISSING_PROJECT.to_owned()
    });
    let default = |name: &str| {
        OPTIONS
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.default.to_owned())
            .unwrap_or_default()
    };
    let string =
        |read: &mut Reader<'_>, name: &str| read.string(name).unwrap_or_else(|| default(name));
    // With a naming prefix, the names not given follow AutoMLOps 1.2's scheme, so two
    // pipelines can live in one project; the runner account stays AutoMLOps's own.
    let naming_prefix = read.string("naming_prefix").filter(|p| !p.is_empty());
    let mut derived: Vec<&'static str> = Vec::new();
    let mut named = |read: &mut Reader<'_>, name: &'static str, suffix: &str| {
        read.string(name).unwrap_or_else(|| match &naming_prefix {
            Some(prefix) => {
                derived.push(name);
                format!("{prefix}-{suffix}")
            }
            None => default(name),
        })
    };
    let af_registry_name = named(&mut read, "af_registry_name", "artifact-registry");
    let cb_trigger_name = named(&mut read, "cb_trigger_name", "build-trigger");
    let cloud_run_name = named(&mut read, "cloud_run_name", "job-submission-svc");
    let csr_name = named(&mut read, "csr_name", "repository");
    let schedule_name = named(&mut read, "schedule_name", "schedule");
    let gs_bucket_name = read
        .string("gs_bucket_name")
        .unwrap_or_else(|| match &naming_prefix {
            Some(prefix) => {
                derived.push("gs_bucket_name");
                format!("{project_id}-{prefix}-bucket")
            }
            None => format!("{project_id}-bucket"),
        });
    let gs_bucket_location = string(&mut read, "gs_bucket_location");
    // The accounts automlops adds (AutoMLOps has none) are valid whatever the prefix.
    let (scheduler_sa_id, cloudbuild_sa_id) = match &naming_prefix {
        Some(prefix) => (
            derived_account_id(prefix, "scheduler"),
            derived_account_id(prefix, "cloudbuild"),
        ),
        None => (
            "automlops-scheduler".to_owned(),
            "automlops-cloudbuild".to_owned(),
        ),
    };
    let use_kfp_spec_given = values.contains_key("use_kfp_spec");
    let run_local = read.boolean("run_local").unwrap_or(true);
    let ci = super::ci_options::read(&mut read, &spans, run_local);
    let (planner_sa_id, deployer_sa_id, ci_pool_id) = match &naming_prefix {
        Some(prefix) => (
            derived_account_id(prefix, "planner"),
            derived_account_id(prefix, "deployer"),
            derived_account_id(prefix, "ci"),
        ),
        None => (
            "automlops-planner".to_owned(),
            "automlops-deployer".to_owned(),
            "automlops-ci".to_owned(),
        ),
    };
    let settings = Settings {
        af_registry_location: string(&mut read, "af_registry_location"),
        af_registry_name,
        cb_trigger_location: string(&mut read, "cb_trigger_location"),
        cb_trigger_name,
        cloud_run_location: string(&mut read, "cloud_run_location"),
        cloud_run_name,
        csr_branch_name: string(&mut read, "csr_branch_name"),
        csr_name,
        pipeline_job_location: read
            .string("pipeline_job_location")
            .unwrap_or_else(|| gs_bucket_location.clone()),
        gs_bucket_location,
        gs_bucket_name,
        parameter_values_path: string(&mut read, "parameter_values_path"),
        pipeline_job_spec_path: string(&mut read, "pipeline_job_spec_path"),
        // AutoMLOps 1.2+ keeps this account whatever the prefix.
        pipeline_runner_sa: read
            .string("pipeline_runner_sa")
            .unwrap_or_else(|| format!("vertex-pipelines@{project_id}.iam.gserviceaccount.com")),
        run_local,
        // Cron fields are separated by any whitespace; Cloud Scheduler gets them one space apart.
        schedule: read
            .string("schedule")
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| s != NO_SCHEDULE),
        schedule_location: string(&mut read, "schedule_location"),
        schedule_name,
        use_kfp_spec: read.boolean("use_kfp_spec").unwrap_or(false),
        source_repo: ci.source_repo,
        deployment_framework: ci.framework,
        given_identity: ci.given_identity,
        planner_sa_id,
        deployer_sa_id,
        ci_pool_id,
        base_image: read.string("base_image"),
        experiment: read.string("experiment").filter(|e| !e.is_empty()),
        naming_prefix,
        scheduler_sa_id,
        cloudbuild_sa_id,
        project_id,
    };
    let mut pipeline_params = values.get("pipeline_params").cloned();
    let mut settings = settings;
    // Where the experiment is named: the option (or no place, for the flag), or the key.
    let mut experiment_at = spans.get("experiment").copied();
    if let Some(Value {
        kind: Kind::Dict(entries),
        ..
    }) = &mut pipeline_params
        && let Some(at) = entries.iter().position(|(key, _, _)| key == EXPERIMENT_KEY)
    {
        let (_, key_span, value) = std::sync::Arc::make_mut(entries).remove(at);
        // The option (or `--experiment`) wins over the key, which is then not read at all;
        // `None` means no experiment, as AutoMLOps submits it.
        if settings.experiment.is_none() && value.kind != Kind::None {
            settings.experiment = experiment_name(&value, key_span, read.diagnostics);
            experiment_at = value.span.or(key_span);
        }
    }
    if let Some(name) = &settings.experiment
        && !is_experiment_name(name)
    {
        read.diagnostics.push(
            Diagnostic::error(experiment_at, format!("`{name}` is not a valid Vertex AI Experiment name"))
                .with_hint("use lowercase letters, digits and hyphens, starting with a letter or digit (128 at most)"),
        );
    }
    if let Some(params) = &pipeline_params
        && !matches!(params.kind, Kind::Dict(_))
    {
        read.diagnostics.push(params.unknown_error("`pipeline_params`").unwrap_or_else(|| {
            Diagnostic::error(params.span, format!("`pipeline_params` must be a dict, not {}", params.describe()))
                .with_hint("pass a dict literal, or a variable assigned one: `pipeline_params={\"name\": value}`")
        }));
    }
    let explicit: Vec<&str> = values.keys().copied().collect();
    check(&settings, &spans, &explicit, &derived, read.diagnostics);
    Resolved {
        settings,
        use_kfp_spec_given,
        pipeline_params,
        custom_training_job_specs,
    }
}

/// The `pipeline_params` key that AutoMLOps 1.2+ takes out of the parameters and submits runs
/// into, as the Vertex AI Experiment of that name.
const EXPERIMENT_KEY: &str = "vertex_experiment_tracking_name";

/// The experiment named by `vertex_experiment_tracking_name`, if it is a string known when
/// compiling (its name is checked with the option's).
fn experiment_name(
    value: &Value,
    key_span: Option<Span>,
    diagnostics: &mut Diagnostics,
) -> Option<String> {
    if let Some(diagnostic) = value.unknown_error(&format!("`{EXPERIMENT_KEY}`")) {
        diagnostics.push(diagnostic.with_hint(
            "name the experiment with a literal, or pass `--experiment NAME` when compiling",
        ));
        return None;
    }
    let Some(name) = value.as_str() else {
        diagnostics.push(Diagnostic::error(
            value.span.or(key_span),
            format!(
                "`{EXPERIMENT_KEY}` names a Vertex AI Experiment and must be a string, not {}",
                value.describe()
            ),
        ));
        return None;
    };
    Some(name.to_owned())
}

/// Vertex AI's rule for experiment names (metadata context IDs): `[a-z0-9][a-z0-9-]{0,127}`.
fn is_experiment_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `use_ci` (AutoMLOps 1.2+) is `run_local` inverted: given both, they must agree.
fn use_ci_disagrees(
    values: &BTreeMap<&'static str, Value>,
    name: &str,
    value: &Value,
    span: Span,
    diagnostics: &mut Diagnostics,
) {
    if let (Some(Kind::Bool(before)), Kind::Bool(now)) =
        (values.get(name).map(|v| &v.kind), &value.kind)
        && before != now
    {
        diagnostics.push(
            Diagnostic::error(
                span,
                "`use_ci` and `run_local` disagree: `use_ci=True` means `run_local=False`",
            )
            .with_hint("keep one of them"),
        );
    }
}

pub(super) struct Reader<'a> {
    values: &'a BTreeMap<&'static str, Value>,
    written: &'a BTreeMap<&'static str, String>,
    pub(super) diagnostics: &'a mut Diagnostics,
}

impl Reader<'_> {
    pub(super) fn string(&mut self, option: &str) -> Option<String> {
        let value = self.values.get(option)?;
        let name = self.written.get(option).map_or(option, String::as_str);
        if let Kind::Str(s) = &value.kind {
            return Some(s.clone());
        }
        let diagnostic = value
            .unknown_error(&format!("option `{name}`"))
            .unwrap_or_else(|| {
                Diagnostic::error(
                    value.span,
                    format!("option `{name}` must be a string, not {}", value.describe()),
                )
            });
        self.diagnostics.push(diagnostic);
        None
    }

    pub(super) fn boolean(&mut self, option: &str) -> Option<bool> {
        let value = self.values.get(option)?;
        let name = self.written.get(option).map_or(option, String::as_str);
        if let Kind::Bool(b) = &value.kind {
            Some(*b)
        } else {
            let diagnostic = value
                .unknown_error(&format!("option `{name}`"))
                .unwrap_or_else(|| {
                    Diagnostic::error(
                        value.span,
                        format!(
                            "option `{name}` must be `True` or `False`, not {}",
                            value.describe()
                        ),
                    )
                });
            self.diagnostics.push(diagnostic);
            None
        }
    }
}

pub(crate) fn json_to_value(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    let kind = match json {
        J::Null => Kind::None,
        J::Bool(b) => Kind::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Kind::Int(i),
            None => Kind::Float(n.as_f64().unwrap_or_default()),
        },
        J::String(s) => Kind::Str(s.clone()),
        J::Array(items) => Kind::List(std::sync::Arc::new(
            items.iter().map(json_to_value).collect(),
        )),
        J::Object(map) => Kind::Dict(std::sync::Arc::new(
            map.iter()
                .map(|(k, v)| (k.clone(), None, json_to_value(v)))
                .collect(),
        )),
    };
    Value::new(kind, None)
}

/// Google's naming rules for what the options name, checked before anything is created.
fn check(
    settings: &Settings,
    spans: &BTreeMap<&'static str, Span>,
    explicit: &[&str],
    derived: &[&str],
    diagnostics: &mut Diagnostics,
) {
    let at = |name: &str| spans.get(name).copied();
    let project_ok = is_project_id(&settings.project_id);
    if !project_ok {
        diagnostics.push(
            Diagnostic::error(at("project_id"), format!("`{}` is not a valid Google Cloud project ID", settings.project_id))
                .with_hint("project IDs have 6 to 30 characters: lowercase letters, digits and hyphens, starting with a letter"),
        );
    }
    for name in ["parameter_values_path", "pipeline_job_spec_path"] {
        let path = if name == "parameter_values_path" {
            &settings.parameter_values_path
        } else {
            &settings.pipeline_job_spec_path
        };
        // Directories (with `/`) and files automlops writes itself.
        let generated = [
            "components/",
            "configs/",
            "images/",
            "notebook/",
            "terraform/",
            "cloud_run/",
            "pipelines/pipeline.py",
            "pipelines/pipeline_runner.py",
            "scripts/build_components.sh",
            "scripts/build_pipeline_spec.sh",
            "scripts/create_resources.sh",
            "scripts/run_pipeline.sh",
            "scripts/run_all.sh",
            "README.md",
            ".gitignore",
            ".gcloudignore",
            ".automlops-files",
            "cloudbuild.yaml",
        ];
        if let Some(taken) = generated.iter().find(|g| {
            path == g.trim_end_matches('/')
                || path.starts_with(*g)
                || (!g.ends_with('/') && path.starts_with(&format!("{g}/")))
        }) {
            diagnostics.push(
                Diagnostic::error(at(name), format!("option `{name}` is `{path}`, where automlops writes its own files (`{taken}`)"))
                    .with_hint("choose a path of its own, e.g. under scripts/pipeline_spec/"),
            );
        }
        if let Some(bad) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
        {
            diagnostics.push(
                Diagnostic::error(at(name), format!("option `{name}` contains `{}`; the path is written into shell scripts, Dockerfiles and Cloud Build steps", bad.escape_default()))
                    .with_hint("use letters, digits, `-`, `_`, `.` and `/` only"),
            );
        }
        if path
            .split('/')
            .any(|part| part.eq_ignore_ascii_case(".git"))
        {
            diagnostics.push(
                Diagnostic::error(at(name), format!("option `{name}` is `{path}`, inside the repository's `.git` directory, which a compile must never write"))
                    .with_hint("use a path such as `scripts/pipeline_spec/pipeline_job.json`"),
            );
        }
        if !is_relative_path(path) {
            diagnostics.push(
                Diagnostic::error(at(name), format!("option `{name}` must be a relative path inside the output directory, not `{path}`"))
                    .with_hint("use a path such as `scripts/pipeline_spec/pipeline_job.json`, without `..` or a leading `/`"),
            );
        }
    }
    if settings.parameter_values_path == settings.pipeline_job_spec_path {
        diagnostics.push(Diagnostic::error(
            at("parameter_values_path"),
            "`parameter_values_path` and `pipeline_job_spec_path` name the same file",
        ));
    }
    // Compute Engine's default account holds Editor on its project; granting it the
    // pipeline's roles too defeats least privilege (checkov CKV_GCP_41/46 refuse it).
    if settings
        .pipeline_runner_sa
        .ends_with("-compute@developer.gserviceaccount.com")
    {
        diagnostics.push(
            Diagnostic::error(at("pipeline_runner_sa"), format!("`{}` is Compute Engine's default service account, which has broad rights on its project; pipelines should run as an account of their own", settings.pipeline_runner_sa))
                .with_hint("leave `pipeline_runner_sa` out to create `vertex-pipelines@PROJECT.iam.gserviceaccount.com` with only the roles the pipeline needs"),
        );
    }
    // A derived account is as valid as the project ID, which is checked on its own.
    if explicit.contains(&"pipeline_runner_sa")
        && !super::naming::is_service_account_email(&settings.pipeline_runner_sa)
    {
        diagnostics.push(
            Diagnostic::error(
                at("pipeline_runner_sa"),
                format!(
                    "`{}` is not a service account email",
                    settings.pipeline_runner_sa
                ),
            )
            .with_hint("use the form `name@project-id.iam.gserviceaccount.com` (a service account of Google Cloud, nothing else)"),
        );
    }
    check_resource_names(settings, explicit, derived, &at, diagnostics);
    check_regions(settings, &at, diagnostics);
    if let Some(image) = &settings.base_image
        && let Some(warning) = unpinned_image(image, at("base_image"))
    {
        diagnostics.push(warning);
    }
    if let SourceRepo::GitHub { connection, .. } = &settings.source_repo
        && let Some(location) = connection.split('/').nth(3)
        && location != settings.cb_trigger_location
        && !settings.run_local
    {
        diagnostics.push(
            Diagnostic::error(at("github_connection").or(at("cb_trigger_location")), format!("the GitHub connection is in `{location}`, but the trigger is in `{}`; Cloud Build needs them in the same location", settings.cb_trigger_location))
                .with_hint(format!("pass `cb_trigger_location=\"{location}\"`")),
        );
    }
    // The repository is created beside its connection, in this project: a connection of
    // another project (by ID; a project number cannot be told apart) cannot hold it.
    if let SourceRepo::GitHub { connection, .. } = &settings.source_repo
        && let Some(project) = connection.split('/').nth(1)
        && project != settings.project_id
        && !project.chars().all(|c| c.is_ascii_digit())
        && !settings.run_local
    {
        diagnostics.push(
            Diagnostic::error(at("github_connection").or(at("project_id")), format!("the GitHub connection belongs to project `{project}`, but the pipeline's resources are created in `{}`", settings.project_id))
                .with_hint(format!("connect GitHub in project `{}` (Cloud Build console, Repositories) and pass that connection", settings.project_id)),
        );
    }
    if !settings.run_local && settings.source_repo == SourceRepo::CloudSourceRepositories {
        diagnostics.push(
            Diagnostic::warning(
                at("csr_name").or(at("run_local")),
                "Cloud Source Repositories is closed to new customers since 2024-06-17; the CI trigger uses repository `"
                    .to_owned()
                    + &settings.csr_name
                    + "` there",
            )
            .with_hint("to build from GitHub instead, pass `deployment_framework=\"github-actions\"` with `source_repo_name=\"owner/name\"`, or `source_repo_type=\"github\"` with `github_repo` and `github_connection` for a Cloud Build trigger"),
        );
    }
    if let Some(schedule) = &settings.schedule {
        if settings.run_local {
            diagnostics.push(
                Diagnostic::error(
                    at("schedule"),
                    if explicit.contains(&"run_local") {
                        "a schedule needs the CI workflow, but `run_local` is true"
                    } else {
                        "a schedule needs the CI workflow, but `run_local` is true (the default)"
                    },
                )
                .with_hint("pass `run_local=False` to schedule runs, or drop the schedule"),
            );
        }
        if let Some(problem) = super::cron::problem(schedule) {
            diagnostics.push(
                Diagnostic::error(at("schedule"), format!("`{schedule}` is not a cron schedule Cloud Scheduler accepts: {problem}"))
                    .with_hint("write minute, hour, day of month, month and day of week, e.g. `0 */12 * * *` (twice a day)"),
            );
        }
    }
}
