//! Task methods of kfp: `.set_display_name`, `.set_caching_options`, `.set_cpu_limit`,
//! `.set_memory_limit`, `.set_accelerator_type`, `.set_accelerator_limit`, `.set_retry`,
//! `.set_env_variable`. Their arguments are checked as kfp checks them, at compile time.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Retry, TaskSettings};
use crate::python::ast::{Expr, Keyword};

use super::value::{Env, Kind, Value};

pub(crate) const METHODS: &[&str] = &[
    "set_accelerator_limit",
    "set_accelerator_type",
    "set_caching_options",
    "set_cpu_limit",
    "set_display_name",
    "set_env_variable",
    "set_memory_limit",
    "set_retry",
];

/// One method call: its name, arguments and where it is.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) args: &'a [Expr],
    pub(crate) keywords: &'a [Keyword],
    pub(crate) span: Span,
}

/// Applies one task method to `settings`.
pub(crate) fn apply(
    settings: &mut TaskSettings,
    call: &Call<'_>,
    env: &Env,
    source: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) {
    let parameters: &[&str] = match call.method {
        "set_display_name" => &["name"],
        "set_caching_options" => &["enable_caching", "cache_key"],
        "set_cpu_limit" => &["cpu"],
        "set_memory_limit" => &["memory"],
        "set_accelerator_type" => &["accelerator"],
        "set_accelerator_limit" => &["limit"],
        "set_env_variable" => &["name", "value"],
        "set_retry" => &[
            "num_retries",
            "backoff_duration",
            "backoff_factor",
            "backoff_max_duration",
        ],
        _ => return,
    };
    // Arguments by position or keyword, evaluated statically.
    let mut values: Vec<Option<Value>> = vec![None; parameters.len()];
    for (slot, arg) in values.iter_mut().zip(call.args) {
        *slot = Some(env.eval(arg, source));
    }
    for keyword in call.keywords {
        let Some(index) = keyword
            .name
            .as_deref()
            .and_then(|k| parameters.iter().position(|p| *p == k))
        else {
            diagnostics.push(Diagnostic::error(
                keyword.span,
                format!("`.{}(...)` takes {}", call.method, list(parameters)),
            ));
            return;
        };
        values[index] = Some(env.eval(&keyword.value, source));
    }
    // Parameters after these have defaults.
    let required = match call.method {
        "set_retry" | "set_caching_options" => 1,
        _ => parameters.len(),
    };
    if values.iter().take(required).any(Option::is_none) || call.args.len() > parameters.len() {
        diagnostics.push(Diagnostic::error(
            call.span,
            format!("`.{}(...)` takes {}", call.method, list(parameters)),
        ));
        return;
    }
    // A value only known when the pipeline runs (a pipeline parameter, a task output) or not
    // at all gets its own message rather than a type error.
    for value in values.iter().flatten() {
        if value.to_json().is_none() {
            diagnostics.push(
                Diagnostic::error(
                    value.span.unwrap_or(call.span),
                    format!(
                        "`.{}(...)` needs a value known when compiling, and `{}` is not",
                        call.method,
                        source(value.span.unwrap_or(call.span))
                    ),
                )
                .with_hint("write a literal or a constant of the notebook; task settings from pipeline parameters or task outputs are not supported yet"),
            );
            return;
        }
    }
    // Errors about a value point at the value.
    let value_span = call
        .args
        .first()
        .map(Expr::span)
        .or_else(|| call.keywords.first().map(|k| k.value.span()))
        .unwrap_or(call.span);
    let mut error = |message: String| diagnostics.push(Diagnostic::error(value_span, message));
    let string = |value: &Option<Value>| value.as_ref().and_then(|v| v.as_str().map(str::to_owned));
    match call.method {
        // kfp falls back to the task's name for an empty display name.
        "set_display_name" => match string(&values[0]) {
            Some(name) => settings.display_name = Some(name).filter(|n| !n.is_empty()),
            None => error("`.set_display_name(...)` takes a string".to_owned()),
        },
        "set_caching_options" => match (values[0].as_ref().map(|v| &v.kind), &values[1]) {
            (Some(Kind::Bool(enabled)), key) if key.is_none() || string(key).is_some() => {
                settings.caching = *enabled;
                // As kfp: an empty key is no key.
                settings.cache_key = string(key).filter(|k| !k.is_empty());
            }
            _ => error("`.set_caching_options(...)` takes `True` or `False`, and optionally `cache_key` (a string)".to_owned()),
        },
        "set_cpu_limit" => match string(&values[0]) {
            Some(cpu) if is_cpu(&cpu) => settings.cpu_limit = Some(cpu),
            _ => error("`.set_cpu_limit(...)` takes a string such as \"4\", \"0.5\" or \"500m\"".to_owned()),
        },
        "set_memory_limit" => match string(&values[0]) {
            Some(memory) if is_memory(&memory) => settings.memory_limit = Some(memory),
            _ => error("`.set_memory_limit(...)` takes a string such as \"16G\" or \"512Mi\" (a whole number and a unit E, P, T, G, M, K, Ei, Pi, Ti, Gi, Mi or Ki)".to_owned()),
        },
        "set_accelerator_type" => match string(&values[0]) {
            Some(accelerator) => {
                settings.accelerator_type = Some(accelerator);
                settings.accelerator_count.get_or_insert_with(|| "1".to_owned());
            }
            None => error("`.set_accelerator_type(...)` takes a string such as \"NVIDIA_TESLA_T4\"".to_owned()),
        },
        "set_accelerator_limit" => {
            let count = match values[0].as_ref().map(|v| &v.kind) {
                Some(Kind::Int(n)) if *n >= 0 => Some(n.to_string()),
                Some(Kind::Str(s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => Some(s.clone()),
                _ => None,
            };
            match count {
                Some(count) => settings.accelerator_count = Some(count),
                None => error("`.set_accelerator_limit(...)` takes a whole number of accelerators".to_owned()),
            }
        }
        "set_env_variable" => match (string(&values[0]), string(&values[1])) {
            (Some(name), _) if !is_env_name(&name) => error(format!(
                "`{}` is not an environment variable name Vertex AI accepts: letters, digits, `_`, `-` and `.`, not starting with a digit",
                name.escape_debug()
            )),
            // As kfp's dict: setting a variable again changes its value where it stands.
            (Some(name), Some(value)) => match settings.env.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 = value,
                None => settings.env.push((name, value)),
            },
            _ => error("`.set_env_variable(...)` takes a name and a value, both strings".to_owned()),
        },
        _ => {
            let count = match values[0].as_ref().map(|v| &v.kind) {
                Some(Kind::Int(n)) if *n >= 0 => Some(*n),
                _ => None,
            };
            let duration = |value: &Option<Value>, default: &str| match value {
                None => Some(default.to_owned()),
                Some(v) => v.as_str().and_then(duration_seconds).map(|s| format!("{s}s")),
            };
            // As kfp: a factor of 0 means the default, 2.
            let factor = match values[2].as_ref().map(|v| &v.kind) {
                None => Some(2.0),
                Some(Kind::Float(f)) => Some(if *f == 0.0 { 2.0 } else { *f }),
                #[expect(clippy::cast_precision_loss, reason = "backoff factors are small")]
                Some(Kind::Int(i)) => Some(if *i == 0 { 2.0 } else { *i as f64 }),
                _ => None,
            };
            match (count, duration(&values[1], "0s"), factor, duration(&values[3], "3600s")) {
                (Some(count), Some(backoff_duration), Some(backoff_factor), Some(backoff_max_duration)) => {
                    settings.retry = Some(Retry {
                        count,
                        backoff_duration,
                        backoff_factor,
                        backoff_max_duration,
                    });
                }
                _ => error("`.set_retry(...)` takes `num_retries` (a whole number), and optionally `backoff_duration` and `backoff_max_duration` (a whole number and a unit: \"60s\", \"5m\", \"2 hours\"; units s, m, h, d, w) and `backoff_factor` (a number)".to_owned()),
            }
        }
    }
}

/// A retry duration read as kfp reads it, in seconds: a whole number and a unit whose first
/// letter is `s`, `m`, `h`, `d` or `w` (`"90s"`, `"5m"`, `"2 hours"`), spaces ignored.
/// Anything else (`"30"`, `"1.5s"`, `"-5s"`, `"3y"`) kfp refuses, and so does the compile.
fn duration_seconds(text: &str) -> Option<i64> {
    let text: String = text.chars().filter(|c| *c != ' ').collect();
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (value, unit) = text.split_at(digits);
    if value.is_empty() || unit.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let per_unit = match unit.chars().next()? {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    value.parse::<i64>().ok()?.checked_mul(per_unit)
}

fn list(parameters: &[&str]) -> String {
    parameters
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// kfp's rule: `([0-9]*[.])?[0-9]+m?`.
/// Kubernetes's rule for environment variable names, which Vertex AI runs containers with:
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn is_env_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    name.chars()
        .next()
        .is_some_and(|c| ok(c) && !c.is_ascii_digit())
        && name.chars().all(ok)
}

fn is_cpu(cpu: &str) -> bool {
    let number = cpu.strip_suffix('m').unwrap_or(cpu);
    let (whole, fraction) = number.split_once('.').unwrap_or(("", number));
    !fraction.is_empty()
        && fraction.chars().all(|c| c.is_ascii_digit())
        && whole.chars().all(|c| c.is_ascii_digit())
}

/// kfp's rule: a whole number, then optionally E, P, T, G, M, K, with or without `i`.
fn is_memory(memory: &str) -> bool {
    let digits = memory.chars().take_while(char::is_ascii_digit).count();
    let unit = &memory[digits..];
    digits > 0
        && [
            "", "E", "Ei", "P", "Pi", "T", "Ti", "G", "Gi", "M", "Mi", "K", "Ki",
        ]
        .contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::{duration_seconds, is_cpu, is_memory};

    #[test]
    fn retry_durations_convert_to_seconds_as_kfp_does() {
        for (text, seconds) in [
            ("0s", 0),
            ("90s", 90),
            ("1m", 60),
            ("2h", 7_200),
            ("1 hour", 3_600),
            ("2 hours", 7_200),
            ("3d", 259_200),
            ("1w", 604_800),
        ] {
            assert_eq!(duration_seconds(text), Some(seconds), "{text}");
        }
        for bad in ["30", "1.5s", "abc", "-5s", "3y", "s", "", "5s5", "5S"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn resource_strings_follow_kfp() {
        for good in ["4", "0.5", ".5", "500m"] {
            assert!(is_cpu(good), "{good}");
        }
        for bad in ["4 cores", "m", "1.5.2", ""] {
            assert!(!is_cpu(bad), "{bad}");
        }
        assert!(is_memory("16G") && is_memory("512Mi") && is_memory("1024"));
        assert!(!is_memory("1.5Gi") && !is_memory("16GB") && !is_memory("G"));
    }
}
