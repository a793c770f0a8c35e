#!/usr/bin/env python3
"""Writes a benchmark notebook in AutoMLOps 1.0 syntax with N components.

    python3 bench/gen_notebook.py --shape chain|fanout|layered --syntax custom|kfp --n N --out FILE.ipynb

Every component is distinct (comp_00001, comp_00002, ...) and has a realistic body of 20 to 50
lines: imports, helper functions with docstrings (Args:, Returns:), pandas, numpy, scikit-learn
and google.cloud.storage code. The notebook compiles with `automlops compile` without errors
or warnings.

Shapes:

  chain    N tasks, each consuming the table (an artifact) of the one before.
  fanout   one source task, N-2 parallel tasks consuming its table, and one sink task
           that reads the source table and runs after every parallel task
           (`.after(...)` over all N-2 task variables).
  layered  layers of width ceil(sqrt(N)); every task after the first layer consumes the
           tables of one or two tasks of the layer before (chosen with a fixed seed).

In the Kubeflow syntax, components that take a `threshold` (half of them) get it from the
score (the float return value) of their first parent, so parameters flow between tasks too.

The custom syntax (`%%define_component`, `AutoMLOps.makePipeline`) can only express a chain:
makePipeline runs its steps in list order and param_mapping only maps pipeline parameters,
so there is no data flow between steps to fan out. With --syntax custom, every shape is a
chain of N steps (each step reads the CSV the step before wrote, by a path derived from the
`data_root` pipeline parameter); --shape only changes the title and the pipeline's name.
In the Kubeflow syntax, fanout and layered with N < 3 are chains too.

The output is deterministic: the same arguments give the same bytes.
"""

import argparse
import json
import math
import random
import sys

# --------------------------------------------------------------------------------------------
# Pipeline parameters shared by both syntaxes: name -> (python type name, value).
PIPELINE_PARAMS = {
    "project_id": ("str", "bench-project"),
    "data_root": ("str", "gs://bench-project-bucket/bench"),
    "label_column": ("str", "label"),
    "sample_rows": ("int", 5000),
    "threshold": ("float", 0.5),
    "seed": ("int", 42),
    "verbose": ("bool", False),
    "columns": ("list", ["area", "perimeter", "eccentricity"]),
    "options": ("dict", {"compression": "gzip", "overwrite": True}),
}

PARAM_DOCS = {
    "project_id": "Google Cloud project ID.",
    "data_root": "GCS prefix under which every stage writes its table.",
    "label_column": "Name of the target column.",
    "sample_rows": "Maximum number of rows kept.",
    "threshold": "Decision threshold, or score of the step before.",
    "seed": "Random seed of the split and of the model.",
    "verbose": "Print details of the step.",
    "columns": "Feature columns to keep.",
    "options": "Export options (compression, overwrite).",
}

# Kinds of component, used in turn. Each lists the scalar parameters its body reads.
KINDS = ["profile", "scale", "train", "export"]
KIND_PARAMS = {
    "profile": ["project_id", "sample_rows"],
    "scale": ["label_column", "threshold", "verbose"],
    "train": ["label_column", "threshold", "seed"],
    "export": ["project_id", "columns", "options"],
    "report": ["project_id"],
}
KIND_DOC = {
    "profile": "Profiles the table, drops incomplete rows and keeps a sample.",
    "scale": "Clips outliers and standardizes the numeric feature columns.",
    "train": "Trains a logistic regression on the table and scores it.",
    "export": "Keeps the feature columns and uploads the table to GCS.",
    "report": "Writes a Markdown report of the final table.",
}
KIND_PACKAGES = {
    "profile": ["pandas", "numpy", "google-cloud-storage"],
    "scale": ["pandas", "numpy", "scikit-learn"],
    "train": ["pandas", "numpy", "scikit-learn"],
    "export": ["pandas", "google-cloud-storage"],
    "report": ["pandas", "google-cloud-storage"],
}
# Imports each kind's body uses (the kfp syntax imports them inside the function).
KIND_IMPORTS = {
    "profile": ["import json", "", "import numpy as np", "import pandas as pd",
                "from google.cloud import storage"],
    "scale": ["import math", "", "import numpy as np", "import pandas as pd",
              "from sklearn.preprocessing import StandardScaler"],
    "train": ["import numpy as np", "import pandas as pd",
              "from sklearn.linear_model import LogisticRegression",
              "from sklearn.metrics import accuracy_score",
              "from sklearn.model_selection import train_test_split"],
    "export": ["import json", "import os", "", "import pandas as pd",
               "from google.cloud import storage"],
    "report": ["import os", "", "import pandas as pd", "from google.cloud import storage"],
}
# The custom syntax's %%define_imports cell: the union of the above.
CUSTOM_IMPORTS = """%%define_imports
import json
import math
import os

import numpy as np
import pandas as pd
from google.cloud import storage
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler"""

SPLIT_URI = '''def split_gcs_uri(uri: str) -> tuple:
    """Splits a gs:// URI into its bucket and object names.

    Args:
        uri: A URI of the form gs://bucket/path.
    """
    bucket_name, _, blob_name = uri.removeprefix('gs://').partition('/')
    return bucket_name, blob_name
'''


def kind_body(kind):
    """The body of a component of `kind`, at top level, reading `frame` (a DataFrame already
    loaded) and writing `output_uri`; it leaves its score in `score`."""
    if kind == "profile":
        return SPLIT_URI + '''

def summarize(data: pd.DataFrame, names: list) -> dict:
    """Computes the mean, standard deviation and null fraction of columns.

    Args:
        data: The table to describe.
        names: The numeric columns to describe.
    """
    stats = {}
    for name in names:
        values = data[name].to_numpy(dtype=float)
        stats[name] = {'mean': float(np.nanmean(values)), 'std': float(np.nanstd(values)),
                       'nulls': float(np.isnan(values).mean())}
    return stats


numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
stats = summarize(frame, numeric)
frame = frame.dropna(subset=numeric).head(sample_rows)
bucket_name, blob_name = split_gcs_uri(output_uri)
client = storage.Client(project=project_id)
client.bucket(bucket_name).blob(blob_name + '.stats.json').upload_from_string(
    json.dumps(stats, indent=2), content_type='application/json')
frame.to_csv(output_uri, index=False)
score = len(frame) / max(sample_rows, 1)
print(f'step {step}: kept {len(frame)} rows and {len(numeric)} numeric columns')
'''
    if kind == "scale":
        return '''def clip_outliers(data: pd.DataFrame, names: list, z_max: float) -> pd.DataFrame:
    """Clips values further than z_max standard deviations from the column mean.

    Args:
        data: The table to clip.
        names: The columns to clip.
        z_max: How many standard deviations are kept.

    Returns:
        A clipped copy of the table.
    """
    clipped = data.copy()
    for name in names:
        mean = clipped[name].mean()
        std = clipped[name].std() or 1.0
        clipped[name] = clipped[name].clip(mean - z_max * std, mean + z_max * std)
    return clipped


numeric = frame.select_dtypes(include=[np.number]).columns.tolist()
features = [c for c in numeric if c != label_column]
z_max = 2.0 + math.log1p(max(threshold, 0.0))
frame = clip_outliers(frame, features, z_max)
scaler = StandardScaler()
frame[features] = scaler.fit_transform(frame[features])
if verbose:
    for name, mean, scale in zip(features, scaler.mean_, scaler.scale_):
        print(f'step {step}: {name} mean={mean:.4f} scale={scale:.4f}')
frame.to_csv(output_uri, index=False)
score = float(np.mean(np.abs(frame[features].to_numpy()) < z_max)) if features else 0.0
'''
    if kind == "train":
        return '''def class_balance(labels: pd.Series) -> float:
    """Ratio of the rarest to the most common class.

    Args:
        labels: The class of every row.

    Returns:
        A number in [0, 1]; 1 when the classes are balanced.
    """
    counts = labels.value_counts(normalize=True)
    return float(counts.min() / counts.max()) if len(counts) > 1 else 1.0


features = frame.drop(columns=[label_column]).select_dtypes(include=[np.number])
labels = frame[label_column]
x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=0.2, random_state=seed)
classifier = LogisticRegression(max_iter=200, C=1.0 / max(threshold, 1e-3))
classifier.fit(x_train, y_train)
predicted = classifier.predict(x_test)
score = float(accuracy_score(y_test, predicted))
balance = class_balance(labels)
frame = frame.assign(prediction=classifier.predict(features))
frame.to_csv(output_uri, index=False)
print(f'step {step}: accuracy={score:.4f} balance={balance:.3f} rows={len(frame)}')
'''
    if kind == "export":
        return SPLIT_URI + '''

def export_columns(data: pd.DataFrame, wanted: list) -> list:
    """The wanted columns that the table has, in the table's order.

    Args:
        data: The table to export.
        wanted: The columns asked for.

    Returns:
        The columns to export.
    """
    return [name for name in data.columns if name in wanted or name.startswith('prediction')]


kept = export_columns(frame, columns)
frame = frame[kept]
compression = options.get('compression', 'infer')
frame.to_csv(output_uri, index=False)
bucket_name, blob_name = split_gcs_uri(output_uri)
bucket = storage.Client(project=project_id).bucket(bucket_name)
archive = bucket.blob(os.path.join(os.path.dirname(blob_name), f'archive/step_{step:05d}.csv'))
if options.get('overwrite', False) or not archive.exists():
    archive.upload_from_string(frame.to_csv(index=False, compression=compression))
bucket.blob(blob_name + '.columns.json').upload_from_string(json.dumps(kept))
score = len(kept) / max(len(columns), 1)
'''
    if kind == "report":
        return SPLIT_URI + '''

def markdown_table(data: pd.DataFrame, rows: int) -> str:
    """Renders the first rows of a table as a Markdown table.

    Args:
        data: The table to render.
        rows: How many rows to render.

    Returns:
        The Markdown text.
    """
    head = data.head(rows)
    lines = ['| ' + ' | '.join(str(c) for c in head.columns) + ' |']
    lines.append('|' + '---|' * len(head.columns))
    for record in head.itertuples(index=False):
        lines.append('| ' + ' | '.join(str(v) for v in record) + ' |')
    return os.linesep.join(lines)


text = f'# Pipeline report (step {step})' + os.linesep + markdown_table(frame, 10)
bucket_name, blob_name = split_gcs_uri(output_uri)
storage.Client(project=project_id).bucket(bucket_name).blob(blob_name).upload_from_string(text)
'''
    raise ValueError(kind)


def indent(text, prefix):
    return "\n".join(prefix + line if line else "" for line in text.split("\n"))


def pylit(value):
    """A Python literal (repr, but with double-quoted strings like the examples)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pylit(k)}: {pylit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(pylit(v) for v in value) + "]"
    return repr(value)


def name_of(i):
    return f"comp_{i:05d}"


def code_cell(source, cid):
    lines = source.split("\n")
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{cid:06d}",
        "metadata": {},
        "outputs": [],
        "source": [line + "\n" for line in lines[:-1]] + [lines[-1]],
    }


def markdown_cell(source, cid):
    cell = code_cell(source, cid)
    for key in ("execution_count", "outputs"):
        del cell[key]
    cell["cell_type"] = "markdown"
    return cell


def check_length(name, code):
    n = code.strip("\n").count("\n") + 1
    if not 20 <= n <= 50:
        sys.exit(f"internal error: body of {name} has {n} lines, not 20 to 50")


# --------------------------------------------------------------------------------------------
# Custom syntax: a chain of N steps.

def custom_component(i, n):
    kind = KINDS[(i - 1) % len(KINDS)]
    params = ["data_root"] + [p for p in KIND_PARAMS[kind] if p != "data_root"]
    param_lines = ",\n".join(
        f'        {{"name": "{p}", "type": {PIPELINE_PARAMS[p][0]}, "description": {json.dumps(PARAM_DOCS[p])}}}'
        for p in params)
    header = f'''%%define_component
AutoMLOps.makeComponent(
    name="{name_of(i)}",
    description="Step {i} of {n}: {KIND_DOC[kind]}",
    params=[
{param_lines}
    ]
)'''
    source = "f'{data_root}/raw.csv'" if i == 1 else f"f'{{data_root}}/stage_{i - 1:05d}.csv'"
    prologue = f'''step = {i}
input_uri = {source}
output_uri = f'{{data_root}}/stage_{i:05d}.csv'
frame = pd.read_csv(input_uri)
'''
    body = prologue + "\n" + kind_body(kind).rstrip("\n")
    check_length(name_of(i), body)
    return header + "\n" + body, params


def custom_notebook(shape, n):
    title = f"# Benchmark: {n} components, custom syntax ({shape} requested; the custom syntax compiles it as a chain)"
    cells = [markdown_cell(title + "\n\nGenerated by bench/gen_notebook.py.", 0),
             code_cell("from AutoMLOps import AutoMLOps", 1),
             code_cell("PROJECT_ID = 'bench-project'\nDATA_ROOT = f'gs://{PROJECT_ID}-bucket/bench'", 2),
             code_cell(CUSTOM_IMPORTS, 3)]
    steps = []
    for i in range(1, n + 1):
        source, params = custom_component(i, n)
        cells.append(code_cell(source, len(cells)))
        mapping = ",\n".join(f'                ("{p}", "{p}")' for p in params)
        steps.append(f'''        {{
            "component_name": "{name_of(i)}",
            "param_mapping": [
{mapping}
            ]
        }}''')
    pparams = ",\n".join(
        f'        {{"name": "{p}", "type": {t}, "description": {json.dumps(PARAM_DOCS[p])}}}'
        for p, (t, _) in PIPELINE_PARAMS.items())
    cells.append(code_cell(make_pipeline_call(shape, n, pparams, steps), len(cells)))
    cells.append(code_cell(pipeline_params_cell(), len(cells)))
    cells.append(code_cell("AutoMLOps.go(project_id=PROJECT_ID, pipeline_params=pipeline_params, use_kfp_spec=False)", len(cells)))
    return cells


def make_pipeline_call(shape, n, pparams, steps):
    joined = ",\n".join(steps)
    return f'''AutoMLOps.makePipeline(
    name="bench-{shape}-{n}",
    description="Benchmark pipeline: a chain of {n} steps.",
    params=[
{pparams}
    ],
    pipeline=[
{joined}
    ]
)'''


def pipeline_params_cell():
    items = []
    for p, (_, v) in PIPELINE_PARAMS.items():
        if p == "project_id":
            items.append(f'    "{p}": PROJECT_ID')
        elif p == "data_root":
            items.append(f'    "{p}": DATA_ROOT')
        else:
            items.append(f'    "{p}": {pylit(v)}')
    return "pipeline_params = {\n" + ",\n".join(items) + "\n}"


# --------------------------------------------------------------------------------------------
# Kubeflow syntax.

class Task:
    def __init__(self, i, kind, parents, score_from=None):
        self.i = i
        self.kind = kind
        self.parents = parents          # tasks whose `table` this one reads (0, 1 or 2)
        # The task whose score is this one's threshold (kinds that read a threshold only).
        self.score_from = score_from if "threshold" in KIND_PARAMS[kind] else None
        self.after = []                 # tasks this one runs after without reading them


def kfp_component(task):
    kind = task.kind
    name = name_of(task.i)
    params = list(KIND_PARAMS[kind])
    if not task.parents:
        params.insert(0, "data_root")
    inputs = ["source", "other"][:len(task.parents)]
    if kind == "report":
        inputs = ["reference"]
    sig = [f"{p}: {PIPELINE_PARAMS[p][0]}" for p in params]
    sig += [f"{x}: Input[Dataset]" for x in inputs]
    if kind == "report":
        sig.append("report: Output[Markdown]")
        ret = "str"
    else:
        sig.append("table: Output[Dataset]")
        if kind == "train":
            sig.append("metrics: Output[Metrics]")
        ret = "float"
    args_doc = [f"        {p}: {PARAM_DOCS[p]}" for p in params]
    args_doc += [f"        {x}: {'The table of the step before.' if x != 'other' else 'A second table, appended to the first.'}" for x in inputs]
    args_doc.append("        report: Where the Markdown report is written." if kind == "report"
                    else "        table: Where this step writes its table.")
    if kind == "train":
        args_doc.append("        metrics: Accuracy and class balance.")
    packages = ", ".join(json.dumps(p) for p in KIND_PACKAGES[kind])
    head = [f"@dsl.component(base_image=\"python:3.11\", packages_to_install=[{packages}])",
            f"def {name}(",
            *[f"    {s}," for s in sig],
            f") -> {ret}:",
            f'    """{KIND_DOC[kind]}',
            "",
            "    Args:",
            *args_doc,
            "",
            "    Returns:",
            "        The text of the report." if kind == "report"
            else "        The score of the step, in [0, 1].",
            '    """']
    body = list(KIND_IMPORTS[kind]) + [""]
    body.append(f"step = {task.i}")
    if not task.parents:
        body.append("input_uri = f'{data_root}/raw.csv'")
    else:
        body.append(f"input_uri = {inputs[0]}.path")
    body.append("frame = pd.read_csv(input_uri)")
    if len(task.parents) == 2:
        body.append("frame = pd.concat([frame, pd.read_csv(other.path)], ignore_index=True)")
    if kind == "report":
        body.append("output_uri = report.path")
    else:
        body.append("output_uri = table.path")
    text = "\n".join(body) + "\n\n" + kind_body(kind).rstrip("\n").replace("\n\n\n", "\n\n")
    if kind == "train":
        text += "\nmetrics.log_metric('accuracy', score)\nmetrics.log_metric('balance', balance)"
    text += "\nreturn text" if kind == "report" else "\nreturn score"
    check_length(name, text)
    return "\n".join(head) + "\n" + indent(text, "    ")


def kfp_tasks(shape, n):
    rng = random.Random(n * 7919 + len(shape))
    tasks = []

    def kind(i):
        return KINDS[(i - 1) % len(KINDS)]

    if shape == "chain" or n < 3:
        for i in range(1, n + 1):
            prev = tasks[-1] if tasks else None
            tasks.append(Task(i, kind(i), [prev] if prev else [],
                              prev))
    elif shape == "fanout":
        src = Task(1, "profile", [])
        tasks.append(src)
        for i in range(2, n):
            tasks.append(Task(i, kind(i), [src], src))
        sink = Task(n, "report", [src])
        sink.after = tasks[1:]
        tasks.append(sink)
    elif shape == "layered":
        width = math.ceil(math.sqrt(n))
        layers = []
        for i in range(1, n + 1):
            layer = (i - 1) // width
            if layer == len(layers):
                layers.append([])
            if layer == 0:
                t = Task(i, kind(i), [])
            else:
                prev = layers[layer - 1]
                first = rng.choice(prev)
                parents = [first]
                if len(prev) > 1 and rng.random() < 0.5:
                    parents.append(rng.choice([p for p in prev if p is not first]))
                t = Task(i, kind(i), parents, first)
            layers[layer].append(t)
            tasks.append(t)
    else:
        raise ValueError(shape)
    return tasks


def kfp_notebook(shape, n):
    tasks = kfp_tasks(shape, n)
    cells = [markdown_cell(f"# Benchmark: {n} components, Kubeflow syntax, {shape}\n\nGenerated by bench/gen_notebook.py.", 0),
             code_cell("from kfp import dsl\nfrom kfp.dsl import Dataset, Input, Markdown, Metrics, Output\n\nfrom AutoMLOps import AutoMLOps", 1),
             code_cell("PROJECT_ID = 'bench-project'\nDATA_ROOT = f'gs://{PROJECT_ID}-bucket/bench'", 2)]
    for t in tasks:
        cells.append(code_cell(kfp_component(t), len(cells)))
    sig = ",\n".join(f"    {p}: {t}" for p, (t, _) in PIPELINE_PARAMS.items())
    lines = ["%%define_kfp_pipeline",
             f'@dsl.pipeline(name="bench-{shape}-{n}", description="Benchmark pipeline: {shape} of {n} components.")',
             f"def pipeline(\n{sig},\n):"]
    for t in tasks:
        params = list(KIND_PARAMS[t.kind])
        if not t.parents:
            params.insert(0, "data_root")
        args = []
        for p in params:
            if p == "threshold" and t.score_from is not None:
                args.append(f"threshold=t{t.score_from.i:05d}.outputs[\"Output\"]")
            else:
                args.append(f"{p}={p}")
        if t.kind == "report":
            args.append(f"reference=t{t.parents[0].i:05d}.outputs[\"table\"]")
        else:
            for x, parent in zip(["source", "other"], t.parents):
                args.append(f"{x}=t{parent.i:05d}.outputs[\"table\"]")
        call = f"    t{t.i:05d} = {name_of(t.i)}(" + ", ".join(args) + ")"
        lines.append(call)
        if t.after:
            names = [f"t{a.i:05d}" for a in t.after]
            chunks = [", ".join(names[k:k + 10]) for k in range(0, len(names), 10)]
            lines.append(f"    t{t.i:05d}.after(\n        " + ",\n        ".join(chunks) + ",\n    )")
    cells.append(code_cell("\n".join(lines), len(cells)))
    cells.append(code_cell(pipeline_params_cell(), len(cells)))
    cells.append(code_cell("AutoMLOps.go(project_id=PROJECT_ID, pipeline_params=pipeline_params, use_kfp_spec=True)", len(cells)))
    return cells


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s --shape chain|fanout|layered --syntax custom|kfp --n N --out FILE.ipynb")
    parser.add_argument("--shape", choices=["chain", "fanout", "layered"], required=True)
    parser.add_argument("--syntax", choices=["custom", "kfp"], required=True)
    parser.add_argument("--n", type=int, required=True, help="number of components (at least 1)")
    parser.add_argument("--out", required=True, help="the notebook to write")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")
    cells = (custom_notebook if args.syntax == "custom" else kfp_notebook)(args.shape, args.n)
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.2"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(notebook, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
