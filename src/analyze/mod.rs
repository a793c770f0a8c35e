//! Phase 3: analysis. Parsed cells in, a checked model out: which definitions compile (the
//! last `go`/`generate` call's `use_kfp_spec` decides), the resolved settings, the components,
//! the pipeline DAG, the runtime parameter values and the image's requirements.
//!
//! Every check lives here, and each reports a located diagnostic and carries on, so one run
//! lists every mistake of the notebook.

mod annotation;
mod catalogue;
mod ci_options;
mod component_file;
mod container;
mod control;
mod cron;
mod custom;
mod custom_job;
mod docstring;
mod free_names;
mod image_ref;
mod importer;
mod kfp;
mod mutation;
mod naming;
mod options;
mod params;
mod pep508;
pub(crate) use pep508::problem as requirement_problem;
mod prebuilt;
mod read;
mod requirements;
pub(crate) use requirements::KFP_REQUIREMENT;
mod scan;
mod suggest;
mod task_settings;
mod value;
mod wiring;

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{Component, Pipeline, Settings, parameter_schema};
use crate::notebook::Notebook;

/// The base image of `components/component_base` when the notebook does not choose one.
pub(crate) const DEFAULT_BASE_IMAGE: &str = "python:3.12-slim";

/// What the user asked for besides the notebook: flags and `-p` overrides.
#[derive(Clone, Debug)]
pub(crate) struct Inputs<'a> {
    pub(crate) flags: &'a BTreeMap<String, String>,
    pub(crate) pipeline_params: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub(crate) parameters: &'a [(String, String)],
    /// `--options-call CELL`: the options call of that cell compiles, not the last one.
    pub(crate) options_call: Option<usize>,
    /// Where component files the notebook loads are read from.
    pub(crate) files: Option<&'a dyn crate::compile::ReadFile>,
}

#[derive(Clone, Debug)]
pub(crate) struct Analysis {
    pub(crate) settings: Settings,
    /// The components the pipeline uses, in notebook order.
    pub(crate) components: Vec<Component>,
    pub(crate) pipeline: Pipeline,
    pub(crate) parameter_values: BTreeMap<String, serde_json::Value>,
    /// Values computed afresh at each submission (`datetime.now()`...), left out of
    /// `parameter_values` and of the job.
    pub(crate) run_time_values: BTreeMap<String, crate::model::RunTimeValue>,
    pub(crate) requirements: Vec<String>,
    pub(crate) base_image: String,
    /// The command-line arguments this compile had besides the notebook and `-o`, for
    /// `scripts/build_pipeline_spec.sh` to recompile the same way.
    pub(crate) recompile_args: Vec<String>,
}

pub(crate) fn analyze(
    notebook: &Notebook,
    parsed: crate::python::ParsedNotebook,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<Analysis> {
    let overrides = parameter_overrides(inputs.parameters);
    let mut scan = scan::scan(notebook, parsed, overrides, diagnostics);
    let source_of = |span: Span| scan::text_of(notebook, span).to_owned();
    // A cell without an options call is a usage error; nothing else is worth checking then.
    let call = options::chosen_call(&scan.options_calls, inputs.options_call, diagnostics).ok()?;
    let resolved = options::resolve(call, inputs.flags, inputs.pipeline_params, diagnostics);
    let mut settings = resolved.settings;
    // Without `use_kfp_spec`, the notebook's own syntax decides: AutoMLOps 1.0's custom
    // syntax if it calls `makePipeline`, else its Kubeflow or decorator pipeline.
    if !resolved.use_kfp_spec_given {
        settings.use_kfp_spec = scan.make_pipelines.is_empty() && !scan.kfp_pipelines.is_empty();
    }

    let mut failed = wiring::Failed {
        unreadable_definitions: scan.unreadable_definitions,
        ..wiring::Failed::default()
    };
    let (mut components, pipeline) = if settings.use_kfp_spec {
        let Some(site) = bound_pipeline(&scan.kfp_pipelines, call, diagnostics) else {
            if !scan.unreadable_definitions {
                diagnostics.push(missing_pipeline(true, &scan));
            }
            return None;
        };
        let sites = bound_components(&scan.kfp_components, site.def.name_span, diagnostics);
        let mut components =
            kfp::components(&sites, &source_of, &scan.env, &mut failed, diagnostics);
        // Google Cloud Pipeline Components the pipeline calls, by the names it calls them.
        let mut callees = Vec::new();
        for (name, component) in prebuilt::components(
            &site.def,
            site.facts.used_names.keys().cloned(),
            &scan.env,
            &mut failed.names,
            diagnostics,
        ) {
            callees.push((name, components.len()));
            components.push(component);
        }
        // Component files loaded at module level, by the names the pipeline calls them.
        for (name, component) in component_file::components(
            &scan.component_loads,
            site.facts.used_names.keys().cloned(),
            inputs.files,
            &components,
            &mut failed.names,
            diagnostics,
        ) {
            callees.push((name, components.len()));
            components.push(component);
        }
        // kfp's importer calls, each a component of its own.
        let mut importers = importer::Importers::new();
        for (span, component) in importer::components(&site.def, &scan.env, &source_of, diagnostics)
        {
            importers.insert((span.cell, span.start), components.len());
            components.push(component);
        }
        let pipeline = kfp::pipeline(
            site,
            &components,
            &kfp::Prebuilt {
                callees: &callees,
                importers: &importers,
            },
            &failed,
            &scan.env,
            &source_of,
            diagnostics,
        );
        (components, pipeline)
    } else {
        let components = custom::components(
            &scan.custom_components,
            &scan.imports,
            &scan.env,
            &mut failed,
            diagnostics,
        );
        let Some(site) = pick_one(
            &scan.make_pipelines,
            |s| s.span,
            "`AutoMLOps.makePipeline(...)` call",
            diagnostics,
        ) else {
            if !scan.unreadable_definitions {
                diagnostics.push(missing_pipeline(false, &scan));
            }
            return None;
        };
        let pipeline = custom::pipeline(site, &components, &failed, diagnostics);
        (components, pipeline)
    };
    let mut pipeline = pipeline?;
    if let Some(specs) = &resolved.custom_training_job_specs {
        custom_job::apply(specs, &mut components, diagnostics);
    }
    prebuilt::check_task_settings(&pipeline, &components, diagnostics);
    if let Some(cycle) = pipeline.cycle() {
        let names: Vec<String> = cycle
            .iter()
            .map(|t| format!("`{}`", pipeline.tasks[*t].variable))
            .collect();
        diagnostics.push(
            Diagnostic::error(
                pipeline.tasks[cycle[0]].span,
                format!(
                    "tasks wait for each other in a cycle: {}",
                    names.join(" waits for ")
                ),
            )
            .with_hint("remove one of the `.after(...)` calls of the cycle"),
        );
    }
    mutation::report(&scan.env, &mut scan.reported, diagnostics);
    // A `--pipeline-params` file is checked with the parameters' schema, as runs are.
    let file_problems = inputs
        .pipeline_params
        .map(|file| file_problems(&pipeline, file))
        .unwrap_or_default();
    for problem in &file_problems {
        diagnostics.push(
            Diagnostic::error(None, format!("--pipeline-params: {problem}")).with_hint(format!(
                "{} (written by every compile) says what each parameter takes",
                parameter_schema::schema_path(&settings.parameter_values_path)
            )),
        );
    }
    let values = if file_problems.is_empty() {
        params::parameter_values(&pipeline, resolved.pipeline_params.as_ref(), diagnostics)
    } else {
        params::Values::default()
    };
    if file_problems.is_empty() && settings.schedule.is_some() && !settings.run_local {
        params::check_scheduled_values(
            &pipeline,
            &values,
            resolved.pipeline_params.as_ref().and_then(|p| p.span),
            diagnostics,
        );
    }
    let components = keep_used(components, &mut pipeline, diagnostics);
    let requirements = requirements::requirements(&components, diagnostics);
    let base_image = match &settings.base_image {
        Some(image) => image.clone(),
        None => base_image(&scan, settings.use_kfp_spec, diagnostics),
    };
    let recompile_args = recompile_args(inputs, &settings.parameter_values_path);
    let (parameter_values, run_time_values) = values;
    Some(Analysis {
        settings,
        components,
        pipeline,
        parameter_values,
        run_time_values,
        requirements,
        base_image,
        recompile_args,
    })
}

impl Analysis {
    /// Where runs write: the pipeline's own `pipeline_root`, else `pipeline_root/` in the
    /// pipeline bucket.
    pub(crate) fn pipeline_root(&self) -> String {
        self.pipeline
            .root
            .clone()
            .unwrap_or_else(|| self.settings.pipeline_root())
    }
}

/// Flags as written on the command line, then `--pipeline-params` (the compiled values file,
/// which holds what the given file did), then the `-p` overrides in order.
fn recompile_args(inputs: &Inputs<'_>, parameter_values_path: &str) -> Vec<String> {
    let mut args = Vec::new();
    for (name, value) in inputs.flags {
        args.push(format!("--{}", name.replace('_', "-")));
        args.push(value.clone());
    }
    if let Some(cell) = inputs.options_call {
        args.push("--options-call".to_owned());
        args.push(cell.to_string());
    }
    if inputs.pipeline_params.is_some() {
        args.push("--pipeline-params".to_owned());
        args.push(parameter_values_path.to_owned());
    }
    for (name, value) in inputs.parameters {
        args.push("-p".to_owned());
        args.push(format!("{name}={value}"));
    }
    args
}

/// What a `--pipeline-params` file gets wrong against the pipeline's parameter schema.
fn file_problems(
    pipeline: &Pipeline,
    file: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let schema = parameter_schema::schema(pipeline, &std::collections::BTreeSet::new(), "");
    parameter_schema::problems(&schema, &serde_json::Value::Object(file.clone()), false)
}

/// `-p NAME=VALUE`: VALUE is a Python literal if it reads as one, else a string (as papermill).
fn parameter_overrides(parameters: &[(String, String)]) -> HashMap<String, value::Value> {
    parameters
        .iter()
        .map(|(name, text)| {
            let literal = crate::python::parse_cell(0, text, crate::python::CellScope::Notebook)
                .ok()
                .and_then(|stmts| match stmts.as_slice() {
                    [top] => match &top.stmt {
                        crate::python::ast::Stmt::Expr(expr) => {
                            let value = value::Env::default().eval(expr, &|_| String::new());
                            value.to_json().map(|json| options::json_to_value(&json))
                        }
                        _ => None,
                    },
                    _ => None,
                });
            let value =
                literal.unwrap_or_else(|| value::Value::new(value::Kind::Str(text.clone()), None));
            (
                name.clone(),
                value::Value {
                    span: None,
                    ..value
                },
            )
        })
        .collect()
}

/// Where a span starts, in notebook order.
fn position(span: Span) -> (usize, usize) {
    (span.cell, span.start)
}

/// The pipeline the options call compiles, as Python binds it: the last one defined before the
/// call (AutoMLOps reads the pipeline registered when `generate` runs), or else the last one.
/// The others get a warning.
fn bound_pipeline<'a>(
    sites: &'a [scan::FunctionSite],
    call: Option<&scan::OptionsCall>,
    diagnostics: &mut Diagnostics,
) -> Option<&'a scan::FunctionSite> {
    let before_call = |site: &scan::FunctionSite| {
        call.is_none_or(|call| position(site.def.name_span) < position(call.span))
    };
    let chosen = sites
        .iter()
        .rev()
        .find(|site| before_call(site))
        .or_else(|| sites.last())?;
    for site in sites {
        if std::ptr::eq(site, chosen) {
            continue;
        }
        let by = match call {
            Some(call) => format!(
                "the `AutoMLOps.{}(...)` call in cell {} compiles",
                call.function,
                call.span.cell + 1
            ),
            None => "the compile uses".to_owned(),
        };
        diagnostics.push(
            Diagnostic::warning(
                site.def.name_span,
                format!("pipeline `{}` is not compiled: {by} the pipeline defined in cell {}", site.def.name, chosen.def.name_span.cell + 1),
            )
            .with_hint("`--options-call CELL` compiles with the options of another call, and the pipeline defined before it"),
        );
    }
    Some(chosen)
}

/// The component definitions the pipeline calls, as Python binds their names: for each name,
/// the last definition before the pipeline's, or else the first after it (AutoMLOps 1.1+
/// reads the components when `generate` runs). A definition redefined before the pipeline
/// (AutoMLOps 1.1 and 1.2 notebooks define components again after `clear_cache()`) is shadowed,
/// with a warning.
fn bound_components<'a>(
    sites: &'a [scan::FunctionSite],
    pipeline: Span,
    diagnostics: &mut Diagnostics,
) -> Vec<&'a scan::FunctionSite> {
    let mut chosen: Vec<&scan::FunctionSite> = Vec::new();
    for site in sites {
        let name = &site.def.name;
        let Some(index) = chosen.iter().position(|c| &c.def.name == name) else {
            chosen.push(site);
            continue;
        };
        let earlier = chosen[index];
        // A later definition before the pipeline rebinds the name; one after it is not seen.
        let (kept, shadowed) = if position(site.def.name_span) > position(pipeline) {
            (earlier, site)
        } else {
            (site, earlier)
        };
        chosen[index] = kept;
        diagnostics.push(
            Diagnostic::warning(
                shadowed.def.name_span,
                format!("component `{name}` is defined more than once; the pipeline uses its definition in cell {}, not this one", kept.def.name_span.cell + 1),
            )
            .with_hint("AutoMLOps's `clear_cache()` let a notebook redefine its components; rename one of them to compile both"),
        );
    }
    chosen
}

/// The last of several definitions, with a warning naming the ones that are ignored.
fn pick_one<'a, T>(
    items: &'a [T],
    span: impl Fn(&T) -> Span,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<&'a T> {
    let (last, earlier) = items.split_last()?;
    for item in earlier {
        diagnostics.push(
            Diagnostic::warning(
                span(item),
                format!("this {what} is ignored: the last one in the notebook is compiled"),
            )
            .with_hint(format!(
                "the compiled one is in cell {}",
                span(last).cell + 1
            )),
        );
    }
    Some(last)
}

fn missing_pipeline(kfp: bool, scan: &scan::Scan) -> Diagnostic {
    let call = scan.options_calls.last().map(|c| c.span);
    if kfp {
        let other = if scan.make_pipelines.is_empty() {
            ""
        } else {
            "; the notebook has an `AutoMLOps.makePipeline(...)` call, which `use_kfp_spec=False` compiles"
        };
        Diagnostic::error(call, format!("`use_kfp_spec` is true, but no `@dsl.pipeline` function was found{other}"))
            .with_hint("define the pipeline in a `%%define_kfp_pipeline` cell with `@dsl.pipeline(name=\"...\")`")
    } else {
        let other = if scan.kfp_pipelines.is_empty() {
            ""
        } else {
            "; the notebook has a `@dsl.pipeline` function, which `use_kfp_spec=True` compiles"
        };
        Diagnostic::error(call, format!("`use_kfp_spec` is false, but no `AutoMLOps.makePipeline(...)` call was found{other}"))
            .with_hint("call `AutoMLOps.makePipeline(name=..., params=[...], pipeline=[...])`, or pass `use_kfp_spec=True`")
    }
}

/// Drops components the pipeline does not call (with a warning) and renumbers the tasks.
fn keep_used(
    components: Vec<Component>,
    pipeline: &mut Pipeline,
    diagnostics: &mut Diagnostics,
) -> Vec<Component> {
    let used: std::collections::HashSet<usize> =
        pipeline.tasks.iter().map(|t| t.component).collect();
    let mut new_index = vec![None; components.len()];
    let mut kept = Vec::new();
    for (index, component) in components.into_iter().enumerate() {
        if used.contains(&index) {
            new_index[index] = Some(kept.len());
            kept.push(component);
        } else if !diagnostics.has_errors() {
            // With errors, a component may look unused only because its call was rejected.
            diagnostics.push(Diagnostic::warning(
                component.defined_at,
                format!(
                    "component `{}` is not used by the pipeline and is left out",
                    component.name
                ),
            ));
        }
    }
    for task in &mut pipeline.tasks {
        task.component = new_index[task.component].unwrap_or_default();
    }
    kept
}

/// The shared image's base: the components' `base_image` if they agree, else the default.
fn base_image(scan: &scan::Scan, kfp: bool, diagnostics: &mut Diagnostics) -> String {
    if !kfp {
        return DEFAULT_BASE_IMAGE.to_owned();
    }
    let mut chosen: Option<(String, Span)> = None;
    for site in &scan.kfp_components {
        let Some(arg) = site.decorator_args.iter().find(|a| a.name == "base_image") else {
            continue;
        };
        let Some(image) = arg.value.as_str() else {
            diagnostics.push(read::mismatch(&arg.value, "`base_image`", "a string"));
            continue;
        };
        if let Err(diagnostic) = image_ref::check(image, arg.value.span.or(Some(arg.span))) {
            diagnostics.push(diagnostic);
            continue;
        }
        match &chosen {
            None => chosen = Some((image.to_owned(), arg.span)),
            Some((first, first_span)) if first != image => diagnostics.push(
                Diagnostic::warning(arg.span, format!("components ask for different base images; all run in one image built from `{first}`"))
                    .with_hint(format!("`{first}` is set in cell {}", first_span.cell + 1)),
            ),
            Some(_) => {}
        }
    }
    match chosen {
        Some((image, chosen_at)) => {
            if let Some(warning) = naming::unpinned_image(&image, Some(chosen_at)) {
                diagnostics.push(warning);
            }
            image
        }
        None => DEFAULT_BASE_IMAGE.to_owned(),
    }
}
