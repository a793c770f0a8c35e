//! `pipelines/pipeline.py`: the same pipeline written with kfp, for users who customise it.
//! It loads every component from its `component.yaml` and repeats the notebook's calls and
//! control-flow blocks in the notebook's order, so kfp names tasks and groups as we do.

use std::collections::HashSet;
use std::fmt::Write as _;

use askama::Template;

use crate::analyze::Analysis;
use crate::model::{Argument, Comparison, ComponentSource, GroupKind, LoopItems, Node, Pipeline};

use super::python;
use super::sources::finish;

#[derive(Template)]
#[template(path = "pipeline.py", escape = "none")]
struct PipelinePy<'a> {
    notebook: &'a str,
    loads: Vec<String>,
    decorator_args: Vec<String>,
    params: Vec<String>,
    /// The function body, one indented line per entry.
    body: Vec<String>,
}

/// Names `pipelines/pipeline.py` defines or imports itself.
const RESERVED: &[&str] = &[
    "ROOT",
    "argparse",
    "compiler",
    "dsl",
    "load_component",
    "load_component_from_file",
    "main",
    "pathlib",
    "pipeline",
];

/// `base`, or `base_2`, `base_3`... if `taken` already has it.
fn unique(base: &str, taken: &HashSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}_{n}");
    }
    name
}

pub(super) fn pipeline(analysis: &Analysis, notebook: &str) -> Result<String, askama::Error> {
    let pipeline = &analysis.pipeline;
    // Every Python name of the file is distinct: parameters first (their names are the
    // pipeline's interface), then component loaders, then task and loop variables.
    let mut taken: HashSet<String> = RESERVED.iter().map(|r| (*r).to_owned()).collect();
    taken.extend(pipeline.params.iter().map(|p| p.name.clone()));
    let mut loaders = Vec::new();
    for component in &analysis.components {
        let name = component.name.as_str();
        let loader = if taken.contains(name) {
            unique(&format!("{name}_component"), &taken)
        } else {
            name.to_owned()
        };
        taken.insert(loader.clone());
        loaders.push(loader);
    }
    let mut loads: Vec<String> = analysis
        .components
        .iter()
        .zip(&loaders)
        .filter_map(|(c, loader)| match &c.source {
            // The same op of the same package (pipelines/requirements.txt pins it).
            ComponentSource::Prebuilt(prebuilt) if &prebuilt.python == loader => {
                Some(format!("from {} import {loader}", prebuilt.module))
            }
            ComponentSource::Prebuilt(prebuilt) => Some(format!(
                "from {} import {} as {loader}",
                prebuilt.module, prebuilt.python
            )),
            // Called as `dsl.importer(...)`.
            ComponentSource::Importer(_) => None,
            // AutoMLOps's custom_training_job_specs: the component wrapped as GCPC wraps it.
            _ if c.custom_job.is_some() => {
                let arguments = c
                    .custom_job
                    .iter()
                    .flat_map(|job| &job.arguments)
                    .map(|(name, value)| format!(", {name}={}", python::literal(value)));
                Some(format!(
                    "{loader} = create_custom_training_job_from_component(load_component({}){})",
                    python::string(c.name.as_str()),
                    arguments.collect::<String>()
                ))
            }
            _ => Some(format!(
                "{loader} = load_component({})",
                python::string(c.name.as_str())
            )),
        })
        .collect();
    if analysis.components.iter().any(|c| c.custom_job.is_some()) {
        loads.insert(
            0,
            "from google_cloud_pipeline_components.v1.custom_job import create_custom_training_job_from_component".to_owned(),
        );
    }
    if analysis.components.iter().any(|c| {
        matches!(&c.source, ComponentSource::Importer(i) if i.class.starts_with("artifact_types."))
    }) {
        loads.push(
            "from google_cloud_pipeline_components.types import artifact_types".to_owned(),
        );
    }
    let mut decorator_args = vec![format!("name={}", python::string(&pipeline.name))];
    if let Some(description) = &pipeline.description {
        decorator_args.push(format!("description={}", python::string(description)));
    }
    if let Some(root) = &pipeline.root {
        decorator_args.push(format!("pipeline_root={}", python::string(root)));
    }
    let params = pipeline
        .params
        .iter()
        .map(|p| match &p.default {
            Some(default) => format!(
                "{}: {} = {}",
                p.name,
                p.annotation(),
                python::literal(default)
            ),
            None if p.optional => format!("{}: {} = None", p.name, p.annotation()),
            None => format!("{}: {}", p.name, p.annotation()),
        })
        .collect();
    let mut variables: Vec<String> = Vec::new();
    for task in &pipeline.tasks {
        let variable = unique(&task.variable, &taken);
        taken.insert(variable.clone());
        variables.push(variable);
    }
    let mut loop_variables: Vec<String> = Vec::new();
    for group in &pipeline.groups {
        let variable = match &group.kind {
            GroupKind::Loop(lp) if !lp.variable.is_empty() => {
                let variable = unique(&lp.variable, &taken);
                taken.insert(variable.clone());
                variable
            }
            _ => String::new(),
        };
        loop_variables.push(variable);
    }
    let mut writer = Writer {
        pipeline,
        components: &analysis.components,
        loaders: &loaders,
        variables: &variables,
        loop_variables: &loop_variables,
        lines: Vec::new(),
        deferred: Vec::new(),
    };
    writer.nodes(&pipeline.body, 1);
    let Writer {
        mut lines,
        deferred,
        ..
    } = writer;
    lines.splice(0..0, docstring(pipeline));
    // `.after(later_task)` must wait until the later task exists in the Python code.
    lines.extend(deferred.into_iter().map(|line| format!("    {line}")));
    finish(
        PipelinePy {
            notebook,
            loads,
            decorator_args,
            params,
            body: lines,
        }
        .render(),
    )
}

/// The pipeline function's docstring, as indented lines; none without parameter descriptions.
/// The parameters' descriptions reach kfp through it, in the Google style it parses (a
/// description's later lines indented under its first).
fn docstring(pipeline: &Pipeline) -> Vec<String> {
    let documented: Vec<String> = pipeline
        .params
        .iter()
        .filter_map(|p| {
            let text = pipeline.param_description(p)?;
            // Later lines indented under the first; a blank line left empty.
            let mut entry = format!("    {}:", p.name);
            for (i, line) in text.split('\n').enumerate() {
                match (i, line.is_empty()) {
                    (_, true) => entry.push('\n'),
                    (0, false) => {
                        entry.push(' ');
                        entry.push_str(line);
                    }
                    (_, false) => {
                        entry.push_str("\n        ");
                        entry.push_str(line);
                    }
                }
            }
            entry.push('\n');
            Some(entry)
        })
        .collect();
    if documented.is_empty() {
        return Vec::new();
    }
    // The summary is a placeholder: the decorator's `description=` is what kfp compiles.
    let docstring = format!("The pipeline.\n\nArgs:\n{}", documented.concat());
    // Triple-quoted where the text needs no escape, for the reader of pipeline.py. kfp reads
    // it after `inspect.cleandoc`, which dedents every line but the first.
    let plain =
        !docstring.contains(['\\', '"']) && !docstring.chars().any(|c| c.is_control() && c != '\n');
    if !plain {
        return vec![format!("    {}", python::string(&docstring))];
    }
    let mut doc_lines = docstring.lines();
    let summary = doc_lines.next().unwrap_or_default();
    std::iter::once(format!("    \"\"\"{summary}"))
        .chain(doc_lines.map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("    {line}")
            }
        }))
        .chain(std::iter::once("    \"\"\"".to_owned()))
        .collect()
}

struct Writer<'a> {
    pipeline: &'a Pipeline,
    components: &'a [crate::model::Component],
    loaders: &'a [String],
    variables: &'a [String],
    loop_variables: &'a [String],
    lines: Vec<String>,
    deferred: Vec<String>,
}

impl Writer<'_> {
    fn nodes(&mut self, nodes: &[Node], depth: usize) {
        for node in nodes {
            match *node {
                Node::Task(task) => self.task(task, depth),
                Node::Group(group) => self.group(group, depth),
            }
        }
    }

    /// A value as the Python code names it.
    /// `dsl.importer(...)`'s arguments, the metadata's parameters named again.
    fn importer_args(
        &self,
        importer: &crate::model::Importer,
        task: &crate::model::Task,
    ) -> Vec<String> {
        let uri = task
            .arguments
            .iter()
            .find(|(name, _)| name == "uri")
            .map_or_else(|| "''".to_owned(), |(_, argument)| self.argument(argument));
        let mut args = vec![
            format!("artifact_uri={uri}"),
            format!("artifact_class={}", importer.class),
        ];
        if importer.reimport {
            args.push("reimport=True".to_owned());
        }
        if let Some(metadata) = &importer.metadata {
            let params: Vec<(String, &str)> = importer
                .metadata_params
                .iter()
                .map(|(input, param)| {
                    (
                        format!("{{{{$.inputs.parameters['{input}']}}}}"),
                        param.as_str(),
                    )
                })
                .collect();
            args.push(format!("metadata={}", metadata_python(metadata, &params)));
        }
        args
    }

    fn argument(&self, argument: &Argument) -> String {
        match argument {
            Argument::PipelineParam(param) => param.clone(),
            Argument::Constant(value) => python::literal(value),
            Argument::TaskOutput { task, output } => {
                format!(
                    "{}.outputs[{}]",
                    self.variables[*task],
                    python::string(output)
                )
            }
            Argument::Collected { task, output } => format!(
                "dsl.Collected({}.outputs[{}])",
                self.variables[*task],
                python::string(output)
            ),
            Argument::LoopItem { group, field } => match field {
                Some(field) => format!("{}.{field}", self.loop_variables[*group]),
                None => self.loop_variables[*group].clone(),
            },
        }
    }

    fn comparison(&self, comparison: &Comparison) -> String {
        format!(
            "{} {} {}",
            self.argument(&comparison.left),
            comparison.op,
            self.argument(&comparison.right)
        )
    }

    fn group(&mut self, index: usize, depth: usize) {
        let group = &self.pipeline.groups[index];
        let mut args: Vec<String> = Vec::new();
        let mut target = String::new();
        let class = match &group.kind {
            // kfp makes the wrapper itself when it sees `Elif`/`Else`.
            GroupKind::Branches => {
                self.nodes(&group.body, depth);
                return;
            }
            GroupKind::Condition(condition) => {
                if let Some(own) = condition.own() {
                    args.push(self.comparison(own));
                }
                condition.branch.dsl()
            }
            GroupKind::Loop(lp) => {
                args.push(match &lp.items {
                    LoopItems::Channel(items) => self.argument(items),
                    LoopItems::Raw { values, .. } => {
                        python::literal(&serde_json::Value::Array(values.clone()))
                    }
                });
                if !self.loop_variables[index].is_empty() {
                    target = format!(" as {}", self.loop_variables[index]);
                }
                "ParallelFor"
            }
            GroupKind::ExitHandler { exit_task } => {
                args.push(self.variables[*exit_task].clone());
                "ExitHandler"
            }
        };
        if let Some(name) = &group.display_name {
            args.push(format!("name={}", python::string(name)));
        }
        if let GroupKind::Loop(lp) = &group.kind
            && lp.parallelism > 0
        {
            args.push(format!("parallelism={}", lp.parallelism));
        }
        let indent = "    ".repeat(depth);
        self.lines.push(format!(
            "{indent}with dsl.{class}({}){target}:",
            args.join(", ")
        ));
        self.nodes(&group.body, depth + 1);
    }

    fn task(&mut self, index: usize, depth: usize) {
        let task = &self.pipeline.tasks[index];
        let variable = &self.variables[index];
        let mut loader = self.loaders[task.component].as_str();
        let mut args: Vec<String> = task
            .arguments
            .iter()
            .map(|(name, argument)| format!("{name}={}", self.argument(argument)))
            .collect();
        if let ComponentSource::Importer(importer) = &self.components[task.component].source {
            loader = "dsl.importer";
            args = self.importer_args(importer, task);
        }
        let (earlier, later): (Vec<usize>, Vec<usize>) =
            task.after.iter().partition(|after| **after < index);
        let after = if earlier.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = earlier
                .iter()
                .map(|i| self.variables[*i].as_str())
                .collect();
            format!(".after({})", names.join(", "))
        };
        if !later.is_empty() {
            let names: Vec<&str> = later.iter().map(|i| self.variables[*i].as_str()).collect();
            self.deferred
                .push(format!("{variable}.after({})", names.join(", ")));
        }
        let after = after + &settings_chain(&task.settings);
        let indent = "    ".repeat(depth);
        let one_line = format!("{indent}{variable} = {loader}({}){after}", args.join(", "));
        // Long calls get one argument per line, as black would write them.
        if one_line.len() <= 99 {
            self.lines.push(one_line);
        } else {
            self.lines.push(format!("{indent}{variable} = {loader}("));
            for arg in args {
                self.lines.push(format!("{indent}    {arg},"));
            }
            self.lines.push(format!("{indent}){after}"));
        }
    }
}

/// The importer's metadata as Python, each parameter placeholder the parameter's name.
fn metadata_python(value: &serde_json::Value, params: &[(String, &str)]) -> String {
    use serde_json::Value;
    match value {
        Value::String(text) => match params.iter().find(|(placeholder, _)| placeholder == text) {
            Some((_, param)) => (*param).to_owned(),
            None => python::literal(value),
        },
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|item| metadata_python(item, params))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(key, item)| format!(
                    "{}: {}",
                    metadata_python(&Value::String(key.clone()), params),
                    metadata_python(item, params)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => python::literal(value),
    }
}

/// The kfp task methods that reproduce a task's settings.
fn settings_chain(settings: &crate::model::TaskSettings) -> String {
    let mut chain = String::new();
    if let Some(name) = &settings.display_name {
        let _ = write!(chain, ".set_display_name({})", python::string(name));
    }
    match (&settings.cache_key, settings.caching) {
        (Some(key), caching) => {
            let caching = if caching { "True" } else { "False" };
            let _ = write!(
                chain,
                ".set_caching_options({caching}, cache_key={})",
                python::string(key)
            );
        }
        (None, false) => chain.push_str(".set_caching_options(False)"),
        (None, true) => {}
    }
    if let Some(cpu) = &settings.cpu_limit {
        let _ = write!(chain, ".set_cpu_limit({})", python::string(cpu));
    }
    if let Some(memory) = &settings.memory_limit {
        let _ = write!(chain, ".set_memory_limit({})", python::string(memory));
    }
    if let Some(accelerator) = &settings.accelerator_type {
        let _ = write!(
            chain,
            ".set_accelerator_type({})",
            python::string(accelerator)
        );
    }
    if let Some(count) = &settings.accelerator_count {
        let _ = write!(chain, ".set_accelerator_limit({count})");
    }
    if let Some(retry) = &settings.retry {
        let _ = write!(
            chain,
            ".set_retry(num_retries={}, backoff_duration={}, backoff_factor={}, backoff_max_duration={})",
            retry.count,
            python::string(&retry.backoff_duration),
            python::literal(&serde_json::json!(retry.backoff_factor)),
            python::string(&retry.backoff_max_duration)
        );
    }
    for (name, value) in &settings.env {
        let _ = write!(
            chain,
            ".set_env_variable({}, {})",
            python::string(name),
            python::string(value)
        );
    }
    chain
}
