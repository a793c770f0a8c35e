//! The parameter values of a local run, checked before anything runs: the same precedence and
//! the same messages as `pipelines/pipeline_runner.py` (`resolve_parameters`) and so as the
//! runner service, from the same schema (`model::parameter_schema`).

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use crate::model::parameter_schema::{SCHEMA_KEY, problems, schema_path};

/// What is wrong with a run's values: one sentence per problem, as the runner says them.
#[derive(Debug)]
pub(crate) struct ParameterProblems(pub(crate) Vec<String>);

/// Reads what a compiled tree at `root` says about its parameters and checks `params`
/// (`NAME=VALUE` each) against them: `Ok(Err(problems))` when a value does not fit.
pub(crate) fn check(
    root: &Path,
    params: &[String],
) -> anyhow::Result<Result<(), ParameterProblems>> {
    let config_path = root.join("configs/defaults.yaml");
    let config: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(&config_path)
            .with_context(|| format!("cannot read `{}`", config_path.display()))?,
    )
    .with_context(|| format!("`{}` is not YAML", config_path.display()))?;
    let setting = |key: &str| -> anyhow::Result<String> {
        match config
            .get("pipelines")
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
        {
            Some(value) => Ok(value.to_owned()),
            None => bail!(
                "`{}` has no value for pipelines.{key}",
                config_path.display()
            ),
        }
    };
    let values_path = setting("parameter_values_path")?;
    let job: Value = read_json(&root.join(setting("pipeline_job_spec_path")?))?;
    let schema: Value = read_json(&root.join(schema_path(&values_path)))?;
    let file_values: Value = read_json(&root.join(&values_path))?;
    Ok(problems_of(
        &job,
        &schema,
        &values_path,
        &file_values,
        params,
    ))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))
}

/// `resolve_parameters` of the runner: the values file, then each `--param` over it, then the
/// whole run (defaults, compiled values, overrides).
fn problems_of(
    job: &Value,
    schema: &Value,
    values_path: &str,
    file_values: &Value,
    params: &[String],
) -> Result<(), ParameterProblems> {
    let file_problems: Vec<String> = problems(schema, file_values, false)
        .into_iter()
        .map(|p| format!("{}: {p}", Path::new(values_path).display()))
        .collect();
    if !file_problems.is_empty() {
        return Err(ParameterProblems(file_problems));
    }
    let definitions = &job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"];
    let mut overrides: Map<String, Value> = file_values.as_object().cloned().unwrap_or_default();
    overrides.shift_remove(SCHEMA_KEY);
    for text in params {
        let (name, value) = parse_param(text, definitions);
        overrides.insert(name, value);
    }
    let mut found = problems(schema, &Value::Object(overrides.clone()), false);
    if found.is_empty() {
        let mut merged = Map::new();
        if let Some(definitions) = definitions.as_object() {
            for (name, definition) in definitions {
                if let Some(default) = definition.get("defaultValue") {
                    merged.insert(name.clone(), default.clone());
                }
            }
        }
        if let Some(compiled) = job["runtimeConfig"]["parameterValues"].as_object() {
            merged.extend(compiled.clone());
        }
        merged.extend(overrides);
        found = problems(schema, &Value::Object(merged), true);
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(ParameterProblems(found))
    }
}

/// `parse_param` of the runner: VALUE is JSON when it parses, else the text itself; a STRING
/// parameter keeps the text unless it is a JSON string (`version=1.0` is "1.0").
fn parse_param(text: &str, definitions: &Value) -> (String, Value) {
    let (name, raw) = text.split_once('=').unwrap_or((text, ""));
    let name = name.trim().to_owned();
    let is_string = definitions[&name]["parameterType"] == "STRING";
    let value = match serde_json::from_str::<Value>(raw) {
        Ok(Value::String(s)) => Value::String(s),
        Ok(value) if !is_string => value,
        _ => Value::String(raw.to_owned()),
    };
    (name, value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job() -> Value {
        json!({
            "pipelineSpec": {"root": {"inputDefinitions": {"parameters": {
                "rows": {"parameterType": "NUMBER_INTEGER"},
                "version": {"parameterType": "STRING", "defaultValue": "1"},
            }}}},
            "runtimeConfig": {"parameterValues": {"rows": 10}},
        })
    }

    fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "$schema": {"type": "string"},
                "rows": {"type": "integer"},
                "version": {"type": "string", "default": "1"},
            },
            "required": ["rows"],
            "additionalProperties": false,
        })
    }

    fn check(params: &[&str]) -> Result<(), Vec<String>> {
        let params: Vec<String> = params.iter().map(|p| (*p).to_owned()).collect();
        let values = json!({"$schema": "x.schema.json", "rows": 10});
        problems_of(&job(), &schema(), "p/values.json", &values, &params).map_err(|p| p.0)
    }

    #[test]
    fn values_are_json_when_they_parse_and_strings_keep_their_text() {
        assert_eq!(check(&["rows=20", "version=1.0"]), Ok(()));
        assert_eq!(check(&["version=\"2\""]), Ok(()));
        assert_eq!(
            parse_param(
                "version=1.0",
                &job()["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
            ),
            ("version".to_owned(), json!("1.0"))
        );
    }

    #[test]
    fn a_wrong_type_or_an_unknown_name_is_refused_with_the_runners_message() {
        assert_eq!(
            check(&["rows=ten"]),
            Err(vec![
                "$.rows: expected an integer, got a string: \"ten\"".to_owned()
            ])
        );
        let unknown = check(&["rowz=3"]).unwrap_err();
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].starts_with("$.rowz: "), "{unknown:?}");
        assert!(
            unknown[0].contains("rows"),
            "suggests the known name: {unknown:?}"
        );
    }

    #[test]
    fn the_values_file_is_checked_first_and_named() {
        let values = json!({"rows": "many"});
        let found = problems_of(&job(), &schema(), "p/values.json", &values, &[]).unwrap_err();
        assert_eq!(
            found.0,
            vec!["p/values.json: $.rows: expected an integer, got a string: \"many\"".to_owned()]
        );
    }

    #[test]
    fn a_run_without_a_value_for_a_parameter_without_default_is_refused() {
        let job = json!({"pipelineSpec": job()["pipelineSpec"].clone()});
        let found = problems_of(&job, &schema(), "p/values.json", &json!({}), &[]).unwrap_err();
        assert_eq!(
            found.0,
            vec![
                "$.rows: required: the parameter has no default, and no value was given".to_owned()
            ]
        );
    }
}
