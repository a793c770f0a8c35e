//! A mutation fuzzer for the whole compile, on stable Rust (cargo-fuzz needs a nightly
//! toolchain, which this project does not use). Seeds are the example notebooks and the
//! fixture notebooks; each round mutates one (cut, insert a token of Python or of the
//! notebook syntaxes, duplicate a line many times, nest brackets deep, make a constant reuse
//! itself, or mangle the notebook's JSON), compiles it on a thread with the command line's
//! stack, and checks:
//! - nothing panics;
//! - a failed compile has at least one error, and every span lies on the cell's character
//!   boundaries and renders;
//! - a successful compile's tree verifies (`automlops::emit::verify`: Python parses, JSON and
//!   YAML load, Dockerfiles hold our instructions only);
//! - in a configured run (`AUTOMLOPS_FUZZ_SECONDS` or `AUTOMLOPS_FUZZ_INPUTS` set, in the
//!   release profile): each input (at most 1 MiB) ends within 2 s, and its peak memory (the
//!   process's, reset before each input through `/proc/self/clear_refs`) stays under 512 MiB.
//!
//! `cargo test --test fuzz` runs it for 2 seconds with a fixed seed. `AUTOMLOPS_FUZZ_SEED=S`
//! sets the seed, and the run stops after `AUTOMLOPS_FUZZ_INPUTS=N` inputs (the same inputs on
//! every machine: `.ci/run` uses this, so its verdict never depends on luck or speed) or
//! `AUTOMLOPS_FUZZ_SECONDS=N` seconds (to explore with new seeds). A finding is written to
//! `target/fuzz-findings/` and fails the run; each one fixed becomes a fixture or a test.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automlops::compile::{CompileError, Options, compile};
use automlops::notebook::Notebook;

/// Tokens that steer mutations towards what the compiler reads.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "=",
    ",",
    ".",
    "\"",
    "'",
    "\n",
    "    ",
    "#",
    "\\",
    "f\"{",
    "}\"",
    "def ",
    "class ",
    "return ",
    "await ",
    "yield ",
    "lambda: ",
    "async ",
    "for x in ",
    "with ",
    "if ",
    "else:",
    "*",
    "**",
    "@dsl.component\n",
    "@dsl.pipeline(name=\"p\")\n",
    "@dsl.container_component\n",
    "dsl.ContainerSpec(image=",
    "dsl.ParallelFor(",
    "dsl.If(",
    "dsl.Condition(",
    "dsl.ExitHandler(",
    ".after(",
    ".set_env_variable(",
    "AutoMLOps.",
    "makeComponent(",
    "makePipeline(",
    "go(",
    "generate(",
    "%%define_component\n",
    "%%define_imports\n",
    "!pip install x\n",
    "%time ",
    "None",
    "True",
    "1e400",
    "9223372036854775808",
    "datetime.now()",
    "import os\n",
    "from kfp import dsl\n",
    "Input[Dataset]",
    "Output[Model]",
    "OutputPath(str)",
    "NamedTuple(",
    "é",
    "\u{0}",
    "\r",
    "\u{2028}",
    "load_component_from_text(",
    "importer(",
    "ModelUploadOp(",
];

/// The memory one input may take, process included.
const MEMORY_BUDGET_MIB: u64 = 512;

/// The largest notebook the fuzzer compiles, in bytes (the budgets are for 1 MiB).
const MAX_INPUT: usize = 1 << 20;

/// xorshift64*: deterministic, seedable, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds(root: &Path) -> Vec<Vec<String>> {
    let mut seeds = Vec::new();
    let mut visit = vec![root.join("examples"), root.join("tests/fixtures")];
    while let Some(dir) = visit.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                visit.push(path);
            } else if path.extension().is_some_and(|e| e == "ipynb") {
                if let Ok(notebook) = std::fs::read_to_string(&path)
                    .map_err(|_| ())
                    .and_then(|t| Notebook::parse("n.ipynb", &t).map_err(|_| ()))
                {
                    seeds.push(notebook.cells.into_iter().map(|c| c.source).collect());
                }
            } else if path.extension().is_some_and(|e| e == "py")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                seeds.push(
                    text.split("\n# %%")
                        .skip(1)
                        .map(|cell| {
                            cell.split_once('\n')
                                .map_or("", |(_, rest)| rest)
                                .to_owned()
                        })
                        .collect(),
                );
            }
        }
    }
    seeds
}

fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mutate(cells: &mut Vec<String>, rng: &mut Rng) {
    if cells.is_empty() {
        cells.push(String::new());
    }
    let index = rng.below(cells.len());
    let cell = &mut cells[index];
    let at = boundary(cell, rng.below(cell.len() + 1));
    match rng.below(9) {
        0 | 1 => {
            let end = boundary(cell, at + rng.below(40));
            cell.replace_range(at..end, "");
        }
        2..=4 => cell.insert_str(at, TOKENS[rng.below(TOKENS.len())]),
        5 => {
            // A line repeated many times.
            let start = cell[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = cell[at..].find('\n').map_or(cell.len(), |i| at + i);
            let line = format!("{}\n", &cell[start..end]);
            cell.insert_str(start, &line.repeat(1 + rng.below(2000)));
        }
        6 => {
            let depth = 1 + rng.below(5000);
            let (open, close) = [("(", ")"), ("[", "]"), ("{", "}")][rng.below(3)];
            cell.insert_str(
                at,
                &format!("{}{}", open.repeat(depth), close.repeat(depth)),
            );
        }
        7 => {
            // A constant that reuses itself.
            let times = 1 + rng.below(40);
            let line = ["X = {'a': X, 'b': X}\n", "X = [X, X]\n", "X = f'{X}{X}'\n"][rng.below(3)];
            cells.insert(index, format!("X = 1\n{}", line.repeat(times)));
        }
        _ => {
            let other = rng.below(cells.len());
            cells.swap(index, other);
        }
    }
}

/// Why the input is a finding, if it is one.
fn check(notebook: &Notebook, budget: Option<Duration>) -> Option<String> {
    let started = Instant::now();
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    compile(notebook, &Options::default())
                }))
            })
            .ok()
            .and_then(|handle| handle.join().ok())
    });
    let elapsed = started.elapsed();
    let Some(outcome) = outcome else {
        return Some("the compile thread could not run".to_owned());
    };
    let Ok(result) = outcome else {
        return Some("panic".to_owned());
    };
    if let Some(budget) = budget
        && elapsed > budget
    {
        return Some(format!("took {elapsed:?}"));
    }
    match result {
        Ok(compiled) => {
            let problems = automlops::emit::verify(&compiled.artifacts);
            (!problems.is_empty()).then(|| format!("output does not verify: {problems:?}"))
        }
        Err(CompileError::Notebook(diagnostics)) => {
            if !diagnostics
                .iter()
                .any(automlops::diagnostic::Diagnostic::is_error)
            {
                return Some("a failed compile without an error".to_owned());
            }
            for diagnostic in &diagnostics {
                if let Some(span) = diagnostic.span {
                    let Some(cell) = notebook.cells.get(span.cell) else {
                        return Some(format!("a span in no cell: {diagnostic:?}"));
                    };
                    let source = &cell.source;
                    if span.start > span.end
                        || span.end > source.len()
                        || !source.is_char_boundary(span.start)
                        || !source.is_char_boundary(span.end)
                    {
                        return Some(format!("a span off the text: {diagnostic:?}"));
                    }
                }
                let _ = automlops::render::render(notebook, diagnostic, false);
            }
            None
        }
        Err(CompileError::Emit(error)) => Some(format!("emit failed: {error}")),
    }
}

/// Starts a new peak-memory measurement: Linux resets `VmHWM` to the current resident size when
/// `5` is written to `/proc/self/clear_refs`. Whether it could.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let number = |name: &str| -> Option<u64> {
        let text = std::env::var(name).ok()?;
        match text.parse() {
            Ok(n) => Some(n),
            Err(e) => panic!("{name}={text} is not a number: {e}"),
        }
    };
    let max_inputs = number("AUTOMLOPS_FUZZ_INPUTS");
    let configured_seconds = number("AUTOMLOPS_FUZZ_SECONDS");
    let configured = max_inputs.is_some() || configured_seconds.is_some();
    let seconds = configured_seconds.unwrap_or(if max_inputs.is_some() {
        u64::MAX / 4
    } else {
        2
    });
    let seed: u64 = number("AUTOMLOPS_FUZZ_SEED").unwrap_or(0x5eed);
    // Time and memory budgets only in a configured run (release profile, `.ci/run`): tests
    // never assert on time.
    let budget = configured.then(|| Duration::from_secs(2));
    let corpus = seeds(root);
    assert!(corpus.len() > 50, "the seed corpus is missing");
    let mut rng = Rng(seed | 1);
    let findings = root.join("target/fuzz-findings");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let (mut inputs, mut found) = (0u64, 0u64);
    // The largest peak of one input, where each is measured.
    let mut largest_peak: Option<u64> = None;
    while Instant::now() < deadline && max_inputs.is_none_or(|max| inputs < max) {
        let mut cells = corpus[rng.below(corpus.len())].clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut cells, &mut rng);
        }
        let notebook = if rng.below(20) == 0 {
            // The notebook reader, on mangled JSON.
            let mut json = serde_json::to_string(&serde_json::json!({
                "cells": cells.iter().map(|c| serde_json::json!({"cell_type": "code", "source": c, "metadata": {}, "outputs": []})).collect::<Vec<_>>(),
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
            }))
            .unwrap_or_default();
            let at = boundary(&json, rng.below(json.len() + 1));
            json.insert_str(at, ["\"", "{", "]", "\\u0000", "null", ","][rng.below(6)]);
            match Notebook::parse("n.ipynb", &json) {
                Ok(notebook) => notebook,
                Err(_) => continue,
            }
        } else {
            Notebook::from_code_cells("n.ipynb", &cells)
        };
        // The budgets are for notebooks of up to 1 MiB; larger inputs are not generated.
        if notebook.cells.iter().map(|c| c.source.len()).sum::<usize>() > MAX_INPUT {
            continue;
        }
        inputs += 1;
        // Each input's own peak, where Linux lets it be measured; else the run's, at the end.
        let per_input = budget.is_some() && reset_peak_memory();
        let why = check(&notebook, budget).or_else(|| {
            let peak = per_input.then(peak_memory_mib).flatten()?;
            largest_peak = largest_peak.max(Some(peak));
            (peak > MEMORY_BUDGET_MIB).then(|| format!("peak memory {peak} MiB"))
        });
        if let Some(why) = why {
            found += 1;
            let _ = std::fs::create_dir_all(&findings);
            let path = findings.join(format!("finding-{seed}-{inputs}.json"));
            let sources: Vec<&str> = notebook.cells.iter().map(|c| c.source.as_str()).collect();
            let _ = std::fs::write(
                &path,
                serde_json::to_string_pretty(&sources).unwrap_or_default(),
            );
            eprintln!("finding: {why}\n  input: {}", path.display());
        }
    }
    let memory = largest_peak.or_else(peak_memory_mib);
    eprintln!(
        "fuzz: {inputs} inputs in {} s (seed {seed}, {} seeds), {found} findings, peak memory {} MiB",
        started.elapsed().as_secs(),
        corpus.len(),
        memory.map_or_else(|| "?".to_owned(), |m| m.to_string())
    );
    if budget.is_some() && memory.is_some_and(|m| m > MEMORY_BUDGET_MIB) {
        eprintln!("finding: peak memory above {MEMORY_BUDGET_MIB} MiB");
        found += 1;
    }
    if found > 0 {
        std::process::exit(1);
    }
}
