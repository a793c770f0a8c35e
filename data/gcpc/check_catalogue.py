#!/usr/bin/env python3
"""Check data/gcpc/catalogue.json against the pinned kfp / GCPC packages.

1. Regenerates the catalogue into a temporary file with generate.py and
   compares it byte for byte with the committed catalogue.json.
2. Compiles small kfp pipelines that use ModelUploadOp (twice, fed by an
   importer of UnmanagedContainerModel), EndpointCreateOp, ModelDeployOp and
   BigqueryQueryJobOp, plus a graph op and an exit-handler op, and checks that
   the component and executor entries kfp writes for them in a real pipeline
   equal the catalogue's (with executorLabel following the task name).

Run from the repository root, in the venv of generate.py's docstring:
    /tmp/gcpc-venv/bin/python data/gcpc/check_catalogue.py
Exit status 0 when everything matches, 1 otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOGUE = os.path.join(HERE, "catalogue.json")
failures = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def check_regeneration():
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "catalogue.json")
        run = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"),
                              "--output", fresh], capture_output=True, text=True)
        if run.returncode != 0:
            check(False, "generate.py failed:\n" + run.stderr)
            return
        with open(fresh, "rb") as a, open(CATALOGUE, "rb") as b:
            check(a.read() == b.read(),
                  "regenerated catalogue is byte-identical to catalogue.json")


def compile_pipeline(pipeline):
    import yaml
    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pipeline.yaml")
        compiler.Compiler().compile(pipeline, path)
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)


def all_tasks(ir):
    """task name -> task spec, over the root DAG and every sub-DAG."""
    dags = [ir["root"]] + list(ir["components"].values())
    return {name: task for c in dags for name, task in
            c.get("dag", {}).get("tasks", {}).items()}


def check_container_task(ir, task_name, op):
    tasks = all_tasks(ir)
    comp_key = tasks[task_name]["componentRef"]["name"]
    check(comp_key == "comp-" + task_name,
          f"task {task_name}: component key is comp-{task_name}")
    expected = dict(op["component"], executorLabel="exec-" + task_name)
    check(ir["components"][comp_key] == expected,
          f"task {task_name}: component equals catalogue {op['name']}"
          " (executorLabel = exec-<task name>)")
    executor = ir["deploymentSpec"]["executors"].get("exec-" + task_name)
    check(executor == op["executor"],
          f"task {task_name}: executor equals catalogue {op['name']}")


def check_graph_task(ir, task_name, op):
    comp_key = all_tasks(ir)[task_name]["componentRef"]["name"]
    check(ir["components"][comp_key] == op["component"],
          f"task {task_name}: DAG component equals catalogue {op['name']}")
    for key, sub in op["sub_components"].items():
        check(ir["components"].get(key) == sub,
              f"task {task_name}: sub-component {key} equals catalogue")
    for key, sub in op["sub_executors"].items():
        check(ir["deploymentSpec"]["executors"].get(key) == sub,
              f"task {task_name}: sub-executor {key} equals catalogue")


def check_pipelines(catalogue):
    from kfp import dsl
    from google_cloud_pipeline_components.types import artifact_types
    from google_cloud_pipeline_components.v1.bigquery import BigqueryQueryJobOp
    from google_cloud_pipeline_components.v1.endpoint import (
        EndpointCreateOp, ModelDeployOp)
    from google_cloud_pipeline_components.v1.model import ModelUploadOp
    from google_cloud_pipeline_components.v1.model_evaluation.evaluation_llm_classification_pipeline import \
        LLMEvaluationPreprocessorOp  # noqa: E501
    from google_cloud_pipeline_components.v1.vertex_notification_email import \
        VertexNotificationEmailOp

    ops = {op["canonical_import"]: op for op in catalogue["ops"]}
    gcpc = "google_cloud_pipeline_components."

    @dsl.pipeline(name="gcpc-catalogue-check")
    def main_pipeline(model_display_name: str, endpoint_display_name: str,
                      query: str):
        model_dir = dsl.importer(
            artifact_uri="gs://example-bucket/model",
            artifact_class=artifact_types.UnmanagedContainerModel,
            metadata={"containerSpec": {"imageUri": "example.com/serve:1"}})
        upload = ModelUploadOp(
            display_name=model_display_name,
            unmanaged_container_model=model_dir.outputs["artifact"])
        ModelUploadOp(display_name=model_display_name)  # -> model-upload-2
        endpoint = EndpointCreateOp(display_name=endpoint_display_name)
        ModelDeployOp(model=upload.outputs["model"],
                      endpoint=endpoint.outputs["endpoint"],
                      dedicated_resources_machine_type="n1-standard-4",
                      dedicated_resources_min_replica_count=1)
        BigqueryQueryJobOp(query=query)

    ir = compile_pipeline(main_pipeline)
    for task, name in [("model-upload", "v1.model.ModelUploadOp"),
                       ("model-upload-2", "v1.model.ModelUploadOp"),
                       ("endpoint-create", "v1.endpoint.EndpointCreateOp"),
                       ("model-deploy", "v1.endpoint.ModelDeployOp"),
                       ("bigquery-query-job", "v1.bigquery.BigqueryQueryJobOp")]:
        check_container_task(ir, task, ops[gcpc + name])

    @dsl.pipeline(name="gcpc-catalogue-check-extra")
    def extra_pipeline(recipients: list, project: str, location: str,
                       gcs_source_uris: list):
        notify = VertexNotificationEmailOp(recipients=recipients)
        with dsl.ExitHandler(notify):
            LLMEvaluationPreprocessorOp(project=project, location=location,
                                        gcs_source_uris=gcs_source_uris)

    ir = compile_pipeline(extra_pipeline)
    check_container_task(ir, "vertex-pipelines-notification-email", ops[
        gcpc + "v1.vertex_notification_email.VertexNotificationEmailOp"])
    check_graph_task(ir, "llmevaluationpreprocessorop", ops[
        gcpc + "v1.model_evaluation.evaluation_llm_classification_pipeline."
        "LLMEvaluationPreprocessorOp"])


def main():
    warnings.simplefilter("ignore")
    with open(CATALOGUE, encoding="utf-8") as f:
        catalogue = json.load(f)
    check_regeneration()
    check_pipelines(catalogue)
    print(f"{len(catalogue['ops'])} ops, {len(catalogue['skipped'])} skipped, "
          f"{len(catalogue['artifact_types'])} artifact types; "
          + (f"{len(failures)} check(s) FAILED" if failures else
             "all checks passed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
