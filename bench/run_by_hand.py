"""The baseline of `automlops run`'s benchmark (BENCHMARKS.md): the three-step pipeline of
tests/fixtures/run/three_steps.py driven through kfp.local by hand, as a kfp user would
write it: the same functions as lightweight components, the subprocess runner in this
environment (no venv per task), caching off. Run it with the environment's Python."""

import sys
import tempfile

from kfp import dsl, local
from kfp.dsl import Dataset, Input, Model, Output


@dsl.component
def make_data(rows: int, dataset: Output[Dataset]):
    import csv

    with open(dataset.path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y"])
        for i in range(rows):
            writer.writerow([i, 2 * i + 1])


@dsl.component
def train(dataset: Input[Dataset], model: Output[Model]) -> float:
    import csv
    import json

    with open(dataset.path) as f:
        points = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    with open(model.path, "w") as f:
        json.dump({"slope": slope, "intercept": mean_y - slope * mean_x}, f)
    return slope


@dsl.component
def evaluate(model: Input[Model], slope: float) -> str:
    import json

    with open(model.path) as f:
        fitted = json.load(f)
    return "good" if abs(fitted["slope"] - 2) < 1e-9 and fitted["slope"] == slope else "bad"


@dsl.pipeline(name="three-steps")
def pipeline(rows: int = 10):
    data = make_data(rows=rows)
    fit = train(dataset=data.outputs["dataset"])
    evaluate(model=fit.outputs["model"], slope=fit.outputs["Output"])


if __name__ == "__main__":
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=tempfile.mkdtemp(prefix="run-by-hand-"),
    )
    pipeline(rows=20)
    sys.exit(0)
