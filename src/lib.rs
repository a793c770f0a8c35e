//! automlops: compile a Jupyter notebook into a Vertex AI `MLOps` codebase, statically.
//!
//! # Steps
//! 1. [`notebook`]: read the `.ipynb` JSON into cells; IPython-only lines are blanked.
//! 2. `python`: parse each code cell into a small AST of our own (the only user of the parser).
//! 3. `analyze`: evaluate constants, read the `AutoMLOps.go(...)`/`generate(...)` options, and
//!    turn the chosen syntax's definitions into checked components and a pipeline DAG; Google
//!    Cloud Pipeline Components come from a catalogue generated from the pinned package and
//!    embedded (`data/gcpc/`); every mistake becomes a located [`diagnostic::Diagnostic`].
//! 4. `model`: the plain data the emitters read.
//! 5. `emit`: the output tree in memory (KFP IR, component files, Python, Dockerfile, config);
//!    [`emit::write`] puts it on disk atomically.
//!
//! Beside the compiler, [`plan_summary`] turns a Terraform plan into the review the generated
//! CI posts on pull requests.
//!
//! [`compile::compile`] chains steps 1 to 5 without I/O; [`cli`] is the thin shell around it.

pub(crate) mod analyze;
pub mod cli;
pub mod compile;
pub mod diagnostic;
pub mod emit;
pub(crate) mod lexical;
pub mod local_run;
pub(crate) mod model;
pub mod notebook;
pub(crate) mod parallel;
pub mod plan_summary;
pub(crate) mod python;
pub mod render;
pub(crate) mod strict_json;
