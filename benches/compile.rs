//! `cargo bench`: compile time of generated notebooks of 10, 100 and 1,000 components, in
//! process, and the split across phases; and of the pathological inputs of issue #15 (a cell
//! of 100,000 syntax errors, deep nesting, constants that reuse themselves). Whole-process timing, memory, kfp's Python compiler
//! and the 10,000-component case are in `bench/run.sh` (see BENCHMARKS.md).

use std::hint::black_box;
use std::time::Duration;

use automlops::compile::{Options, compile};
use automlops::notebook::Notebook;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// A custom-syntax notebook: `n` components in a chain, each with a realistic body.
fn notebook(n: usize) -> Notebook {
    let mut cells = vec![
        "PROJECT_ID = \"bench-project\"".to_owned(),
        "%%define_imports\nimport json\nimport os\nimport pandas as pd\nfrom google.cloud import storage".to_owned(),
    ];
    for i in 0..n {
        cells.push(format!(
            r#"%%define_component
AutoMLOps.makeComponent(
    name="step_{i:05}",
    description="Step {i} of the benchmark pipeline: reads a table, transforms it, writes it.",
    params=[
        {{"name": "data_path", "type": str, "description": "Where the data is."}},
        {{"name": "threshold", "type": float, "description": "Rows below are dropped."}},
        {{"name": "rounds", "type": int}},
    ],
)
def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Drops empty rows and duplicates."""
    frame = frame.dropna()
    return frame.drop_duplicates()

frame = pd.read_csv(data_path)
for _ in range(rounds):
    frame = clean(frame)
    frame = frame[frame["score"] >= threshold]
summary = {{"rows": len(frame), "step": {i}}}
bucket, _, prefix = data_path.removeprefix("gs://").partition("/")
blob = storage.Client().bucket(bucket).blob(os.path.join(prefix, "summary_{i}.json"))
blob.upload_from_string(json.dumps(summary))
frame.to_csv(data_path, index=False)"#
        ));
    }
    let steps: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"component_name": "step_{i:05}", "param_mapping": [("data_path", "data_path"), ("threshold", "threshold"), ("rounds", "rounds")]}}"#
            )
        })
        .collect();
    cells.push(format!(
        "AutoMLOps.makePipeline(name=\"bench-pipeline\", params=[{{\"name\": \"data_path\", \"type\": str}}, {{\"name\": \"threshold\", \"type\": float}}, {{\"name\": \"rounds\", \"type\": int}}], pipeline=[{}])",
        steps.join(",\n")
    ));
    cells.push(
        "AutoMLOps.go(project_id=PROJECT_ID, pipeline_params={\"data_path\": f\"gs://{PROJECT_ID}-bucket/data.csv\", \"threshold\": 0.5, \"rounds\": 2})"
            .to_owned(),
    );
    Notebook::from_code_cells("bench.ipynb", &cells)
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for n in [10, 100, 1000] {
        let notebook = notebook(n);
        let options = Options::default();
        group.bench_with_input(BenchmarkId::from_parameter(n), &notebook, |b, notebook| {
            b.iter(|| black_box(compile(notebook, &options).map(|c| c.artifacts.files.len())));
        });
        // The split across phases, averaged over a few compiles.
        let runs = 5;
        let (mut parse, mut analyze, mut emit) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for _ in 0..runs {
            if let Ok(compiled) = compile(&notebook, &options) {
                parse += compiled.timings.parse;
                analyze += compiled.timings.analyze;
                emit += compiled.timings.emit;
            }
        }
        eprintln!(
            "phases for {n} components: parse {:.2?}, analyze {:.2?}, emit {:.2?}",
            parse / runs,
            analyze / runs,
            emit / runs
        );
    }
    group.finish();
}

/// Inputs that once took quadratic or exponential time (issue #15): each must end within 2 s
/// on the reference machine, with located errors or a compile. Compiled on a thread with the
/// command line's stack, as `automlops compile` compiles.
fn pathological(c: &mut Criterion) {
    let tail = [
        "from kfp import dsl\n@dsl.component\ndef a(x: int):\n    print(x)\n@dsl.pipeline(name=\"p\")\ndef pipeline(x: int = 1):\n    a(x=x)\n".to_owned(),
        "from google_cloud_automlops import AutoMLOps\nAutoMLOps.generate(project_id=\"my-project\", use_kfp_spec=True)\n".to_owned(),
    ];
    let cases = [
        ("syntax-errors-100k", "x = = 1\n".repeat(100_000)),
        (
            "await-chain-200k",
            format!("x = {}y\n", "await ".repeat(200_000)),
        ),
        (
            "brackets-100k",
            format!("x = {}{}\n", "(".repeat(100_000), ")".repeat(100_000)),
        ),
        (
            "shared-dicts-30",
            format!("A = 1\n{}", "A = {'a': A, 'b': A}\n".repeat(30)),
        ),
        (
            "doubled-fstrings-30",
            format!("A = 'x'\n{}", "A = f'{A}{A}'\n".repeat(30)),
        ),
    ];
    let mut group = c.benchmark_group("pathological");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, cell) in cases {
        let mut cells = vec![cell];
        cells.extend(tail.iter().cloned());
        let notebook = Notebook::from_code_cells("pathological.ipynb", &cells);
        group.bench_function(name, |b| {
            b.iter(|| {
                std::thread::scope(|scope| {
                    std::thread::Builder::new()
                        .stack_size(1 << 30)
                        .spawn_scoped(scope, || {
                            black_box(compile(&notebook, &Options::default()).is_ok())
                        })
                        .map(|handle| handle.join().ok())
                })
            });
        });
    }
    group.finish();
}

criterion_group!(compile_benches, benches, pathological);
criterion_main!(compile_benches);
