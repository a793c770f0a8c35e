//! Our small view of Python: the statements and expressions automlops understands, each with
//! its [`Span`]. Everything else is kept as `Other` with its span, so later phases can point at
//! it and say what is supported instead.

use crate::diagnostic::Span;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stmt {
    FunctionDef(FunctionDef),
    /// `a = b = value`; targets that are not plain names are `Expr::Other`.
    Assign {
        targets: Vec<Expr>,
        value: Expr,
        span: Span,
    },
    /// `a: T = value`.
    AnnAssign {
        target: Expr,
        value: Option<Expr>,
        span: Span,
    },
    Expr(Expr),
    /// `a += value`.
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
        span: Span,
    },
    Import(Import),
    /// `with a as b, c:` (dsl control flow lives here; the phases that do not support it say so).
    With {
        items: Vec<(Expr, Option<Expr>)>,
        body: Vec<Stmt>,
        span: Span,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    Pass(Span),
    Return(Option<Expr>, Span),
    /// Any other statement (class, if, try, ...), with a short name for messages.
    Other {
        kind: &'static str,
        span: Span,
    },
}

impl Stmt {
    pub(crate) fn span(&self) -> Span {
        match self {
            Stmt::FunctionDef(def) => def.span,
            Stmt::Expr(expr) => expr.span(),
            Stmt::Import(import) => import.span,
            Stmt::Assign { span, .. }
            | Stmt::AugAssign { span, .. }
            | Stmt::AnnAssign { span, .. }
            | Stmt::With { span, .. }
            | Stmt::For { span, .. }
            | Stmt::Pass(span)
            | Stmt::Return(_, span)
            | Stmt::Other { span, .. } => *span,
        }
    }
}

/// One `import a.b as c` or `from a.b import c as d` statement, flattened to the names it binds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Import {
    /// `Some(module)` for `from module import ...` (with leading dots for relative imports).
    pub(crate) from: Option<String>,
    pub(crate) names: Vec<ImportedName>,
    pub(crate) span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ImportedName {
    /// The dotted name after `import`.
    pub(crate) name: String,
    pub(crate) alias: Option<String>,
}

impl Import {
    /// Each name the import binds, with the dotted path of what it names: `from a.b import C
    /// as D` binds `D` to `a.b.C`, `import a.b` binds `a` to `a`, `import a.b as c` binds `c`
    /// to `a.b`.
    pub(crate) fn origins(&self) -> Vec<(String, String)> {
        self.names
            .iter()
            .map(|name| {
                let binding = name.binding(self.from.is_some()).to_owned();
                let origin = match &self.from {
                    Some(module) => format!("{module}.{}", name.name),
                    None if name.alias.is_some() => name.name.clone(),
                    None => binding.clone(),
                };
                (binding, origin)
            })
            .collect()
    }
}

impl ImportedName {
    /// The local name the import binds: `import a.b` binds `a`, `import a.b as c` binds `c`.
    pub(crate) fn binding(&self, from: bool) -> &str {
        match &self.alias {
            Some(alias) => alias,
            None if from => &self.name,
            None => self.name.split('.').next().unwrap_or(&self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FunctionDef {
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) decorators: Vec<Expr>,
    pub(crate) params: Vec<Param>,
    /// `*args`/`**kwargs`/positional-only markers, which components cannot have.
    pub(crate) variadic: Option<Span>,
    pub(crate) returns: Option<Expr>,
    pub(crate) docstring: Option<String>,
    /// The statements of a function that may be a pipeline (decorated `...pipeline`); empty
    /// for other functions, whose bodies are read as text.
    pub(crate) body: Vec<Stmt>,
    /// From the first decorator to the end of the body.
    pub(crate) span: Span,
    /// From `def` (or `async def`) to the end of the body: the source without decorators.
    pub(crate) def_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) annotation: Option<Expr>,
    pub(crate) default: Option<Expr>,
    pub(crate) span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Keyword {
    /// `None` for `**kwargs`.
    pub(crate) name: Option<String>,
    pub(crate) value: Expr,
    pub(crate) span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FStringPart {
    Literal(String),
    /// `{expr}`; `plain` is false when a conversion (`!r`), format spec or `=` is present,
    /// which static evaluation does not reproduce.
    Expr {
        expr: Expr,
        plain: bool,
    },
}

/// A comparison operator: the six kfp conditions accept (`is`, `in` are `Other`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Other,
}

impl CmpOp {
    /// As Python and CEL write it.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::LtE => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtE => ">=",
            CmpOp::Other => "?",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mult,
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Name(String, Span),
    Attribute {
        value: Box<Expr>,
        attr: String,
        span: Span,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
        span: Span,
    },
    Subscript {
        value: Box<Expr>,
        index: Box<Expr>,
        span: Span,
    },
    Str(String, Span),
    FString(Vec<FStringPart>, Span),
    Int(i64, Span),
    Float(f64, Span),
    Bool(bool, Span),
    None(Span),
    List(Vec<Expr>, Span),
    Tuple(Vec<Expr>, Span),
    /// Keys are `None` for `**spread`.
    Dict(Vec<(Option<Expr>, Expr)>, Span),
    BinOp {
        left: Box<Expr>,
        op: BinOp,
        right: Box<Expr>,
        span: Span,
    },
    Neg(Box<Expr>, Span),
    /// `left op right`, one operator (a chained comparison is `Other`).
    Compare {
        left: Box<Expr>,
        op: CmpOp,
        right: Box<Expr>,
        span: Span,
    },
    /// A number literal no 64-bit value holds (`9223372036854775808`, `1e400`); kfp's values
    /// are 64-bit.
    TooLarge(Span),
    /// Any other expression, with a short name for messages ("a lambda", "a comparison").
    Other {
        kind: &'static str,
        span: Span,
    },
}

impl Expr {
    pub(crate) fn span(&self) -> Span {
        match self {
            Expr::Name(_, span)
            | Expr::Str(_, span)
            | Expr::FString(_, span)
            | Expr::Int(_, span)
            | Expr::Float(_, span)
            | Expr::Bool(_, span)
            | Expr::None(span)
            | Expr::List(_, span)
            | Expr::Tuple(_, span)
            | Expr::Dict(_, span)
            | Expr::Neg(_, span)
            | Expr::TooLarge(span)
            | Expr::Attribute { span, .. }
            | Expr::Call { span, .. }
            | Expr::Subscript { span, .. }
            | Expr::BinOp { span, .. }
            | Expr::Compare { span, .. }
            | Expr::Other { span, .. } => *span,
        }
    }

    /// The dotted name of `a`, `a.b`, `a.b.c`; `None` for anything else.
    pub(crate) fn dotted_name(&self) -> Option<String> {
        match self {
            Expr::Name(name, _) => Some(name.clone()),
            Expr::Attribute { value, attr, .. } => {
                let mut base = value.dotted_name()?;
                base.push('.');
                base.push_str(attr);
                Some(base)
            }
            _ => None,
        }
    }

    /// A short description of the expression's kind, for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Expr::Name(..) => "a name",
            Expr::Attribute { .. } => "an attribute",
            Expr::Call { .. } => "a function call",
            Expr::Subscript { .. } => "a subscript",
            Expr::Str(..) => "a string",
            Expr::FString(..) => "an f-string",
            Expr::Int(..) => "an integer",
            Expr::Float(..) => "a float",
            Expr::Bool(..) => "a boolean",
            Expr::None(..) => "`None`",
            Expr::List(..) => "a list",
            Expr::Tuple(..) => "a tuple",
            Expr::Dict(..) => "a dict",
            Expr::BinOp { .. } => "an arithmetic expression",
            Expr::Neg(..) => "a negation",
            Expr::Compare { .. } => "a comparison",
            Expr::TooLarge(..) => "a number too large for 64 bits",
            Expr::Other { kind, .. } => kind,
        }
    }
}
