//! Entries of `packages_to_install`, checked as requirements (PEP 508) before they become lines
//! of the image's `requirements.txt`: a name, extras, version specifiers or a URL, and markers,
//! on one line; or a bare URL (`git+https://...`), which pip reads there too. Never a pip
//! option (`--extra-index-url ...` would change where the image installs from), never a
//! second line.

use std::sync::OnceLock;

use regex::Regex;

const NAME: &str = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?";

fn grammar() -> Option<&'static (Regex, Regex)> {
    static GRAMMAR: OnceLock<Option<(Regex, Regex)>> = OnceLock::new();
    GRAMMAR
        .get_or_init(|| {
            let one = r"(?:===|~=|==|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9_.*+!-]+";
            let spec = format!(r"\(?[ \t]*{one}(?:[ \t]*,[ \t]*{one})*[ \t]*\)?");
            let extras = format!(r"\[[ \t]*(?:{NAME}(?:[ \t]*,[ \t]*{NAME})*)?[ \t]*\]");
            let requirement = format!(
                r"^[ \t]*{NAME}[ \t]*(?:{extras})?[ \t]*(?:{spec}|@[ \t]*[^\s;]+(?:[ \t]+|$))?[ \t]*(?:;[ -~]+)?$"
            );
            let url = r"^[a-z][a-z0-9+.-]*://[^\s]+$";
            Some((Regex::new(&requirement).ok()?, Regex::new(url).ok()?))
        })
        .as_ref()
}

/// Why `entry` is no requirement `requirements.txt` may hold, if it is not.
pub(crate) fn problem(entry: &str) -> Option<String> {
    if let Some(c) = entry.chars().find(|c| c.is_control()) {
        return Some(if matches!(c, '\n' | '\r') {
            "it spans several lines".to_owned()
        } else {
            format!("it contains the control character {c:?}")
        });
    }
    if entry.trim_start().starts_with('-') {
        return Some("it is a pip option, not a package".to_owned());
    }
    let (requirement, url) = grammar()?;
    if requirement.is_match(entry) || url.is_match(entry) {
        None
    } else if entry.trim().is_empty() {
        Some("it is empty".to_owned())
    } else {
        Some("it is not a package name with optional extras, versions or markers".to_owned())
    }
}

/// What to write instead.
pub(crate) const HINT: &str = "give a package, optionally with a version, e.g. `pandas==2.2.3`, `pandas>=2,<3` or `pandas[excel]`; pip options (another index, trusted hosts) do not belong in a component";

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn requirements_pass() {
        for entry in [
            "pandas",
            "pandas==2.2.3",
            "pandas >= 2.0, < 3",
            "scikit-learn~=1.5.0",
            "google-cloud-bigquery[pandas]==3.25.0",
            "tensorflow==2.15.*; python_version >= \"3.9\"",
            "numpy (>=1.26)",
            "mypkg @ https://example.com/mypkg-1.0.tar.gz",
            "git+https://github.com/org/repo.git@v1.2",
            "Flask_Cors",
        ] {
            assert_eq!(problem(entry), None, "{entry}");
        }
    }

    #[test]
    fn options_and_second_lines_fail() {
        for entry in [
            "pandas\n--extra-index-url http://evil.example/simple",
            "--trusted-host evil.example",
            "-r other.txt",
            "pandas\r",
            "",
            "pandas==",
            "pan das",
            "pandas; \u{7}",
            "./local.whl",
        ] {
            assert!(problem(entry).is_some(), "{entry:?}");
        }
    }
}
