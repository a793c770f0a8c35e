//! Component files a notebook loads: `op = kfp.components.load_component_from_file("x.yaml")`
//! (read beside the notebook, as it reads it when it runs in its folder) or
//! `load_component_from_text("""...""")`, then calls `op(...)` in the pipeline. kfp 2's files
//! (the IR of one container component, which `kfp.compiler` writes) compile as kfp compiles
//! them: the task runs the file's image and command line. KFP v1 files and files holding a
//! pipeline of several steps are "not supported yet", with the conversion to do.

use serde_json::Value as Json;

use crate::compile::ReadFile;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    Component, ComponentName, ComponentSource, ContainerSpec, Input, LoadedFile, Output, kfp_name,
};
use crate::python::ast::Expr;

use super::value::{Env, Kind, Value};

mod ir;
mod v1;

/// How the notebook loads a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    File,
    Text,
    Url,
}

/// `name = load_component_from_...(argument)` at module level.
#[derive(Debug)]
pub(crate) struct LoadSite {
    pub(crate) binding: String,
    pub(crate) how: How,
    pub(crate) argument: Option<Value>,
    /// The call.
    pub(crate) span: Span,
}

/// The load of a component file `value` is, assigned to one name, if it is one.
pub(crate) fn load_site(
    targets: &[Expr],
    value: &Expr,
    env: &Env,
    source: &dyn Fn(Span) -> String,
) -> Option<LoadSite> {
    let Expr::Call {
        func,
        args,
        keywords,
        span,
    } = value
    else {
        return None;
    };
    let origin = env.import_origin(&func.dotted_name()?)?;
    let (module, function) = origin.rsplit_once('.')?;
    let (how, keyword) = match function {
        "load_component_from_file" => (How::File, "file_path"),
        "load_component_from_text" => (How::Text, "text"),
        "load_component_from_url" => (How::Url, "url"),
        _ => return None,
    };
    if !(module == "kfp" || module.starts_with("kfp.")) {
        return None;
    }
    let [Expr::Name(binding, _)] = targets else {
        return None;
    };
    let argument = args
        .first()
        .or_else(|| {
            keywords
                .iter()
                .find(|k| k.name.as_deref() == Some(keyword))
                .map(|k| &k.value)
        })
        .map(|expr| env.eval(expr, source));
    Some(LoadSite {
        binding: binding.clone(),
        how,
        argument,
        span: *span,
    })
}

/// The loaded components the pipeline calls, by the names it calls them: the last load of
/// each name it reads. A load that fails is reported, and its name goes into `failed`.
pub(crate) fn components(
    sites: &[LoadSite],
    used_names: impl Iterator<Item = String>,
    files: Option<&dyn ReadFile>,
    existing: &[Component],
    failed: &mut std::collections::BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) -> Vec<(String, Component)> {
    let mut found: Vec<(String, Component)> = Vec::new();
    for name in used_names {
        let Some(site) = sites.iter().rev().find(|s| s.binding == name) else {
            continue;
        };
        match component(site, files) {
            Ok(component) => {
                let clash = existing
                    .iter()
                    .chain(found.iter().map(|(_, c)| c))
                    .find(|c| c.has_component_file() && c.name == component.name);
                if let Some(other) = clash {
                    failed.insert(name);
                    diagnostics.push(
                        Diagnostic::error(site.span, format!("the component this loads is named `{}`, like the component defined in cell {}: both would be written to `components/{}/`", component.name, other.defined_at.cell + 1, component.name))
                            .with_hint("rename one of them (the file's `pipelineInfo.name`, or the function)"),
                    );
                    continue;
                }
                found.push((name, component));
            }
            Err(diagnostic) => {
                failed.insert(name);
                diagnostics.push(diagnostic);
            }
        }
    }
    found
}

fn component(site: &LoadSite, files: Option<&dyn ReadFile>) -> Result<Component, Diagnostic> {
    let what = match site.how {
        How::File => "`load_component_from_file`",
        How::Text => "`load_component_from_text`",
        How::Url => {
            return Err(Diagnostic::error(
                site.span,
                "not supported yet: `load_component_from_url`; automlops compiles without the network, so that the same notebook always compiles the same way",
            )
            .with_hint("download the file beside the notebook (pinned to a commit), and load it with `kfp.components.load_component_from_file(\"component.yaml\")`"));
        }
    };
    let Some(argument) = &site.argument else {
        return Err(Diagnostic::error(
            site.span,
            format!("{what} needs its argument"),
        ));
    };
    let Kind::Str(given) = &argument.kind else {
        return Err(super::read::mismatch(
            argument,
            &format!("the argument of {what}"),
            "a string",
        ));
    };
    let at = argument.span.unwrap_or(site.span);
    let (text, label) = match site.how {
        How::File => {
            let Some(files) = files else {
                return Err(Diagnostic::error(
                    at,
                    format!("component file `{given}` cannot be read: this compile reads no files"),
                ));
            };
            let Some(path) = inside_notebook_folder(given) else {
                return Err(Diagnostic::error(
                    at,
                    format!("not supported yet: component file `{given}` outside the notebook's folder"),
                )
                .with_hint("CI recompiles the notebook's copy in the output, with copies of the files it loads beside it: keep the file in the notebook's folder (or below it) and give its relative path"));
            };
            let text = files.read(&path).map_err(|why| {
                Diagnostic::error(at, format!("component file `{given}`: {why}"))
                    .with_hint("a relative path is read from the notebook's folder, as the notebook reads it when it runs there")
            })?;
            (text, format!("component file `{given}`"))
        }
        _ => (given.clone(), "the component text".to_owned()),
    };
    let file = |kfp2| {
        Some(LoadedFile {
            path: (site.how == How::File)
                .then(|| inside_notebook_folder(given).unwrap_or_default()),
            text: text.clone(),
            kfp2,
        })
    };
    let document = first_document(&text)
        .map_err(|why| Diagnostic::error(at, format!("{label} is not valid YAML: {why}")))?;
    let from_file = |why: String| Diagnostic::error(at, format!("{label} {why}"));
    let Some(fields) = document.as_object() else {
        return Err(from_file(
            "is not a KFP component: it holds no mapping".to_owned(),
        ));
    };
    if fields.contains_key("implementation") {
        return v1::component(&document, site.span, file(false)).map_err(|why| match why {
            v1::Refusal::NotSupported(why) => Diagnostic::error(
                at,
                format!("not supported yet: {label}, a KFP v1 component, {why}"),
            )
            .with_hint(convert_hint(site.how, given)),
            v1::Refusal::Invalid(why) => from_file(why),
        });
    }
    if !fields.contains_key("pipelineInfo") || !fields.contains_key("deploymentSpec") {
        return Err(from_file(
            "is not a KFP component: it has neither kfp 2's `pipelineInfo` and `deploymentSpec` nor KFP v1's `implementation`".to_owned(),
        ));
    }
    ir::component(&document, site.span, file(true)).map_err(from_file)
}

/// How to make a kfp 2 file of a KFP v1 component that kfp 2 can compile but we cannot yet.
fn convert_hint(how: How, given: &str) -> String {
    match how {
        How::File => {
            let stem = given
                .strip_suffix(".yaml")
                .or_else(|| given.strip_suffix(".yml"))
                .unwrap_or(given);
            format!("convert it once with kfp 2 and load the result: `python -c \"from kfp import compiler, components; compiler.Compiler().compile(components.load_component_from_file('{given}'), '{stem}_v2.yaml')\"`")
        }
        _ => "write it to a file, convert that once with kfp 2 (`compiler.Compiler().compile(components.load_component_from_file(...), 'component_v2.yaml')`) and load the result".to_owned(),
    }
}

/// `path` without `.` parts, if it is a plain relative path below the notebook's folder.
fn inside_notebook_folder(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|part| *part != ".").collect();
    let path = parts.join("/");
    crate::model::is_relative_path(&path).then_some(path)
}

/// The first YAML document of `text` (a kfp 2 file may hold a platform spec after it).
fn first_document(text: &str) -> Result<Json, String> {
    use serde::Deserialize;
    let mut documents = serde_norway::Deserializer::from_str(text);
    let Some(first) = documents.next() else {
        return Err("it is empty".to_owned());
    };
    Json::deserialize(first).map_err(|e| e.to_string())
}

/// The component a file describes, once its interface and command line are read: its image
/// checked, its name kfp's.
fn container_component(
    raw_name: &str,
    inputs: Vec<Input>,
    outputs: Vec<Output>,
    spec: ContainerSpec,
    defined_at: Span,
) -> Result<Component, String> {
    let kfp = kfp_name(raw_name);
    if kfp.is_empty() {
        return Err(format!(
            "is named `{raw_name}`, which leaves kfp no name for its tasks"
        ));
    }
    if let Some(why) = super::image_ref::problem(&spec.image) {
        return Err(format!(
            "has an image that is no container image reference (`{}`): {why}",
            spec.image.escape_debug()
        ));
    }
    Ok(Component {
        name: ComponentName::new(kfp.replace('-', "_")),
        description: None,
        inputs,
        outputs,
        source: ComponentSource::Container(spec),
        packages: Vec::new(),
        imported_modules: Vec::new(),
        defined_at,
        custom_job: None,
    })
}
