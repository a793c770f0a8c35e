//! A container component's command line (`@dsl.container_component`, or a component file): an
//! image and its `command` and `args`, whose elements hold kfp's placeholders.

/// One element of `command` or `args`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CommandLine {
    /// Text, kfp's placeholders in it (`--n={{$.inputs.parameters['n']}}`).
    Text(String),
    /// `dsl.ConcatPlaceholder([...])`.
    Concat(Vec<CommandLine>),
    /// `dsl.IfPresentPlaceholder(input_name=..., then=..., else_=...)`.
    IfPresent {
        input: String,
        then: Elements,
        otherwise: Option<Elements>,
    },
}

/// `then` and `else_` of an `IfPresentPlaceholder`: one element, or a list of them (which
/// kfp writes as a list even when it holds one).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Elements {
    One(Box<CommandLine>),
    List(Vec<CommandLine>),
}

/// What a container component runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ContainerSpec {
    pub(crate) image: String,
    pub(crate) command: Vec<CommandLine>,
    pub(crate) args: Vec<CommandLine>,
    /// Environment variables a component file sets, in order.
    pub(crate) env: Vec<(String, String)>,
    /// The component file or text it was loaded from, if any.
    pub(crate) file: Option<LoadedFile>,
}

/// A component file or text a notebook loads. `pipelines/pipeline.py` loads the same text
/// (as `components/<name>/component.yaml`), so that kfp reads what the notebook gave it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LoadedFile {
    /// The relative path the notebook gives (`None` for `load_component_from_text`): CI
    /// recompiles the notebook's copy, so the file is copied beside it.
    pub(crate) path: Option<String>,
    pub(crate) text: String,
    /// Whether it is kfp 2's IR (else KFP v1's format).
    pub(crate) kfp2: bool,
}

impl CommandLine {
    /// Whether it is an `IfPresentPlaceholder` whose `then` or `else_` is a list, which kfp
    /// refuses inside a `ConcatPlaceholder`.
    pub(crate) fn has_list_branch(&self) -> bool {
        match self {
            CommandLine::IfPresent {
                then, otherwise, ..
            } => std::iter::once(then)
                .chain(otherwise)
                .any(|e| matches!(e, Elements::List(_))),
            _ => false,
        }
    }
}
