//! The part of Terraform's machine-readable plan (`terraform show -json PLANFILE`, format 1.x)
//! that a review needs: each resource change with its actions and its values before and after.
//! Documented at <https://developer.hashicorp.com/terraform/internals/json-format>; fields we do
//! not read are ignored, so later minor formats read too.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(crate) struct Plan {
    pub(crate) format_version: String,
    #[serde(default)]
    pub(crate) terraform_version: Option<String>,
    #[serde(default)]
    pub(crate) resource_changes: Vec<ResourceChange>,
    #[serde(default)]
    pub(crate) errored: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResourceChange {
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) mode: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) change: Change,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    pub(crate) actions: Vec<String>,
    #[serde(default)]
    pub(crate) before: Value,
    #[serde(default)]
    pub(crate) after: Value,
    /// Which values of `after` are only known after apply (`true` at a leaf).
    #[serde(default)]
    pub(crate) after_unknown: Value,
    #[serde(default)]
    pub(crate) before_sensitive: Value,
    #[serde(default)]
    pub(crate) after_sensitive: Value,
    /// The attributes that force the replacement.
    #[serde(default)]
    pub(crate) replace_paths: Vec<Vec<Value>>,
}

/// What a change does, from its `actions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    Destroy,
    Replace,
    Create,
    Update,
    /// `no-op`, `read` (data sources) and `forget` (removed from state, not destroyed).
    Nothing,
}

impl Change {
    pub(crate) fn action(&self) -> Action {
        let actions: Vec<&str> = self.actions.iter().map(String::as_str).collect();
        match actions.as_slice() {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Destroy,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            _ => Action::Nothing,
        }
    }
}

impl Action {
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Action::Destroy => "destroy",
            Action::Replace => "replace",
            Action::Create => "add",
            Action::Update => "change",
            Action::Nothing => "no change",
        }
    }
}
