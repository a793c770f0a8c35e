//! `automlops plan-summary`: reads a Terraform plan (`terraform show -json PLANFILE`) and writes
//! the review a pull request needs, in Markdown: what is added, changed, replaced and destroyed;
//! every IAM grant and revocation; and, at the top where nobody can miss them, stateful
//! resources destroyed or replaced (their data is lost), grants to `allUsers` or
//! `allAuthenticatedUsers`, and primitive roles. The generated CI of every deployment framework
//! posts it on the pull request.
//!
//! In: the plan JSON's text. Out: a [`Summary`], rendered by [`Summary::markdown`]; no I/O.

mod plan_json;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use plan_json::{Action, Plan, ResourceChange};

/// Resource types that hold data: destroying or replacing one loses it.
const STATEFUL: &[(&str, &str)] = &[
    ("google_artifact_registry_repository", "repository"),
    ("google_bigquery_dataset", "dataset_id"),
    ("google_bigquery_table", "table_id"),
    ("google_bigtable_instance", "name"),
    ("google_compute_disk", "name"),
    ("google_filestore_instance", "name"),
    ("google_firestore_database", "name"),
    ("google_kms_crypto_key", "name"),
    ("google_kms_key_ring", "name"),
    ("google_secret_manager_secret", "secret_id"),
    ("google_sourcerepo_repository", "name"),
    ("google_spanner_database", "name"),
    ("google_sql_database_instance", "name"),
    ("google_storage_bucket", "name"),
    ("google_vertex_ai_dataset", "display_name"),
];

/// Roles that grant (nearly) everything of a kind on the project: owner, editor, viewer.
const PRIMITIVE_ROLES: &[&str] = &["roles/owner", "roles/editor", "roles/viewer"];

/// Members that mean anyone, signed in to Google or not.
const PUBLIC_MEMBERS: &[&str] = &["allUsers", "allAuthenticatedUsers"];

/// Where an IAM resource grants: the attribute naming its target, by how the provider names it.
const IAM_TARGETS: &[&str] = &[
    "bucket",
    "repository",
    "service_account_id",
    "secret_id",
    "topic",
    "subscription",
    "dataset_id",
    "workload_identity_pool_id",
    "name",
    "project",
];

/// How many changed attributes of one resource the folded details list.
const ATTRIBUTES_SHOWN: usize = 12;

/// Shown where a value is only known after apply.
const UNKNOWN: &str = "(known after apply)";

#[derive(Debug, thiserror::Error)]
pub enum PlanSummaryError {
    #[error(
        "not a Terraform plan in JSON: {0} (write one with `terraform show -json PLANFILE > plan.json`)"
    )]
    Json(#[from] serde_json::Error),
    #[error(
        "plan format {0} is not one automlops reads (it reads format 1.x, Terraform 1.0 and later)"
    )]
    Format(String),
}

/// A grant or a revocation of one role to one member.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IamChange {
    pub granted: bool,
    pub role: String,
    pub member: String,
    /// What the role is held on (`project my-project`, `storage_bucket my-bucket`).
    pub on: String,
    pub address: String,
}

/// A resource that holds data and that the plan destroys or replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatefulLoss {
    pub address: String,
    pub description: String,
    pub replaced: bool,
    /// The attributes forcing a replacement.
    pub forced_by: Vec<String>,
}

/// One resource change, for the folded list.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    action: Action,
    address: String,
    attributes: Vec<String>,
}

/// What a plan does, for review.
#[derive(Debug)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    pub iam: Vec<IamChange>,
    pub stateful: Vec<StatefulLoss>,
    errored: bool,
    terraform_version: Option<String>,
    lines: Vec<Line>,
}

/// Reads a plan and summarizes it.
pub fn summarize(json: &str) -> Result<Summary, PlanSummaryError> {
    let plan: Plan = serde_json::from_str(json)?;
    if !plan.format_version.starts_with("1.") {
        return Err(PlanSummaryError::Format(plan.format_version));
    }
    let mut summary = Summary {
        add: 0,
        change: 0,
        replace: 0,
        destroy: 0,
        iam: Vec::new(),
        stateful: Vec::new(),
        errored: plan.errored,
        terraform_version: plan.terraform_version,
        lines: Vec::new(),
    };
    for resource in &plan.resource_changes {
        if resource.mode.as_deref() == Some("data") {
            continue;
        }
        let action = resource.change.action();
        match action {
            Action::Create => summary.add += 1,
            Action::Update => summary.change += 1,
            Action::Replace => summary.replace += 1,
            Action::Destroy => summary.destroy += 1,
            Action::Nothing => continue,
        }
        if matches!(action, Action::Destroy | Action::Replace)
            && let Some(loss) = stateful_loss(resource, action)
        {
            summary.stateful.push(loss);
        }
        summary.iam.extend(iam_changes(resource));
        summary.lines.push(Line {
            action,
            address: resource.address.clone(),
            attributes: attribute_changes(resource),
        });
    }
    summary.iam.sort();
    summary
        .lines
        .sort_by(|a, b| (a.action, &a.address).cmp(&(b.action, &b.address)));
    Ok(summary)
}

impl Summary {
    /// Whether the plan destroys or replaces a resource that holds data: `plan-summary` exits
    /// with 2, so a pipeline can ask for a label or an approval.
    #[must_use]
    pub fn loses_state(&self) -> bool {
        !self.stateful.is_empty()
    }

    /// The grants that must be seen first: anyone on the internet, or a primitive role.
    fn alarming(&self) -> impl Iterator<Item = &IamChange> {
        self.iam.iter().filter(|c| {
            c.granted
                && (PUBLIC_MEMBERS.contains(&c.member.as_str())
                    || PRIMITIVE_ROLES.contains(&c.role.as_str()))
        })
    }

    /// The review, in GitHub- and GitLab-flavoured Markdown.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let total = self.add + self.change + self.replace + self.destroy;
        let _ = writeln!(
            out,
            "### Terraform plan: {} to add, {} to change, {} to replace, {} to destroy\n",
            self.add, self.change, self.replace, self.destroy
        );
        if self.errored {
            out.push_str("> [!CAUTION]\n> **The plan failed part-way**: what follows is incomplete; read the job's log.\n\n");
        }
        if !self.stateful.is_empty() {
            out.push_str("> [!CAUTION]\n> **This plan destroys or replaces resources that hold data; what they hold is lost:**\n");
            for loss in &self.stateful {
                let how = if loss.replaced {
                    if loss.forced_by.is_empty() {
                        "**replaced**".to_owned()
                    } else {
                        format!(
                            "**replaced** (forced by {})",
                            loss.forced_by
                                .iter()
                                .map(|a| code(a))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                } else {
                    "**destroyed**".to_owned()
                };
                let _ = writeln!(
                    out,
                    "> - {} ({}) is {how}",
                    code(&loss.address),
                    loss.description
                );
            }
            out.push('\n');
        }
        let alarming: Vec<&IamChange> = self.alarming().collect();
        if !alarming.is_empty() {
            out.push_str("> [!WARNING]\n");
            for grant in alarming {
                let why = if PUBLIC_MEMBERS.contains(&grant.member.as_str()) {
                    "**public access**: anyone,"
                } else {
                    "**primitive role**:"
                };
                let _ = writeln!(
                    out,
                    "> - {why} {}, is granted {} on {} ({})",
                    code(&grant.member),
                    code(&grant.role),
                    grant.on,
                    code(&grant.address)
                );
            }
            out.push('\n');
        }
        if total == 0 {
            out.push_str("No changes: the infrastructure matches the configuration.\n");
            return out;
        }
        out.push_str("| Add | Change | Replace | Destroy |\n| ---: | ---: | ---: | ---: |\n");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |\n",
            self.add, self.change, self.replace, self.destroy
        );
        if !self.iam.is_empty() {
            let _ = writeln!(
                out,
                "**IAM: {} grant{}, {} revocation{}**\n",
                self.iam.iter().filter(|c| c.granted).count(),
                plural(self.iam.iter().filter(|c| c.granted).count()),
                self.iam.iter().filter(|c| !c.granted).count(),
                plural(self.iam.iter().filter(|c| !c.granted).count()),
            );
            out.push_str("| | Role | Member | On |\n| --- | --- | --- | --- |\n");
            let mut rows: Vec<&IamChange> = self.iam.iter().collect();
            // Revocations first, then grants; each by role and member.
            rows.sort_by_key(|c| (c.granted, &c.role, &c.member, &c.on));
            for change in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    if change.granted { "grant" } else { "revoke" },
                    cell(&code(&change.role)),
                    cell(&code(&change.member)),
                    cell(&change.on)
                );
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "<details><summary>Every change ({total})</summary>\n\n| Action | Resource | Attributes |\n| --- | --- | --- |"
        );
        for line in &self.lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                line.action.verb(),
                cell(&code(&line.address)),
                cell(&line.attributes.join("<br>"))
            );
        }
        out.push_str("\n</details>\n");
        if let Some(version) = &self.terraform_version {
            let _ = writeln!(
                out,
                "\n<sub>Planned by Terraform {}; summarized by automlops {}.</sub>",
                version.replace(['<', '>', '\n'], ""),
                env!("CARGO_PKG_VERSION")
            );
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A Markdown code span that holds `text` whatever it contains.
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let mut fence = "`".to_owned();
    while text.contains(fence.as_str()) {
        fence.push('`');
    }
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Text inside a table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn stateful_loss(resource: &ResourceChange, action: Action) -> Option<StatefulLoss> {
    let (_, name_attr) = STATEFUL.iter().find(|(kind, _)| *kind == resource.kind)?;
    let name = resource
        .change
        .before
        .get(name_attr)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let description = match name {
        Some(name) => format!("{} {}", words(&resource.kind), code(&name)),
        None => words(&resource.kind),
    };
    let forced_by = resource
        .change
        .replace_paths
        .iter()
        .map(|path| {
            path.iter()
                .map(|step| match step {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    Some(StatefulLoss {
        address: resource.address.clone(),
        description,
        replaced: action == Action::Replace,
        forced_by,
    })
}

/// The (role, member) pairs an IAM resource's values hold: `_iam_member` one, `_iam_binding`
/// one role to several members, `_iam_policy` every binding of its `policy_data`.
fn iam_pairs(kind: &str, values: &Value, unknown: &Value) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    if values.is_null() {
        return pairs;
    }
    let text = |key: &str| -> String {
        if unknown.get(key) == Some(&Value::Bool(true)) {
            return UNKNOWN.to_owned();
        }
        values
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(UNKNOWN)
            .to_owned()
    };
    if kind.ends_with("_iam_member") {
        pairs.insert((text("role"), text("member")));
    } else if kind.ends_with("_iam_binding") {
        let role = text("role");
        match values.get("members").and_then(Value::as_array) {
            Some(members) if unknown.get("members") != Some(&Value::Bool(true)) => {
                for (i, member) in members.iter().enumerate() {
                    let known = unknown
                        .get("members")
                        .and_then(|u| u.get(i))
                        .is_none_or(|u| u != &Value::Bool(true));
                    let member = member.as_str().filter(|_| known).unwrap_or(UNKNOWN);
                    pairs.insert((role.clone(), member.to_owned()));
                }
            }
            _ => {
                pairs.insert((role, UNKNOWN.to_owned()));
            }
        }
    } else if kind.ends_with("_iam_policy") {
        let policy = values
            .get("policy_data")
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        let bindings = policy
            .as_ref()
            .and_then(|p| p.get("bindings"))
            .and_then(Value::as_array);
        match bindings {
            Some(bindings) => {
                for binding in bindings {
                    let role = binding
                        .get("role")
                        .and_then(Value::as_str)
                        .unwrap_or(UNKNOWN);
                    for member in binding
                        .get("members")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        pairs.insert((
                            role.to_owned(),
                            member.as_str().unwrap_or(UNKNOWN).to_owned(),
                        ));
                    }
                }
            }
            None => {
                pairs.insert(("(a whole policy)".to_owned(), UNKNOWN.to_owned()));
            }
        }
    }
    pairs
}

/// The resource types that grant roles end so.
const IAM_SUFFIXES: [&str; 3] = ["_iam_member", "_iam_binding", "_iam_policy"];

fn is_iam(kind: &str) -> bool {
    IAM_SUFFIXES.iter().any(|suffix| kind.ends_with(suffix))
}

/// A resource type in words: `google_storage_bucket` is `storage bucket`.
fn words(kind: &str) -> String {
    kind.strip_prefix("google_")
        .unwrap_or(kind)
        .replace('_', " ")
}

/// What an IAM resource's role is held on, e.g. ``storage bucket `b` ``.
fn iam_target(resource: &ResourceChange) -> String {
    let kind = IAM_SUFFIXES
        .iter()
        .find_map(|suffix| resource.kind.strip_suffix(suffix))
        .unwrap_or(&resource.kind);
    let values = if resource.change.after.is_null() {
        &resource.change.before
    } else {
        &resource.change.after
    };
    let name = IAM_TARGETS
        .iter()
        .find_map(|key| values.get(key).and_then(Value::as_str));
    // The provider names a bucket of a bucket IAM resource `b/NAME`.
    let name = name.map(|n| n.strip_prefix("b/").unwrap_or(n));
    format!("{} {}", words(kind), code(name.unwrap_or(UNKNOWN)))
}

fn iam_changes(resource: &ResourceChange) -> Vec<IamChange> {
    if !is_iam(&resource.kind) {
        return Vec::new();
    }
    let change = &resource.change;
    let before = iam_pairs(&resource.kind, &change.before, &Value::Null);
    let after = iam_pairs(&resource.kind, &change.after, &change.after_unknown);
    let on = iam_target(resource);
    let entry = |granted: bool, (role, member): &(String, String)| IamChange {
        granted,
        role: role.clone(),
        member: member.clone(),
        on: on.clone(),
        address: resource.address.clone(),
    };
    let mut out: Vec<IamChange> = before
        .difference(&after)
        .map(|pair| entry(false, pair))
        .collect();
    out.extend(after.difference(&before).map(|pair| entry(true, pair)));
    out
}

/// The attributes a change sets or changes, as `name: before → after` (top level only).
fn attribute_changes(resource: &ResourceChange) -> Vec<String> {
    let change = &resource.change;
    let empty = serde_json::Map::new();
    let before = change.before.as_object().unwrap_or(&empty);
    let after = change.after.as_object().unwrap_or(&empty);
    let mut keys: BTreeSet<&String> = after.keys().collect();
    if let Some(unknown) = change.after_unknown.as_object() {
        keys.extend(unknown.keys());
    }
    let mut lines = Vec::new();
    for key in keys {
        let was = before.get(key).filter(|v| !v.is_null());
        let unknown = change.after_unknown.get(key) == Some(&Value::Bool(true));
        let now = after.get(key).filter(|v| !v.is_null());
        if !unknown && was == now {
            continue;
        }
        if !unknown && now.is_none() && change.action() == Action::Create {
            continue;
        }
        let shown = |value: Option<&Value>, sensitive: &Value| -> String {
            if sensitive.get(key).is_some_and(holds_true) {
                return "(sensitive)".to_owned();
            }
            match value {
                None => "null".to_owned(),
                Some(value) => short(value),
            }
        };
        let now_text = if unknown {
            UNKNOWN.to_owned()
        } else {
            shown(now, &change.after_sensitive)
        };
        let line = if change.action() == Action::Create || was.is_none() {
            format!("{}: {}", code(key), code(&now_text))
        } else {
            format!(
                "{}: {} → {}",
                code(key),
                code(&shown(was, &change.before_sensitive)),
                code(&now_text)
            )
        };
        lines.push(line);
    }
    if lines.len() > ATTRIBUTES_SHOWN {
        let more = lines.len() - ATTRIBUTES_SHOWN;
        lines.truncate(ATTRIBUTES_SHOWN);
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// Whether a sensitivity mask marks anything: `true`, or a `true` inside its lists and maps.
fn holds_true(mask: &Value) -> bool {
    match mask {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(holds_true),
        Value::Object(map) => map.values().any(holds_true),
        _ => false,
    }
}

/// A value in at most 80 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        text
    } else {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    }
}
