//! Identifiers of the model and KFP's naming rules.

use std::fmt;

/// A component's name: its Python function name, also the file stem of its source and the
/// directory of its `component.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ComponentName(String);

impl ComponentName {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The name KFP derives for tasks, `comp-` and `exec-` keys.
    pub(crate) fn kfp(&self) -> String {
        kfp_name(&self.0)
    }
}

impl fmt::Display for ComponentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// KFP's `maybe_rename_for_k8s`: lowercase, runs of anything but `[-0-9a-z]` become `-`, runs
/// of `-` collapse, and leading/trailing `-` go.
pub(crate) fn kfp_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.to_lowercase().chars() {
        let ch = if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            ch
        } else {
            '-'
        };
        if ch == '-' && out.ends_with('-') {
            continue;
        }
        out.push(ch);
    }
    out.trim_matches('-').to_owned()
}

/// A plain relative path inside the output directory: no leading `/`, no `.` or `..` or empty
/// part, no `\` or `:` (a Windows path or a drive).
pub(crate) fn is_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains(':')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::kfp_name;

    #[test]
    fn kfp_names_follow_maybe_rename_for_k8s() {
        assert_eq!(kfp_name("create_dataset"), "create-dataset");
        assert_eq!(kfp_name("_Train__Model_"), "train-model");
        assert_eq!(kfp_name("a.b c"), "a-b-c");
    }
}
