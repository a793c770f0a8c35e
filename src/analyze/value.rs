//! Static evaluation of the Python expressions a notebook uses for configuration: literals,
//! module-level constants, f-strings, `+`, subscripts of known dicts and lists.
//!
//! Anything that needs Python to run (`datetime.now()`, `os.environ[...]`) evaluates to
//! [`Kind::Unknown`], keeping where and why, so callers decide whether that is an error or a
//! value left for run time.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Span};
use crate::model::run_time_value::{Part, Source};
use crate::python::ast::{BinOp, Expr, FStringPart};

use super::suggest::did_you_mean;

/// The most elements a list or dict value may hold, those nested in it included: Python shares
/// a value bound to a name wherever it is used again (`A = [A, A]` thirty times is a few
/// objects), a copy of it would have a billion elements. Pipeline values are far smaller.
pub(crate) const MAX_ELEMENTS: usize = 100_000;

/// The longest text a value may be, in bytes.
pub(crate) const MAX_TEXT: usize = 16 * 1024 * 1024;

/// What a value past the ceiling is.
const TOO_LARGE: &str =
    "a value larger than automlops evaluates (100,000 elements, 16 MiB of text)";

/// Whether a list or dict holds more than [`MAX_ELEMENTS`] elements, counted until the
/// ceiling is passed (so counting costs no more than the ceiling), or holds a value already
/// past it.
fn too_many_elements(kind: &Kind) -> bool {
    fn count(kind: &Kind, left: &mut usize) -> bool {
        let mut each = |value: &Value| {
            if *left == 0 || value.is_too_large() {
                return false;
            }
            *left -= 1;
            count(&value.kind, left)
        };
        match kind {
            Kind::List(items) => items.iter().all(&mut each),
            Kind::Dict(entries) => entries.iter().all(|(_, _, v)| each(v)),
            _ => true,
        }
    }
    let mut left = MAX_ELEMENTS;
    !count(kind, &mut left)
}

fn too_large(what: String) -> Kind {
    Kind::Unknown(Unknown::Unsupported {
        what,
        kind: TOO_LARGE,
    })
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Value {
    pub(crate) kind: Kind,
    /// Where the value was written; `None` for values given on the command line.
    pub(crate) span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    /// Shared, as Python shares it: a constant reused in a larger one is not copied.
    List(Arc<Vec<Value>>),
    /// Keys are strings; each with the span of the key.
    Dict(Arc<Vec<(String, Option<Span>, Value)>>),
    /// A builtin type object used as a value (`"type": str` in `makeComponent` params).
    Type(&'static str),
    Unknown(Unknown),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Unknown {
    /// Needs Python to run; `what` is the source text. `via` is the module-level name it was
    /// read through, with its definition (`PROJECT_ID = os.environ[...]`): the name `-p` sets.
    Dynamic {
        what: String,
        via: Option<(String, Option<Span>)>,
        /// Set when it is one of the few values computed afresh at each submission instead.
        run_time: Option<Vec<Part>>,
    },
    /// Python that no compiled value can hold (`kind`: "an integer too large for 64 bits");
    /// `what` is the source text.
    Unsupported { what: String, kind: &'static str },
    /// A name defined nowhere in the notebook.
    Undefined {
        name: String,
        /// A did-you-mean, or why a name the notebook does assign is not defined here.
        hint: Option<String>,
    },
}

impl Value {
    pub(crate) fn new(kind: Kind, span: Option<Span>) -> Self {
        Self { kind, span }
    }

    /// Whether it is past the evaluation ceiling ([`MAX_ELEMENTS`], [`MAX_TEXT`]).
    fn is_too_large(&self) -> bool {
        matches!(&self.kind, Kind::Unknown(Unknown::Unsupported { kind, .. }) if *kind == TOO_LARGE)
    }

    /// The first unknown part of the value, with where it is.
    pub(crate) fn first_unknown(&self) -> Option<(&Unknown, Option<Span>)> {
        match &self.kind {
            Kind::Unknown(unknown) => Some((unknown, self.span)),
            Kind::List(items) => items.iter().find_map(Value::first_unknown),
            Kind::Dict(entries) => entries.iter().find_map(|(_, _, v)| v.first_unknown()),
            _ => None,
        }
    }

    /// The value as JSON, if it is fully known and JSON can hold it.
    pub(crate) fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match &self.kind {
            Kind::Str(s) => J::String(s.clone()),
            Kind::Int(i) => J::from(*i),
            Kind::Float(f) => J::from(serde_json::Number::from_f64(*f)?),
            Kind::Bool(b) => J::Bool(*b),
            Kind::None => J::Null,
            Kind::List(items) => J::Array(items.iter().map(Value::to_json).collect::<Option<_>>()?),
            Kind::Dict(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
            Kind::Type(_) | Kind::Unknown(_) => return None,
        })
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A short description for messages: "a string", "an integer".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Str(_) => "a string",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Bool(_) => "a boolean",
            Kind::None => "`None`",
            Kind::List(_) => "a list",
            Kind::Dict(_) => "a dict",
            Kind::Type(_) => "a type",
            Kind::Unknown(_) => "a value only known at run time",
        }
    }

    /// The diagnostic for a value that had to be known statically and is not.
    pub(crate) fn unknown_error(&self, context: &str) -> Option<Diagnostic> {
        let (unknown, span) = self.first_unknown()?;
        Some(match unknown {
            Unknown::Dynamic { what, via: None, .. } => Diagnostic::error(
                span,
                format!("{context} must be known without running the notebook, but `{what}` is computed at run time"),
            )
            .with_hint("use a literal, or a module-level constant assigned a literal"),
            Unknown::Dynamic { what, via: Some((name, defined)), .. } => Diagnostic::error(
                span,
                format!(
                    "{context} must be known without running the notebook, but `{name}` is `{what}`{}, computed when the notebook runs",
                    defined.map_or_else(String::new, |d| format!(" (cell {})", d.cell + 1))
                ),
            )
            .with_hint(format!("give it when compiling with `-p {name}=VALUE`, or assign `{name}` a literal")),
            Unknown::Undefined { name, hint } => {
                Diagnostic::error(span, format!("name `{name}` is not defined in the notebook"))
                    .with_optional_hint(hint.clone())
            }
            Unknown::Unsupported { what, kind } => Diagnostic::error(
                span,
                format!("{context} cannot be `{what}`: it is {kind}"),
            ),
        })
    }
}

/// A name whose value may differ when the notebook runs: it is also changed by a statement
/// automlops does not run (an assignment inside an `if`, a `pop()`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Uncertain {
    /// The name that statement changes.
    pub(crate) name: String,
    pub(crate) span: Span,
    /// "the `if` statement", "`CONFIG.pop(...)`".
    pub(crate) how: String,
}

/// Module-level names and what they evaluate to, in notebook order.
#[derive(Debug, Default)]
pub(crate) struct Env {
    names: HashMap<String, Value>,
    /// `-p NAME=VALUE`: these win over every assignment in the notebook, as papermill's injected
    /// parameters do.
    overrides: HashMap<String, Value>,
    uncertain: HashMap<String, Uncertain>,
    /// Every name the notebook binds, to tell `-p` overrides that match nothing.
    assigned: std::collections::HashSet<String>,
    /// The uncertain names read since the last [`Env::take_touched`].
    touched: std::cell::RefCell<Vec<Uncertain>>,
    /// Names bound only by the code of `%%define_component` cells, which AutoMLOps runs in the
    /// component, never in the notebook.
    component_code_names: std::collections::HashSet<String>,
    /// What each imported name is: `ModelUploadOp` is
    /// `google_cloud_pipeline_components.v1.model.ModelUploadOp`.
    imports: HashMap<String, String>,
}

impl Env {
    pub(crate) fn with_overrides(overrides: HashMap<String, Value>) -> Self {
        Self {
            names: overrides.clone(),
            overrides,
            ..Self::default()
        }
    }

    /// Records a module-level binding; a plain assignment makes a name certain again.
    pub(crate) fn bind(&mut self, name: &str, value: Value) {
        self.imports.remove(name);
        let value = self.overrides.get(name).cloned().unwrap_or(value);
        self.uncertain.remove(name);
        self.assigned.insert(name.to_owned());
        self.names.insert(name.to_owned(), value);
    }

    /// The `-p` overrides that name no variable the notebook assigns, sorted.
    pub(crate) fn unused_overrides(&self) -> Vec<&str> {
        let mut unused: Vec<&str> = self
            .overrides
            .keys()
            .filter(|name| !self.assigned.contains(*name))
            .map(String::as_str)
            .collect();
        unused.sort_unstable();
        unused
    }

    /// Names the notebook assigns.
    pub(crate) fn assigned_names(&self) -> impl Iterator<Item = &str> {
        self.assigned.iter().map(String::as_str)
    }

    /// Marks `name` as possibly changed by a statement that is not run.
    pub(crate) fn mark_uncertain(&mut self, name: &str, uncertain: Uncertain) {
        if !self.overrides.contains_key(name) {
            self.uncertain.insert(name.to_owned(), uncertain);
        }
    }

    /// The uncertain names read since the last call, each once.
    pub(crate) fn take_touched(&self) -> Vec<Uncertain> {
        let mut touched = self.touched.take();
        touched.dedup();
        touched
    }

    /// Replaces the value of an existing name, as a mutation (`X[k] = v`) does.
    pub(crate) fn replace(&mut self, name: &str, value: Value) {
        if !self.overrides.contains_key(name) {
            self.names.insert(name.to_owned(), value);
        }
    }

    /// Records a name bound by something that is not a value (an import, a function).
    pub(crate) fn bind_opaque(&mut self, name: &str, span: Span, what: &str) {
        self.bind(
            name,
            Value::new(
                Kind::Unknown(Unknown::Dynamic {
                    what: what.to_owned(),
                    via: None,
                    run_time: None,
                }),
                Some(span),
            ),
        );
    }

    /// Records a name bound by an import of `origin` (the dotted path of what it names).
    pub(crate) fn bind_import(&mut self, name: &str, span: Span, origin: String) {
        self.bind_opaque(name, span, name);
        self.imports.insert(name.to_owned(), origin);
    }

    /// What a dotted name (`model.ModelUploadOp`) names through the imports, if its first part
    /// is imported.
    pub(crate) fn import_origin(&self, dotted: &str) -> Option<String> {
        let (root, rest) = dotted
            .split_once('.')
            .map_or((dotted, None), |(r, t)| (r, Some(t)));
        let origin = self.imports.get(root)?;
        Some(match rest {
            Some(rest) => format!("{origin}.{rest}"),
            None => origin.clone(),
        })
    }

    /// Records a name bound by a `%%define_component` cell's code, for the message of a later
    /// read of it; the name stays undefined in the notebook.
    pub(crate) fn bind_in_component_code(&mut self, name: &str) {
        self.component_code_names.insert(name.to_owned());
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.names.get(name)
    }

    /// A did-you-mean for an undefined name, among the names defined so far.
    pub(crate) fn suggest(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.names.keys().map(String::as_str))
    }

    /// The hint for reading `name`, which is not defined.
    fn undefined_hint(&self, name: &str) -> Option<String> {
        if self.component_code_names.contains(name) {
            return Some(format!(
                "`{name}` is assigned only in the code of a `%%define_component` cell, which runs inside the component, not in the notebook: assign it in a cell of its own"
            ));
        }
        self.suggest(name).map(|s| format!("did you mean `{s}`?"))
    }

    /// Evaluates `expr`; `source` maps a span to its text, for messages about unknown values.
    pub(crate) fn eval(&self, expr: &Expr, source: &dyn Fn(Span) -> String) -> Value {
        let span = Some(expr.span());
        let dynamic = || {
            Value::new(
                Kind::Unknown(Unknown::Dynamic {
                    what: shorten(&source(expr.span())),
                    via: None,
                    run_time: None,
                }),
                span,
            )
        };
        let kind = match expr {
            Expr::Str(s, _) => Kind::Str(s.clone()),
            Expr::Int(i, _) => Kind::Int(*i),
            Expr::Float(f, _) => Kind::Float(*f),
            Expr::Bool(b, _) => Kind::Bool(*b),
            Expr::None(_) => Kind::None,
            Expr::Name(name, _) => {
                if let Some(uncertain) = self.uncertain.get(name) {
                    let mut touched = self.touched.borrow_mut();
                    if !touched.contains(uncertain) {
                        touched.push(uncertain.clone());
                    }
                }
                if let Some(value) = self.names.get(name) {
                    // A constant computed at run time is reported where it is read, naming the
                    // constant (an import or a function, bound under its own name, is not one).
                    if let Kind::Unknown(Unknown::Dynamic {
                        what,
                        via,
                        run_time,
                    }) = &value.kind
                        && what != name
                    {
                        return Value::new(
                            Kind::Unknown(Unknown::Dynamic {
                                what: what.clone(),
                                via: via.clone().or_else(|| Some((name.clone(), value.span))),
                                run_time: run_time.clone(),
                            }),
                            span,
                        );
                    }
                    return value.clone();
                }
                match name.as_str() {
                    "str" => Kind::Type("str"),
                    "int" => Kind::Type("int"),
                    "float" => Kind::Type("float"),
                    "bool" => Kind::Type("bool"),
                    "list" => Kind::Type("list"),
                    "dict" => Kind::Type("dict"),
                    _ => Kind::Unknown(Unknown::Undefined {
                        name: name.clone(),
                        hint: self.undefined_hint(name),
                    }),
                }
            }
            Expr::List(items, _) | Expr::Tuple(items, _) => Kind::List(Arc::new(
                items.iter().map(|item| self.eval(item, source)).collect(),
            )),
            Expr::Dict(items, _) => {
                let mut entries: Vec<(String, Option<Span>, Value)> =
                    Vec::with_capacity(items.len());
                // Where each key is in `entries`: a key given again keeps its place and takes
                // the later value, as Python's dict display does.
                let mut at: HashMap<String, usize> = HashMap::new();
                for (key, value) in items {
                    let Some(key) = key else { return dynamic() };
                    let key_value = self.eval(key, source);
                    let Kind::Str(name) = key_value.kind else {
                        return Value::new(
                            Kind::Unknown(Unknown::Dynamic {
                                what: format!(
                                    "{} (dict keys must be strings)",
                                    shorten(&source(key.span()))
                                ),
                                via: None,
                                run_time: None,
                            }),
                            Some(key.span()),
                        );
                    };
                    let value = self.eval(value, source);
                    if let Some(&i) = at.get(&name) {
                        entries[i] = (name, Some(key.span()), value);
                    } else {
                        at.insert(name.clone(), entries.len());
                        entries.push((name, Some(key.span()), value));
                    }
                }
                Kind::Dict(Arc::new(entries))
            }
            Expr::FString(parts, _) => {
                let mut text = String::new();
                // Pieces computed at submission, once one is met.
                let mut run_time: Option<Vec<Part>> = None;
                let mut first_run_time: Option<Value> = None;
                for part in parts {
                    match part {
                        _ if text.len() > MAX_TEXT => {
                            return Value::new(too_large(shorten(&source(expr.span()))), span);
                        }
                        FStringPart::Literal(literal) => text.push_str(literal),
                        FStringPart::Expr { expr: inner, plain } => {
                            let value = self.eval(inner, source);
                            if !plain {
                                return dynamic();
                            }
                            if let Some(s) = python_str(&value) {
                                text.push_str(&s);
                            } else if let Some(pieces) = value.run_time_parts() {
                                let collected = run_time.get_or_insert_with(Vec::new);
                                push_text(collected, std::mem::take(&mut text));
                                collected.extend(pieces.iter().cloned());
                                first_run_time.get_or_insert(value);
                            } else if matches!(value.kind, Kind::Unknown(_)) {
                                return value;
                            } else {
                                return dynamic();
                            }
                        }
                    }
                }
                match (run_time, first_run_time) {
                    (Some(mut pieces), Some(first)) => {
                        push_text(&mut pieces, text);
                        return first.with_run_time(one_line(&source(expr.span())), pieces, span);
                    }
                    _ => Kind::Str(text),
                }
            }
            Expr::BinOp {
                left, op, right, ..
            } => {
                let (l, r) = (self.eval(left, source), self.eval(right, source));
                // Text joined with a value computed at submission is computed there too.
                if *op == BinOp::Add
                    && let (Some(a), Some(b)) = (l.text_parts(), r.text_parts())
                    && (l.run_time_parts().is_some() || r.run_time_parts().is_some())
                {
                    let mut pieces = a;
                    for piece in b {
                        match piece {
                            Part::Text(t) => push_text(&mut pieces, t),
                            other @ Part::Computed { .. } => pieces.push(other),
                        }
                    }
                    let first = if l.run_time_parts().is_some() { l } else { r };
                    return first.with_run_time(one_line(&source(expr.span())), pieces, span);
                }
                for side in [&l, &r] {
                    if matches!(side.kind, Kind::Unknown(_)) {
                        return side.clone();
                    }
                }
                match (op, &l.kind, &r.kind) {
                    (BinOp::Add, Kind::Str(a), Kind::Str(b)) => Kind::Str(format!("{a}{b}")),
                    (BinOp::Add, Kind::List(a), Kind::List(b)) => {
                        Kind::List(Arc::new(a.iter().chain(b.iter()).cloned().collect()))
                    }
                    (BinOp::Add, Kind::Int(a), Kind::Int(b)) => {
                        a.checked_add(*b).map_or_else(|| dynamic().kind, Kind::Int)
                    }
                    (BinOp::Sub, Kind::Int(a), Kind::Int(b)) => {
                        a.checked_sub(*b).map_or_else(|| dynamic().kind, Kind::Int)
                    }
                    (BinOp::Mult, Kind::Int(a), Kind::Int(b)) => {
                        a.checked_mul(*b).map_or_else(|| dynamic().kind, Kind::Int)
                    }
                    _ => return dynamic(),
                }
            }
            Expr::Neg(inner, _) => match self.eval(inner, source).kind {
                Kind::Int(i) => i.checked_neg().map_or_else(|| dynamic().kind, Kind::Int),
                Kind::Float(f) => Kind::Float(-f),
                unknown @ Kind::Unknown(_) => unknown,
                _ => return dynamic(),
            },
            Expr::Subscript { value, index, .. } => {
                let container = self.eval(value, source);
                let key = self.eval(index, source);
                match (&container.kind, &key.kind) {
                    (Kind::Dict(entries), Kind::Str(k)) => {
                        match entries.iter().find(|(name, _, _)| name == k) {
                            Some((_, _, v)) => return v.clone(),
                            None => return dynamic(),
                        }
                    }
                    (Kind::List(items), Kind::Int(i)) => {
                        let index = if *i < 0 {
                            items.len().checked_sub(i.unsigned_abs() as usize)
                        } else {
                            usize::try_from(*i).ok()
                        };
                        match index.and_then(|i| items.get(i)) {
                            Some(v) => return v.clone(),
                            None => return dynamic(),
                        }
                    }
                    (Kind::Unknown(Unknown::Undefined { .. }), _) => return container,
                    _ => return dynamic(),
                }
            }
            Expr::TooLarge(_) => Kind::Unknown(Unknown::Unsupported {
                what: shorten(&source(expr.span())),
                kind: "a number too large for the 64 bits of kfp's values",
            }),
            Expr::Call { .. } => {
                return self.run_time_call(expr, source).unwrap_or_else(dynamic);
            }
            Expr::Attribute { .. } | Expr::Compare { .. } | Expr::Other { .. } => {
                return dynamic();
            }
        };
        // A value holding one past the ceiling is past it too, reported where that one grew.
        let children: Box<dyn Iterator<Item = &Value>> = match &kind {
            Kind::List(items) => Box::new(items.iter()),
            Kind::Dict(entries) => Box::new(entries.iter().map(|(_, _, v)| v)),
            _ => Box::new(std::iter::empty()),
        };
        if let Some(past) = children.into_iter().find(|v| v.is_too_large()) {
            return past.clone();
        }
        let too_big = match &kind {
            Kind::Str(text) => text.len() > MAX_TEXT,
            Kind::List(_) | Kind::Dict(_) => too_many_elements(&kind),
            _ => false,
        };
        if too_big {
            return Value::new(too_large(shorten(&source(expr.span()))), span);
        }
        Value::new(kind, span)
    }
}

impl Env {
    /// The calls whose value is computed afresh at each submission (`RunTimeValue`):
    /// `datetime.now()`, `date.today()` (and their `.strftime(FORMAT)`), `time.time()`,
    /// `uuid.uuid4()`, and `str(...)` of one of them, recognised by what the notebook's
    /// imports bind (`from datetime import datetime as dt; dt.now()` too).
    fn run_time_call(&self, expr: &Expr, source: &dyn Fn(Span) -> String) -> Option<Value> {
        let Expr::Call {
            func,
            args,
            keywords,
            span,
        } = expr
        else {
            return None;
        };
        if !keywords.is_empty() {
            return None;
        }
        let dotted = func.dotted_name();
        let origin = dotted.as_deref().and_then(|d| self.import_origin(d));
        let computed = match (origin.as_deref(), args.as_slice()) {
            (Some("datetime.datetime.now" | "datetime.datetime.today"), []) => Source::Now,
            (Some("datetime.date.today"), []) => Source::Today,
            (Some("time.time"), []) => Source::Time,
            (Some("uuid.uuid4"), []) => Source::Uuid4,
            _ if dotted.as_deref() == Some("str") && args.len() == 1 => {
                let value = self.eval(&args[0], source);
                let pieces = value.run_time_parts()?.to_vec();
                return Some(value.with_run_time(
                    one_line(&source(expr.span())),
                    pieces,
                    Some(expr.span()),
                ));
            }
            _ => {
                // `X.strftime(FORMAT)` of a time or date computed at submission, called here or
                // held by a constant.
                let Expr::Attribute {
                    value: of, attr, ..
                } = func.as_ref()
                else {
                    return None;
                };
                let ([format], "strftime") = (args.as_slice(), attr.as_str()) else {
                    return None;
                };
                let Kind::Str(format) = self.eval(format, source).kind else {
                    return None;
                };
                let inner = self.eval(of, source);
                let [
                    Part::Computed {
                        source: of_source @ (Source::Now | Source::Today),
                        format: None,
                        call,
                    },
                ] = inner.run_time_parts()?
                else {
                    return None;
                };
                let part = Part::Computed {
                    source: *of_source,
                    format: Some(format),
                    call: call.clone(),
                };
                return Some(inner.with_run_time(
                    one_line(&source(expr.span())),
                    vec![part],
                    Some(expr.span()),
                ));
            }
        };
        let part = Part::Computed {
            source: computed,
            format: None,
            call: format!("c{}:{}", span.cell + 1, span.start),
        };
        Some(Value::new(
            Kind::Unknown(Unknown::Dynamic {
                what: one_line(&source(expr.span())),
                via: None,
                run_time: Some(vec![part]),
            }),
            Some(expr.span()),
        ))
    }
}

impl Value {
    /// The pieces of a value computed at each submission, if it is one.
    pub(crate) fn run_time_parts(&self) -> Option<&[Part]> {
        match &self.kind {
            Kind::Unknown(Unknown::Dynamic {
                run_time: Some(parts),
                ..
            }) => Some(parts),
            _ => None,
        }
    }

    /// The value as pieces of text: known text, or pieces computed at submission.
    fn text_parts(&self) -> Option<Vec<Part>> {
        match &self.kind {
            Kind::Str(s) => Some(vec![Part::Text(s.clone())]),
            _ => self.run_time_parts().map(<[Part]>::to_vec),
        }
    }

    /// This value (computed at submission, read through `via` if it was) as `parts`.
    fn with_run_time(&self, what: String, parts: Vec<Part>, span: Option<Span>) -> Value {
        let via = match &self.kind {
            Kind::Unknown(Unknown::Dynamic { via, .. }) => via.clone(),
            _ => None,
        };
        Value::new(
            Kind::Unknown(Unknown::Dynamic {
                what,
                via,
                run_time: Some(parts),
            }),
            span,
        )
    }
}

/// Appends text, joined to the text before it.
fn push_text(parts: &mut Vec<Part>, text: String) {
    if text.is_empty() {
        return;
    }
    if let Some(Part::Text(last)) = parts.last_mut() {
        last.push_str(&text);
    } else {
        parts.push(Part::Text(text));
    }
}

/// Python's `str()` of a scalar, as an f-string interpolates it.
fn python_str(value: &Value) -> Option<String> {
    Some(match &value.kind {
        Kind::Str(s) => s.clone(),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => crate::python::float_repr(*f),
        Kind::Bool(true) => "True".to_owned(),
        Kind::Bool(false) => "False".to_owned(),
        Kind::None => "None".to_owned(),
        _ => return None,
    })
}

/// An expression on one line, whitespace runs made one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps messages readable when the offending expression is long.
pub(crate) fn shorten(text: &str) -> String {
    let one_line = one_line(text);
    if one_line.chars().count() > 60 {
        let cut: String = one_line.chars().take(57).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::ast::Stmt;
    use crate::python::parse_cell;

    fn eval_in(setup: &str, expr: &str) -> Value {
        let mut env = Env::default();
        let text = format!("{setup}\n__value__ = {expr}\n");
        let stmts = parse_cell(0, &text, crate::python::CellScope::Notebook).unwrap();
        let source = |span: Span| text[span.start..span.end].to_owned();
        let mut last = None;
        for top in &stmts {
            if let Stmt::Import(import) = &top.stmt {
                for (binding, origin) in import.origins() {
                    env.bind_import(&binding, import.span, origin);
                }
            }
            if let Stmt::Assign { targets, value, .. } = &top.stmt {
                let v = env.eval(value, &source);
                if let Some(Expr::Name(name, _)) = targets.first() {
                    env.bind(name, v.clone());
                }
                last = Some(v);
            }
        }
        last.unwrap()
    }

    /// Calls computed at submission are known by what the imports bind, and a constant holds
    /// one call: its pieces share the call's name, so they share one value per submission.
    #[test]
    fn run_time_calls_follow_the_imports() {
        let parts =
            |setup: &str, expr: &str| eval_in(setup, expr).run_time_parts().map(<[Part]>::to_vec);
        let stamp = parts(
            "from datetime import datetime as dt\nSTAMP = dt.now()",
            "f'{STAMP.strftime(\"%Y\")}-{STAMP}'",
        )
        .expect("a run-time value");
        let [
            Part::Computed {
                source: Source::Now,
                format: Some(format),
                call: first,
            },
            Part::Text(dash),
            Part::Computed {
                source: Source::Now,
                format: None,
                call: second,
            },
        ] = stamp.as_slice()
        else {
            panic!("{stamp:?}")
        };
        assert_eq!((format.as_str(), dash.as_str()), ("%Y", "-"));
        assert_eq!(first, second);
        assert!(parts("from time import time", "str(time())").is_some());
        assert!(parts("import uuid as u", "u.uuid4()").is_some());
        // `datetime.now()` of the module is an AttributeError in Python, not a time.
        assert!(parts("import datetime", "datetime.now()").is_none());
        assert!(parts("", "uuid4()").is_none());
    }

    #[test]
    fn f_strings_use_module_constants() {
        let v = eval_in(
            "PROJECT_ID = 'p1'\nN = 3",
            "f'gs://{PROJECT_ID}-bucket/{N}/{1.5}'",
        );
        assert_eq!(v.as_str(), Some("gs://p1-bucket/3/1.5"));
    }

    #[test]
    fn calls_are_unknown_with_their_source() {
        let v = eval_in("import datetime", "{'a': 1, 'b': datetime.datetime.now()}");
        let (unknown, _) = v.first_unknown().unwrap();
        assert_eq!(
            unknown,
            &Unknown::Dynamic {
                what: "datetime.datetime.now()".into(),
                via: None,
                run_time: Some(vec![Part::Computed {
                    source: Source::Now,
                    format: None,
                    call: "c1:42".into(),
                }]),
            }
        );
        assert_eq!(v.to_json(), None);
    }

    /// A key given twice in a dict display keeps its first place and takes the later value,
    /// as in Python (`{'a': 1, 'b': 2, 'a': 3}` is `{'a': 3, 'b': 2}`): the value holds each
    /// key once, so nothing written from it repeats a keyword.
    #[test]
    fn dict_keys_given_twice_keep_the_later_value() {
        let v = eval_in("", "{'a': 1, 'b': 2, 'a': 3}");
        assert_eq!(v.to_json(), Some(serde_json::json!({"a": 3, "b": 2})));
        let Kind::Dict(entries) = &v.kind else {
            panic!("{v:?}")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn undefined_names_suggest_defined_ones() {
        let v = eval_in("PROJECT_ID = 'p'", "PROJET_ID");
        assert!(matches!(
            v.kind,
            Kind::Unknown(Unknown::Undefined { ref hint, .. }) if hint.as_deref() == Some("did you mean `PROJECT_ID`?")
        ));
    }

    #[test]
    fn python_floats_print_like_python() {
        assert_eq!(crate::python::float_repr(1.0), "1.0");
        assert_eq!(crate::python::float_repr(0.25), "0.25");
        assert_eq!(crate::python::float_repr(1e-5), "1e-05");
    }

    #[test]
    fn subscripts_and_concatenation_of_known_values() {
        let v = eval_in(
            "CFG = {'region': 'eu'}\nL = [1, 2]",
            "CFG['region'] + '-' + str(L[-1])",
        );
        assert!(matches!(v.kind, Kind::Unknown(_)), "str() is a call");
        let v = eval_in("CFG = {'region': 'eu'}", "CFG['region'] + '-west1'");
        assert_eq!(v.as_str(), Some("eu-west1"));
    }
}
