#!/usr/bin/env python3
"""Tests of the pipeline runner of a generated tree, against a local fake Vertex AI.

    python .ci/test_runner.py [--tree] OUTPUT_TREE... [--runner-dir DIR] [unittest options]

Run with a Python that has google-cloud-aiplatform, PyYAML and Flask (`.ci/run`'s venv).
The runner files are the tree's own (`cloud_run/run_pipeline/main.py` and
`pipelines/pipeline_runner.py`), or `main.py` and `pipeline_runner.py` in --runner-dir.

The real google-cloud-aiplatform client submits, over its REST transport, to an HTTP server
on 127.0.0.1 that stands in for Vertex AI (`POST /v1/projects/P/locations/L/pipelineJobs`)
and for the bucket lookup aiplatform makes before submitting (through google-cloud-storage's
STORAGE_EMULATOR_HOST). Nothing leaves the machine: the project-number lookup that goes with
the bucket lookup is answered in-process.

  MergeParametersTest  merge_parameters and the other helpers, on a pipeline of every type
  ServiceTest          cloud_run/run_pipeline/main.py through Flask's test client, laid out
                       as the image lays it out (/app/main.py, pipeline_runner.py,
                       pipeline_job.json)
  CommandLineTest      `python -m pipelines.pipeline_runner` in a copy of the tree
  SameMessagesTest     a wrong values file: the runner's messages are `automlops compile`'s
                       (with AUTOMLOPS_BIN, the automlops binary, set)

Exits non-zero if any test failed; the last line is `runner: N passed, N failed`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import http.server
import importlib
import importlib.util
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional
from unittest import mock
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # never leave __pycache__ in the golden trees

# Library logging goes to a sink, not to the test output: with a stream handler on the root
# logger, google-cloud-aiplatform adds no stdout handler of its own when it is imported.
_LIBRARY_LOG = io.StringIO()
logging.basicConfig(stream=_LIBRARY_LOG, level=logging.INFO)

import google.auth.credentials  # noqa: E402
import yaml  # noqa: E402
from google.cloud import aiplatform  # noqa: E402

FAKE_PROJECT_NUMBER = "123456789012"
JOB_ID_PATTERN = re.compile(r"^[a-z][-a-z0-9]{0,127}$")
CONSOLE = "https://console.cloud.google.com/vertex-ai/locations/{location}/pipelines/runs/{job_id}?project={project}"

# The service's environment, unlike the tree's configs/defaults.yaml on purpose: the
# service must take everything from its environment.
SERVICE_ENV = {
    "PROJECT_ID": "runner-env-project",
    "REGION": "europe-west4",
    "PIPELINE_ROOT": "gs://runner-env-bucket/pipeline_root",
    "PIPELINE_RUNNER_SA": "pipelines@runner-env-project.iam.gserviceaccount.com",
}

# Set by _configure() from the command line.
TREE: Path = Path()
RUNNER_MAIN: Path = Path()
RUNNER_MODULE: Path = Path()


# --------------------------------------------------------------------------------------
# The fake Vertex AI
# --------------------------------------------------------------------------------------


class FakeVertex:
    """Vertex AI's pipelineJobs.create and GCS's buckets.get, on 127.0.0.1, recording requests."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.unexpected: List[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: Dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                match = re.fullmatch(r"/storage/v1/b/([^/]+)", url.path)
                if match:
                    fake._record("GET", url, None)
                    self._reply(200, {
                        "kind": "storage#bucket",
                        "id": match.group(1),
                        "name": match.group(1),
                        "projectNumber": FAKE_PROJECT_NUMBER,
                        "location": "US-CENTRAL1",
                    })
                    return
                fake._unexpected("GET", self.path)
                self._reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

            def do_POST(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                match = re.fullmatch(r"/v1/projects/([^/]+)/locations/([^/]+)/pipelineJobs", url.path)
                if not match:
                    fake._unexpected("POST", self.path)
                    self._reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                    return
                body = json.loads(raw)
                fake._record("POST", url, body)
                job_id = parse_qs(url.query).get("pipelineJobId", ["generated-id"])[0]
                created = dict(body)
                created.update({
                    "name": f"projects/{FAKE_PROJECT_NUMBER}/locations/{match.group(2)}/pipelineJobs/{job_id}",
                    "state": "PIPELINE_STATE_PENDING",
                    "createTime": "2026-01-01T00:00:00.000000Z",
                    "updateTime": "2026-01-01T00:00:00.000000Z",
                })
                self._reply(200, created)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _record(self, method: str, url: Any, body: Optional[Dict[str, Any]]) -> None:
        with self._lock:
            self.requests.append({
                "method": method,
                "path": url.path,
                "query": parse_qs(url.query),
                "body": body,
            })

    def _unexpected(self, method: str, path: str) -> None:
        with self._lock:
            self.unexpected.append(f"{method} {path}")

    def job_posts(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.unexpected.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


FAKE: Optional[FakeVertex] = None
_PATCHES: List[Any] = []


def setUpModule() -> None:  # noqa: N802
    global FAKE
    FAKE = FakeVertex()
    _PATCHES.extend([
        mock.patch.dict(os.environ, {"STORAGE_EMULATOR_HOST": FAKE.endpoint}),
        # aiplatform checks that the pipeline bucket belongs to the project by looking up
        # the project's number with Resource Manager (gRPC, no endpoint override).
        mock.patch(
            "google.cloud.aiplatform.utils.resource_manager_utils.get_project_number",
            return_value=FAKE_PROJECT_NUMBER,
        ),
    ])
    for patch in _PATCHES:
        patch.start()
    aiplatform.init(
        project="init-project-unused",
        location="us-east1",
        credentials=google.auth.credentials.AnonymousCredentials(),
        # An http:// scheme makes the REST transport speak plain HTTP to this host.
        api_endpoint=FAKE.endpoint,
        api_transport="rest",
    )


def tearDownModule() -> None:  # noqa: N802
    for patch in reversed(_PATCHES):
        patch.stop()
    if FAKE is not None:
        FAKE.close()


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def tree_paths(tree: Path) -> Dict[str, str]:
    """The job and values paths configs/defaults.yaml records for `tree`."""
    with open(tree / "configs" / "defaults.yaml", encoding="utf-8") as f:
        config = yaml.safe_load(f)
    return config


def load_tree_job(tree: Path) -> Dict[str, Any]:
    config = tree_paths(tree)
    with open(tree / config["pipelines"]["pipeline_job_spec_path"], encoding="utf-8") as f:
        return json.load(f)


def floats(value: Any) -> Any:
    """`value` with every number a float, as a protobuf Struct round trip leaves it."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [floats(v) for v in value]
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    return value


def dags(spec: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Every DAG of a pipeline spec by component name: the root's (as "") and the groups'."""
    found = {"": spec["root"]}
    found.update(spec.get("components", {}))
    return {name: c["dag"] for name, c in found.items() if "dag" in c}


def without_caching(spec: Dict[str, Any]) -> Dict[str, Any]:
    spec = copy.deepcopy(spec)
    for dag in dags(spec).values():
        for task in dag.get("tasks", {}).values():
            task.pop("cachingOptions", None)
    return spec


def definitions(job: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return job["pipelineSpec"]["root"].get("inputDefinitions", {}).get("parameters", {})


# The clock and the UUIDs of values computed at submission, frozen for the tests.
FROZEN_NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)
FROZEN_TIME = 1767323045.678901
FROZEN_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def frozen_run_time(module: Any) -> Any:
    """Freezes what `module` (pipeline_runner) evaluates values computed at submission with."""
    return mock.patch.dict(module.RUN_TIME_SOURCES, {
        "now": lambda: FROZEN_NOW,
        "today": FROZEN_NOW.date,
        "time": lambda: FROZEN_TIME,
        "uuid4": lambda: FROZEN_UUID,
    })


def expected_run_time(value: Any) -> Any:
    """What a value computed at submission (`{"$run_time": ..., "template": [...]}`) is under
    the frozen clock, written out here independently of the runner; other values as they are."""
    if not (isinstance(value, dict) and "$run_time" in value):
        return value
    pieces: List[Any] = []
    for part in value["template"]:
        if "time" in part:
            pieces.append(FROZEN_TIME)
        elif "uuid4" in part:
            pieces.append(str(FROZEN_UUID))
        elif "text" in part:
            pieces.append(part["text"])
        elif "now" in part:
            pieces.append(str(FROZEN_NOW) if part["now"] is None else FROZEN_NOW.strftime(part["now"]))
        else:
            today = FROZEN_NOW.date()
            pieces.append(str(today) if part["today"] is None else today.strftime(part["today"]))
    return pieces[0] if value.get("as_number") else "".join(str(p) for p in pieces)


def expected_values(job: Dict[str, Any], *layers: Dict[str, Any]) -> Dict[str, Any]:
    """Defaults, then compiled values, then each layer: the oracle of merge_parameters."""
    values = {n: d["defaultValue"] for n, d in definitions(job).items() if "defaultValue" in d}
    values.update(job.get("runtimeConfig", {}).get("parameterValues", {}))
    for layer in layers:
        values.update({name: expected_run_time(value) for name, value in layer.items()})
    return values


def run_time_values(tree: Path) -> Dict[str, Any]:
    """The tree's compiled values that are computed at each submission."""
    config = tree_paths(tree)
    path = tree / config["pipelines"]["parameter_values_path"]
    values = json.loads(path.read_text()) if path.exists() else {}
    return {n: v for n, v in values.items() if isinstance(v, dict) and "$run_time" in v}


def new_value(parameter_type: str, current: Any) -> Any:
    """A valid value of `parameter_type` that differs from `current`."""
    return {
        "STRING": "overridden-by-test",
        "NUMBER_INTEGER": 7,
        "NUMBER_DOUBLE": 0.25,
        "BOOLEAN": not current if isinstance(current, bool) else True,
        "LIST": ["from", "test", 3],
        "STRUCT": {"from": "test", "n": 2},
    }[parameter_type]


def wrong_value(parameter_type: str) -> Any:
    """A value that `parameter_type` does not take."""
    return {
        "STRING": 5,
        "NUMBER_INTEGER": True,
        "NUMBER_DOUBLE": "0.5",
        "BOOLEAN": 1,
        "LIST": {"not": "a list"},
        "STRUCT": ["not", "an", "object"],
    }[parameter_type]


# How messages name what each IR parameter type takes.
TYPE_WORDS = {
    "STRING": "a string",
    "NUMBER_INTEGER": "an integer",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "a boolean",
    "LIST": "a list",
    "STRUCT": "an object",
}


# `--param` texts that parse to a value the type does not take.
WRONG_PARAM_TEXT = {
    "NUMBER_INTEGER": "1.5",
    "NUMBER_DOUBLE": "not-a-number",
    "BOOLEAN": "1",
    "LIST": '{"not": "a list"}',
    "STRUCT": "[1, 2]",
}


def valid_overrides(job: Dict[str, Any]) -> Dict[str, Any]:
    """New values for a few parameters (every type the pipeline has), and all required ones."""
    compiled = job.get("runtimeConfig", {}).get("parameterValues", {})
    overrides: Dict[str, Any] = {}
    seen_types = set()
    for name, definition in sorted(definitions(job).items()):
        parameter_type = definition["parameterType"]
        missing = name not in compiled and "defaultValue" not in definition
        if missing or parameter_type not in seen_types:
            current = compiled.get(name, definition.get("defaultValue"))
            overrides[name] = new_value(parameter_type, current)
            seen_types.add(parameter_type)
    return overrides


def required_missing(job: Dict[str, Any], run_time: Optional[Dict[str, Any]] = None) -> List[str]:
    compiled = job.get("runtimeConfig", {}).get("parameterValues", {})
    return sorted(
        n for n, d in definitions(job).items()
        if n not in compiled and n not in (run_time or {}) and "defaultValue" not in d
    )


class SubmissionChecks(unittest.TestCase):
    """Checks of a recorded pipelineJobs.create request."""

    job: Dict[str, Any] = {}

    def assert_submitted(
        self,
        request: Dict[str, Any],
        project: str,
        location: str,
        service_account: str,
        pipeline_root: str,
        values: Dict[str, Any],
        labels: Dict[str, str],
        caching: Optional[bool],
    ) -> str:
        """Checks one recorded request; returns its job ID."""
        self.assertEqual(request["path"], f"/v1/projects/{project}/locations/{location}/pipelineJobs")
        job_id = request["query"]["pipelineJobId"][0]
        self.assertRegex(job_id, JOB_ID_PATTERN)
        pipeline_name = self.job["pipelineSpec"]["pipelineInfo"]["name"]
        self.assertTrue(job_id.startswith(re.sub(r"[^-a-z0-9]+", "-", pipeline_name.lower())[:40]),
                        f"job ID {job_id} does not start with the pipeline's name")
        body = request["body"]
        self.assertEqual(body["displayName"], self.job["displayName"])
        self.assertEqual(body.get("serviceAccount"), service_account)
        self.assertEqual(body.get("labels"), labels)
        runtime = body["runtimeConfig"]
        self.assertEqual(runtime["gcsOutputDirectory"], pipeline_root)
        self.assertEqual(floats(runtime.get("parameterValues", {})), floats(values))

        compiled = json.loads(json.dumps(self.job["pipelineSpec"]))
        sent = body["pipelineSpec"]
        self.assertEqual(floats(without_caching(sent)), floats(without_caching(compiled)),
                         "the submitted pipelineSpec differs from the compiled one")
        compiled_dags = dags(compiled)
        self.assertEqual(sorted(dags(sent)), sorted(compiled_dags))
        for dag_name, sent_dag in dags(sent).items():
            compiled_dag = compiled_dags[dag_name]
            for name, task in sent_dag.get("tasks", {}).items():
                options = task.get("cachingOptions", {})
                if caching is None:  # as compiled
                    self.assertEqual(options, compiled_dag["tasks"][name].get("cachingOptions", {}),
                                     f"task {name}: caching differs from the compiled setting")
                else:
                    self.assertEqual(bool(options.get("enableCache", False)), caching,
                                     f"task {name}: cachingOptions {options}")
        return job_id


class SameMessagesTest(unittest.TestCase):
    """One schema, one set of messages: a wrong values file gets the same sentences from
    `automlops compile --pipeline-params` (Rust's jsonschema) and from the tree's runner
    (Python's jsonschema), both reading the schema the compile wrote."""

    def test_compile_and_runner_agree(self) -> None:
        binary = os.environ.get("AUTOMLOPS_BIN")
        if not binary:
            self.skipTest("AUTOMLOPS_BIN is not set (.ci/run sets it)")
        notebooks = sorted((TREE / "notebook").glob("*.ipynb"))
        if not notebooks:
            self.skipTest("the tree holds no copy of its notebook (compiled without CI)")
        runner = _load_module("runner_for_messages", RUNNER_MODULE)
        values_path = TREE / tree_paths(TREE)["pipelines"]["parameter_values_path"]
        schema = runner.load_parameter_schema(runner.schema_path_for(values_path))
        job = load_tree_job(TREE)
        # A parameter whose compiled value is computed at each submission also takes that
        # value's template in this tree's schema; a compile from a values file has none, so
        # its schema does not: those parameters are left out of the comparison.
        templated = run_time_values(TREE)
        bad: Dict[str, Any] = {name: wrong_value(definition["parameterType"])
                               for name, definition in sorted(definitions(job).items())
                               if name not in templated}
        for name in sorted(definitions(job))[:1]:
            bad[name[:-1] or "x"] = 1  # a typo of a parameter
        bad["odd name"] = None
        expected = runner.schema_problems(schema, bad)
        self.assertTrue(expected)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.json"
            path.write_text(json.dumps(bad), encoding="utf-8")
            result = subprocess.run(
                [binary, "compile", str(notebooks[0]), "-o", str(Path(tmp) / "out"),
                 "--pipeline-params", str(path)],
                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        prefix = "error: --pipeline-params: "
        got = [line[len(prefix):] for line in result.stderr.splitlines() if line.startswith(prefix)]
        self.assertEqual(got, expected)


# --------------------------------------------------------------------------------------
# merge_parameters and friends, on a synthetic pipeline of every type
# --------------------------------------------------------------------------------------


def _load_module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


SYNTHETIC_JOB = {
    "displayName": "every-type",
    "pipelineSpec": {
        "pipelineInfo": {"name": "every-type"},
        "root": {"inputDefinitions": {"parameters": {
            "text": {"parameterType": "STRING"},
            "count": {"parameterType": "NUMBER_INTEGER", "defaultValue": 6.0, "isOptional": True},
            "ratio": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.5, "isOptional": True},
            "flag": {"parameterType": "BOOLEAN", "defaultValue": True, "isOptional": True},
            "items": {"parameterType": "LIST", "defaultValue": ["a"], "isOptional": True},
            "mapping": {"parameterType": "STRUCT"},
            "required_one": {"parameterType": "STRING"},
        }}},
    },
    "runtimeConfig": {
        "gcsOutputDirectory": "gs://b/root",
        "parameterValues": {"text": "compiled", "mapping": {"k": 1}, "ratio": 2},
    },
}


# The schema automlops would write for SYNTHETIC_JOB (a test input, as the job is).
SYNTHETIC_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "$schema": {"type": "string"},
        "text": {"type": "string"},
        "count": {"type": "integer", "default": 6},
        "ratio": {"type": "number", "default": 0.5},
        "flag": {"type": "boolean", "default": True},
        "items": {"type": "array", "default": ["a"]},
        "mapping": {"type": "object"},
        "required_one": {"type": "string"},
    },
    "required": ["text", "mapping", "required_one"],
    "additionalProperties": False,
}


class MergeParametersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.runner = _load_module("runner_under_test", RUNNER_MODULE)

    def merge(self, overrides: Any) -> Dict[str, Any]:
        return self.runner.merge_parameters(SYNTHETIC_JOB, overrides, SYNTHETIC_SCHEMA)

    def test_precedence_defaults_compiled_overrides(self) -> None:
        before = copy.deepcopy(SYNTHETIC_JOB)
        merged = self.merge({"required_one": "x", "ratio": 1.5})
        self.assertEqual(merged, {
            "text": "compiled", "count": 6, "ratio": 1.5, "flag": True, "items": ["a"],
            "mapping": {"k": 1}, "required_one": "x",
        })
        self.assertIsInstance(merged["count"], int, "an integer default comes back as int")
        merged["items"].append("b")
        merged["mapping"]["k"] = 2
        self.assertEqual(SYNTHETIC_JOB, before, "merge_parameters modified the job")

    def test_types(self) -> None:
        base = {"required_one": "x"}
        accepted = [("count", 3), ("ratio", 3), ("ratio", 0.1), ("flag", False),
                    ("items", []), ("mapping", {}), ("text", "")]
        for name, value in accepted:
            with self.subTest(name=name, value=value):
                self.assertEqual(self.merge({**base, name: value})[name], value)
        rejected = [("count", True), ("count", 1.5), ("count", "3"), ("ratio", False),
                    ("ratio", "0.5"), ("flag", 1), ("flag", "true"), ("items", "a"),
                    ("items", {"a": 1}), ("mapping", []), ("text", 5), ("text", None)]
        for name, value in rejected:
            with self.subTest(name=name, value=value):
                with self.assertRaises(self.runner.ParameterError) as caught:
                    self.merge({**base, name: value})
                self.assertIsInstance(caught.exception, ValueError)
                self.assertIn(f"$.{name}: expected ", str(caught.exception))

    def test_unknown_names(self) -> None:
        with self.assertRaises(self.runner.ParameterError) as caught:
            self.merge({"required_one": "x", "cuont": 3, "zzz": 1})
        message = str(caught.exception)
        self.assertIn('$.cuont: not a parameter of this pipeline (did you mean "count"?)', message)
        self.assertIn("$.zzz: not a parameter of this pipeline; its parameters are: count, flag,", message)
        self.assertEqual(len(caught.exception.problems), 2)

    def test_required(self) -> None:
        with self.assertRaises(self.runner.ParameterError) as caught:
            self.merge({})
        self.assertIn("$.required_one: required", str(caught.exception))
        self.assertNotIn("$.count", str(caught.exception))
        # The values file's own key is not a parameter, and is not passed on.
        self.assertNotIn("$schema", self.merge({"$schema": "x.schema.json", "required_one": "x"}))

    def test_not_a_mapping(self) -> None:
        for overrides in ([1], "x", 3):
            with self.subTest(overrides=overrides):
                with self.assertRaises(self.runner.ParameterError):
                    self.merge(overrides)

    def test_run_time_values(self) -> None:
        template = {"$run_time": "f'...'", "template": [
            {"text": "gs://b/"}, {"now": None, "call": "c1:1"}, {"text": "/"},
            {"now": "%Y%m%d-%H%M%S", "call": "c1:2"}, {"text": "/"}, {"today": None, "call": "c1:3"},
            {"text": "-"}, {"today": "%d.%m", "call": "c1:4"}, {"text": "/"},
            {"uuid4": None, "call": "c1:5"}, {"text": "/"}, {"time": None, "call": "c1:6"}]}
        with frozen_run_time(self.runner):
            evaluated = self.runner.evaluate_run_time_values({
                "path": template,
                "stamp": {"$run_time": "time.time()", "as_number": True,
                          "template": [{"time": None, "call": "c2:1"}]},
                "text_stamp": {"$run_time": "str(time.time())",
                               "template": [{"time": None, "call": "c2:1"}]},
                "plain": {"a": 1},
            })
        self.assertEqual(evaluated, {
            "path": "gs://b/2026-01-02 03:04:05.678901/20260102-030405/2026-01-02-02.01/"
                    "12345678-1234-5678-1234-567812345678/1767323045.678901",
            "stamp": 1767323045.678901,
            "text_stamp": "1767323045.678901",
            "plain": {"a": 1},
        })
        self.assertEqual(evaluated["path"], expected_run_time(template))
        # One notebook call, one value per submission, however many parameters read it.
        shared = {"$run_time": "RID", "template": [{"uuid4": None, "call": "c3:9"}]}
        values = self.runner.evaluate_run_time_values({"a": shared, "b": dict(shared)})
        self.assertEqual(values["a"], values["b"])
        other = {"$run_time": "uuid.uuid4()", "template": [{"uuid4": None, "call": "c3:10"}]}
        values = self.runner.evaluate_run_time_values({"a": shared, "b": other})
        self.assertNotEqual(values["a"], values["b"])
        with self.assertRaises(self.runner.ParameterError):
            self.runner.evaluate_run_time_values({"x": {"$run_time": "?", "template": [{"eval": "1"}]}})

    def test_parse_param(self) -> None:
        parse = self.runner.parse_param
        self.assertEqual(parse("n=10"), ("n", 10))
        self.assertEqual(parse("b=false"), ("b", False))
        self.assertEqual(parse('l=["a", 1]'), ("l", ["a", 1]))
        self.assertEqual(parse("s=europe-west4"), ("s", "europe-west4"))
        self.assertEqual(parse("s=a=b"), ("s", "a=b"))
        self.assertEqual(parse("s="), ("s", ""))
        self.assertEqual(parse("v=1.0", "STRING"), ("v", "1.0"))
        self.assertEqual(parse('v="quoted"', "STRING"), ("v", "quoted"))
        self.assertEqual(parse("v=1.0", "NUMBER_DOUBLE"), ("v", 1.0))
        with self.assertRaises(ValueError):
            parse("no-equals-sign")

    def test_job_ids_and_console_url(self) -> None:
        ids = {self.runner.new_job_id("Training Pipeline!") for _ in range(50)}
        self.assertEqual(len(ids), 50, "job IDs repeat")
        for job_id in ids:
            self.assertRegex(job_id, JOB_ID_PATTERN)
            self.assertTrue(job_id.startswith("training-pipeline-"))
        self.assertRegex(self.runner.new_job_id("x" * 300), JOB_ID_PATTERN)
        self.assertRegex(self.runner.new_job_id("9lives"), JOB_ID_PATTERN)
        self.assertEqual(
            self.runner.console_url("projects/1/locations/us-east1/pipelineJobs/run-1", "p", "us-east1"),
            "https://console.cloud.google.com/vertex-ai/locations/us-east1/pipelines/runs/run-1?project=p",
        )


# --------------------------------------------------------------------------------------
# The Cloud Run service
# --------------------------------------------------------------------------------------


class ServiceTest(SubmissionChecks):
    """cloud_run/run_pipeline/main.py, laid out as in the image, through Flask's test client."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.job = load_tree_job(TREE)
        cls.app_dir = Path(tempfile.mkdtemp(prefix="runner-app-"))
        shutil.copy(RUNNER_MAIN, cls.app_dir / "main.py")
        shutil.copy(RUNNER_MODULE, cls.app_dir / "pipeline_runner.py")
        config = tree_paths(TREE)
        shutil.copy(TREE / config["pipelines"]["pipeline_job_spec_path"], cls.app_dir / "pipeline_job.json")
        # As the image holds them (cloud_run/run_pipeline/Dockerfile).
        values = TREE / config["pipelines"]["parameter_values_path"]
        if values.exists():
            shutil.copy(values, cls.app_dir / "pipeline_parameter_values.json")
        schema = values.with_name(values.name[: -len(".json")] + ".schema.json")
        shutil.copy(schema, cls.app_dir / "pipeline_parameter_values.schema.json")
        cls.run_time = run_time_values(TREE)
        for name in ("main", "pipeline_runner"):
            sys.modules.pop(name, None)
        sys.path.insert(0, str(cls.app_dir))
        cls.root_handlers = list(logging.getLogger().handlers)
        env = dict(SERVICE_ENV, PIPELINE_JOB_PATH=str(cls.app_dir / "pipeline_job.json"),
                   PIPELINE_VALUES_PATH=str(cls.app_dir / "pipeline_parameter_values.json"))
        cls.startup_log = io.StringIO()
        with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(cls.startup_log):
            cls.main = importlib.import_module("main")
        cls.client = cls.main.app.test_client()
        cls.log_handler = next(h for h in logging.getLogger().handlers if getattr(h, "_cloud_logging", False))

    @classmethod
    def tearDownClass(cls) -> None:
        logging.getLogger().handlers = cls.root_handlers  # main.py replaced them
        sys.path.remove(str(cls.app_dir))
        for name in ("main", "pipeline_runner"):
            sys.modules.pop(name, None)
        shutil.rmtree(cls.app_dir, ignore_errors=True)

    def setUp(self) -> None:
        assert FAKE is not None
        FAKE.reset()
        self.log = io.StringIO()
        self.previous_stream = self.log_handler.setStream(self.log)
        self.frozen = frozen_run_time(self.main.pipeline_runner)
        self.frozen.start()

    def tearDown(self) -> None:
        self.frozen.stop()
        self.log_handler.setStream(self.previous_stream)
        assert FAKE is not None
        self.assertEqual(FAKE.unexpected, [], "requests the fake Vertex AI does not serve")

    def log_entries(self) -> List[Dict[str, Any]]:
        lines = [line for line in self.log.getvalue().splitlines() if line.strip()]
        entries = []
        for line in lines:
            entry = json.loads(line)  # every line is one JSON object
            self.assertIn("severity", entry)
            self.assertIn("message", entry)
            entries.append(entry)
        return entries

    def post(self, body: Any, query: str = "", raw: Optional[bytes] = None) -> Any:
        data = raw if raw is not None else json.dumps(body).encode()
        with self.assertNoLogs("google.cloud.aiplatform", level="ERROR"):
            return self.client.post("/" + query, data=data, content_type="application/json")

    def check_submitted(self, response: Any, overrides: Dict[str, Any], caching: Optional[bool]) -> None:
        assert FAKE is not None
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        posts = FAKE.job_posts()
        self.assertEqual(len(posts), 1)
        job_id = self.assert_submitted(
            posts[0],
            project=SERVICE_ENV["PROJECT_ID"],
            location=SERVICE_ENV["REGION"],
            service_account=SERVICE_ENV["PIPELINE_RUNNER_SA"],
            pipeline_root=SERVICE_ENV["PIPELINE_ROOT"],
            values=expected_values(self.job, self.run_time, overrides),
            labels={"automlops-runner": "cloud-run"},
            caching=caching,
        )
        answer = response.get_json()
        resource_name = f"projects/{FAKE_PROJECT_NUMBER}/locations/{SERVICE_ENV['REGION']}/pipelineJobs/{job_id}"
        self.assertEqual(answer, {
            "resource_name": resource_name,
            "console_url": CONSOLE.format(location=SERVICE_ENV["REGION"], job_id=job_id,
                                          project=SERVICE_ENV["PROJECT_ID"]),
        })
        submitted = [e for e in self.log_entries() if e.get("resource_name") == resource_name]
        self.assertEqual(len(submitted), 1, self.log.getvalue())
        self.assertEqual(submitted[0]["severity"], "INFO")
        self.assertIn(resource_name, submitted[0]["message"])
        self.assertEqual(submitted[0]["console_url"], answer["console_url"])

    def test_overrides(self) -> None:
        overrides = valid_overrides(self.job)
        self.check_submitted(self.post(overrides), overrides, caching=False)

    def test_compiled_values(self) -> None:
        missing = required_missing(self.job, self.run_time)
        for raw in (b"", b"{}"):
            with self.subTest(body=raw):
                assert FAKE is not None
                FAKE.reset()
                self.log.truncate(0)
                self.log.seek(0)
                response = self.post(None, raw=raw)
                if missing:
                    self.assertEqual(response.status_code, 400)
                    for name in missing:
                        self.assertIn(repr(name), response.get_json()["error"])
                else:
                    self.check_submitted(response, {}, caching=False)

    def test_caching_as_compiled(self) -> None:
        overrides = valid_overrides(self.job)
        self.check_submitted(self.post(overrides, "?caching=true"), overrides, caching=None)

    def test_caching_off_explicitly(self) -> None:
        overrides = valid_overrides(self.job)
        self.check_submitted(self.post(overrides, "?caching=false"), overrides, caching=False)

    def assert_rejected(self, response: Any, *needles: str) -> str:
        assert FAKE is not None
        self.assertEqual(response.status_code, 400, response.get_data(as_text=True))
        error = response.get_json()["error"]
        for needle in needles:
            self.assertIn(needle, error)
        self.assertEqual(FAKE.job_posts(), [], "a rejected request was submitted")
        warnings = [e for e in self.log_entries() if e["severity"] == "WARNING"]
        self.assertTrue(warnings, "a rejected request was not logged")
        return error

    def test_unknown_parameter(self) -> None:
        overrides = valid_overrides(self.job)
        overrides["no_such_parameter"] = 1
        self.assert_rejected(self.post(overrides), "$.no_such_parameter: not a parameter")
        name = sorted(definitions(self.job))[0]
        typo = dict(valid_overrides(self.job))
        typo[name + "x"] = typo.pop(name, "value")
        self.assert_rejected(self.post(typo), f"$.{name}x", f'did you mean "{name}"')

    def test_wrong_types(self) -> None:
        for name, definition in sorted(definitions(self.job).items()):
            with self.subTest(parameter=name):
                assert FAKE is not None
                FAKE.reset()
                overrides = valid_overrides(self.job)
                overrides[name] = wrong_value(definition["parameterType"])
                self.assert_rejected(self.post(overrides), f"$.{name}: expected {TYPE_WORDS[definition['parameterType']]}")

    def test_body_not_an_object(self) -> None:
        for raw in (b"[1, 2]", b'"text"', b"null", b"3", b"{not json"):
            with self.subTest(body=raw):
                self.assert_rejected(self.post(None, raw=raw))

    def test_bad_caching_query(self) -> None:
        self.assert_rejected(self.post({}, "?caching=maybe"), "caching")

    def test_health(self) -> None:
        for path in ("/healthz", "/health"):
            response = self.client.get(path)
            self.assertEqual(response.status_code, 200)
        self.assertEqual(self.client.get("/").status_code, 405)

    def test_configuration_from_environment(self) -> None:
        ready = [json.loads(line) for line in self.startup_log.getvalue().splitlines()]
        self.assertTrue(ready, "the service logged nothing at startup")
        self.assertEqual(ready[-1]["severity"], "INFO")
        self.assertEqual(ready[-1]["project_id"], SERVICE_ENV["PROJECT_ID"])
        settings = self.main.app.config["RUNNER_SETTINGS"]
        self.assertEqual(settings.project_id, SERVICE_ENV["PROJECT_ID"])
        self.assertEqual(settings.job, self.job)
        self.assertEqual(self.main.DEFAULT_JOB_PATH, "/app/pipeline_job.json")

    def test_experiment_from_environment(self) -> None:
        # The fake serves no Vertex ML Metadata: the experiment calls of the real client are
        # recorded instead, after the real pipelineJobs.create.
        settings = self.main.load_settings(
            dict(SERVICE_ENV, PIPELINE_JOB_PATH=str(self.app_dir / "pipeline_job.json"),
                 PIPELINE_VALUES_PATH=str(self.app_dir / "pipeline_parameter_values.json"),
                 EXPERIMENT="churn-experiment"))
        self.assertEqual(settings.experiment, "churn-experiment")
        client = self.main.create_app(settings).test_client()
        with mock.patch.object(aiplatform.PipelineJob, "_validate_experiment") as validate, \
                mock.patch.object(aiplatform.PipelineJob, "_associate_to_experiment") as associate:
            response = client.post("/", data=json.dumps(valid_overrides(self.job)),
                                   content_type="application/json")
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        validate.assert_called_once_with("churn-experiment")
        associate.assert_called_once_with("churn-experiment")
        # Without EXPERIMENT, no run is associated with one.
        with mock.patch.object(aiplatform.PipelineJob, "_associate_to_experiment") as associate:
            self.assertEqual(self.post(valid_overrides(self.job)).status_code, 200)
        associate.assert_not_called()

    def test_fails_fast_without_configuration(self) -> None:
        with self.assertRaises(self.main.ConfigurationError) as caught:
            self.main.load_settings({})
        for name in ("PROJECT_ID", "REGION", "PIPELINE_ROOT", "PIPELINE_RUNNER_SA"):
            self.assertIn(name, str(caught.exception))
        only_region_missing = {k: v for k, v in SERVICE_ENV.items() if k != "REGION"}
        with self.assertRaises(self.main.ConfigurationError) as caught:
            self.main.load_settings(only_region_missing)
        self.assertIn("REGION", str(caught.exception))
        self.assertNotIn("PROJECT_ID", str(caught.exception))
        if not Path("/app/pipeline_job.json").exists():
            with self.assertRaises(self.main.ConfigurationError) as caught:
                self.main.load_settings(SERVICE_ENV)
            self.assertIn("/app/pipeline_job.json", str(caught.exception))
        with self.assertRaises(self.main.ConfigurationError):
            self.main.load_settings(dict(SERVICE_ENV, PIPELINE_JOB_PATH=str(self.app_dir / "main.py")))

        # Importing the module (what gunicorn does) fails, with a CRITICAL log line.
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV}
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(RuntimeError) as caught:
                _load_module("main_without_configuration", self.app_dir / "main.py")
        self.assertIn("PROJECT_ID", str(caught.exception))
        critical = [e for e in self.log_entries() if e["severity"] == "CRITICAL"]
        self.assertTrue(critical and "PROJECT_ID" in critical[0]["message"], self.log.getvalue())


# --------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------


class CommandLineTest(SubmissionChecks):
    """`python -m pipelines.pipeline_runner`, run from a copy of the tree."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.job = load_tree_job(TREE)
        cls.config = tree_paths(TREE)
        cls.work = Path(tempfile.mkdtemp(prefix="runner-tree-"))
        cls.tree = cls.work / "tree"
        shutil.copytree(TREE, cls.tree, ignore=shutil.ignore_patterns("__pycache__"))
        target = cls.tree / "pipelines" / "pipeline_runner.py"
        if RUNNER_MODULE.resolve() != (TREE / "pipelines" / "pipeline_runner.py").resolve():
            shutil.copy(RUNNER_MODULE, target)
        cls.previous_cwd = os.getcwd()
        os.chdir(cls.tree)
        for name in [m for m in sys.modules if m == "pipelines" or m.startswith("pipelines.")]:
            sys.modules.pop(name)
        sys.path.insert(0, str(cls.tree))
        cls.runner = importlib.import_module("pipelines.pipeline_runner")
        values_path = cls.tree / cls.config["pipelines"]["parameter_values_path"]
        cls.file_values = json.loads(values_path.read_text()) if values_path.exists() else {}
        cls.file_values.pop("$schema", None)  # names the schema: not a parameter

    @classmethod
    def tearDownClass(cls) -> None:
        os.chdir(cls.previous_cwd)
        sys.path.remove(str(cls.tree))
        for name in [m for m in sys.modules if m == "pipelines" or m.startswith("pipelines.")]:
            sys.modules.pop(name)
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self) -> None:
        assert FAKE is not None
        FAKE.reset()
        # The fake serves no Vertex ML Metadata: a tree that names an experiment has the real
        # client's experiment calls recorded instead (check_run checks them).
        self.experiment_calls = mock.patch.object(aiplatform.PipelineJob, "_associate_to_experiment")
        self.validate_experiment = mock.patch.object(aiplatform.PipelineJob, "_validate_experiment")
        self.associate = self.experiment_calls.start()
        self.validate_experiment.start()
        self.frozen = frozen_run_time(self.runner)
        self.frozen.start()

    def tearDown(self) -> None:
        self.frozen.stop()
        self.experiment_calls.stop()
        self.validate_experiment.stop()
        assert FAKE is not None
        self.assertEqual(FAKE.unexpected, [], "requests the fake Vertex AI does not serve")

    def run_main(self, *argv: str) -> tuple:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with self.assertNoLogs("google.cloud.aiplatform", level="ERROR"):
                status = self.runner.main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def param_args(self, overrides: Dict[str, Any]) -> List[str]:
        args = []
        for name, value in overrides.items():
            text = value if isinstance(value, str) else json.dumps(value)
            args += ["--param", f"{name}={text}"]
        return args

    def check_run(self, argv: List[str], overrides: Dict[str, Any], labels: Dict[str, str],
                  caching: Optional[bool]) -> None:
        assert FAKE is not None
        FAKE.reset()
        self.associate.reset_mock()
        status, out, err = self.run_main(*argv)
        self.assertEqual(status, 0, err)
        posts = FAKE.job_posts()
        self.assertEqual(len(posts), 1)
        gcp, pipelines = self.config["gcp"], self.config["pipelines"]
        job_id = self.assert_submitted(
            posts[0],
            project=gcp["project_id"],
            location=pipelines["pipeline_region"],
            service_account=gcp["pipeline_runner_service_account"],
            pipeline_root=pipelines["pipeline_storage_path"],
            values=expected_values(self.job, self.file_values, overrides),
            labels=labels,
            caching=caching,
        )
        if pipelines.get("experiment"):
            self.associate.assert_called_once_with(pipelines["experiment"])
        else:
            self.associate.assert_not_called()
        resource_name = f"projects/{FAKE_PROJECT_NUMBER}/locations/{pipelines['pipeline_region']}/pipelineJobs/{job_id}"
        self.assertEqual(out.splitlines(), [
            resource_name,
            CONSOLE.format(location=pipelines["pipeline_region"], job_id=job_id, project=gcp["project_id"]),
        ])

    def test_params_caching_off_by_default(self) -> None:
        overrides = valid_overrides(self.job)
        self.check_run(self.param_args(overrides) + ["--label", "team=ml"], overrides,
                       {"automlops-runner": "cli", "team": "ml"}, caching=False)

    def test_image_tag_pins_latest_images(self) -> None:
        assert FAKE is not None
        status, _, err = self.run_main(*self.param_args(valid_overrides(self.job)),
                                       "--image-tag", "abc1234")
        self.assertEqual(status, 0, err)
        posts = FAKE.job_posts()
        self.assertEqual(len(posts), 1)
        sent = posts[0]["body"]["pipelineSpec"]["deploymentSpec"]["executors"]
        compiled = self.job["pipelineSpec"]["deploymentSpec"]["executors"]
        self.assertEqual(sorted(sent), sorted(compiled))
        pinned = copy.deepcopy(self.job["pipelineSpec"])

        def pin(image: str) -> str:
            return image[: -len("latest")] + "abc1234" if image.endswith(":latest") else image

        for name, executor in compiled.items():
            if "container" not in executor:  # an importer
                continue
            want = pin(executor["container"]["image"])
            self.assertEqual(sent[name]["container"]["image"], want, name)
            pinned["deploymentSpec"]["executors"][name]["container"]["image"] = want
        # A component run as a Vertex AI CustomJob runs the image of its worker pools.
        for name, component in pinned["components"].items():
            pools = component.get("inputDefinitions", {}).get("parameters", {}).get("worker_pool_specs")
            for pool in (pools or {}).get("defaultValue", []):
                want = pin(pool["container_spec"]["image_uri"])
                pool["container_spec"]["image_uri"] = want
                self.assertTrue(want.endswith(":abc1234"), name)
        # Everything else reaches Vertex AI as compiled: the pinned copy is read back by the
        # client with PyYAML, which must still read every float default as a float.
        self.assertEqual(floats(without_caching(posts[0]["body"]["pipelineSpec"])),
                         floats(without_caching(pinned)))
        # The compiled job on disk is left as it was.
        self.assertEqual(load_tree_job(self.tree), self.job)

    def test_experiment_from_config(self) -> None:
        config = yaml.safe_load((self.tree / "configs" / "defaults.yaml").read_text())
        with mock.patch.object(aiplatform.PipelineJob, "_validate_experiment"), \
                mock.patch.object(aiplatform.PipelineJob, "_associate_to_experiment") as associate:
            status, _, err = self.run_main(*self.param_args(valid_overrides(self.job)))
        self.assertEqual(status, 0, err)
        compiled = config["pipelines"].get("experiment")
        if compiled:
            associate.assert_called_once_with(compiled)
        else:
            associate.assert_not_called()
        # An experiment in the options file is the one runs go into.
        config["pipelines"]["experiment"] = "exp-from-config"
        other = self.work / "defaults-with-experiment.yaml"
        other.write_text(yaml.safe_dump(config))
        with mock.patch.object(aiplatform.PipelineJob, "_validate_experiment"), \
                mock.patch.object(aiplatform.PipelineJob, "_associate_to_experiment") as associate:
            status, _, err = self.run_main(*self.param_args(valid_overrides(self.job)),
                                           "--config", str(other))
        self.assertEqual(status, 0, err)
        associate.assert_called_once_with("exp-from-config")

    def test_bad_image_tag(self) -> None:
        assert FAKE is not None
        status, _, err = self.run_main(*self.param_args(valid_overrides(self.job)),
                                       "--image-tag", "no tags/with spaces")
        self.assertEqual(status, 1)
        self.assertIn("is not a Docker image tag", err)
        self.assertEqual(FAKE.job_posts(), [])

    def test_caching(self) -> None:
        overrides = valid_overrides(self.job)
        self.check_run(self.param_args(overrides) + ["--caching"], overrides,
                       {"automlops-runner": "cli"}, caching=None)
        FAKE.reset()
        self.check_run(self.param_args(overrides) + ["--no-caching"], overrides,
                       {"automlops-runner": "cli"}, caching=False)

    def test_compiled_values(self) -> None:
        missing = required_missing(self.job, self.file_values)
        status, out, err = self.run_main()
        if missing:
            self.assertEqual(status, 1)
            for name in missing:
                self.assertIn(repr(name), err)
            self.assertEqual(FAKE.job_posts(), [])
        else:
            FAKE.reset()
            self.check_run([], {}, {"automlops-runner": "cli"}, caching=False)

    def test_string_parameters_take_values_as_written(self) -> None:
        strings = [n for n, d in sorted(definitions(self.job).items()) if d["parameterType"] == "STRING"]
        if not strings:
            self.skipTest("the pipeline has no string parameter")
        overrides = valid_overrides(self.job)
        overrides[strings[0]] = "1.0"
        self.check_run(self.param_args(overrides), overrides, {"automlops-runner": "cli"}, caching=False)

    def test_rejections(self) -> None:
        overrides = valid_overrides(self.job)
        status, _, err = self.run_main(*self.param_args(overrides), "--param", "no_such_parameter=1")
        self.assertEqual(status, 1)
        self.assertIn("$.no_such_parameter: not a parameter", err)
        for name, definition in sorted(definitions(self.job).items()):
            if definition["parameterType"] == "STRING":
                continue  # a string parameter takes any --param value as written
            with self.subTest(parameter=name):
                bad = dict(overrides)
                bad.pop(name, None)
                text = WRONG_PARAM_TEXT[definition["parameterType"]]
                status, _, err = self.run_main(*self.param_args(bad), "--param", f"{name}={text}")
                self.assertEqual(status, 1)
                self.assertIn(f"$.{name}: expected {TYPE_WORDS[definition['parameterType']]}", err)
        status, _, err = self.run_main("--config", "configs/missing.yaml")
        self.assertEqual(status, 1)
        self.assertIn("missing.yaml", err)
        self.assertEqual(FAKE.job_posts(), [])

    def test_module_entry_point_dry_run(self) -> None:
        """`python -m pipelines.pipeline_runner --dry-run` in a fresh process: nothing is sent."""
        overrides = valid_overrides(self.job)
        result = subprocess.run(
            [sys.executable, "-B", "-m", "pipelines.pipeline_runner", "--dry-run",
             *self.param_args(overrides)],
            cwd=self.tree, capture_output=True, text=True, timeout=120, check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = json.loads(result.stdout)
        expected = expected_values(self.job, self.file_values, overrides)
        # Computed at submission in that process, with its own clock: text as the template says.
        for name, value in run_time_values(self.tree).items():
            if name in overrides:
                continue
            self.assertIsInstance(printed.pop(name), float if value.get("as_number") else str)
            expected.pop(name)
        self.assertEqual(floats(printed), floats(expected))
        result = subprocess.run(
            [sys.executable, "-B", "-m", "pipelines.pipeline_runner", "--help"],
            cwd=self.tree, capture_output=True, text=True, timeout=120, check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("--caching", result.stdout)


# --------------------------------------------------------------------------------------
# Command line of this test
# --------------------------------------------------------------------------------------


def _runner_files(tree: Path, runner_dir: Optional[str]) -> tuple:
    if runner_dir:
        directory = Path(runner_dir)
        return directory / "main.py", directory / "pipeline_runner.py"
    return tree / "cloud_run" / "run_pipeline" / "main.py", tree / "pipelines" / "pipeline_runner.py"


def _parse(argv: List[str]) -> tuple:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*", metavar="OUTPUT_TREE", help="a generated tree")
    parser.add_argument("--tree", action="append", default=[], help="a generated tree (repeatable)")
    parser.add_argument("--runner-dir", help="the directory holding main.py and pipeline_runner.py "
                        "(default: the tree's cloud_run/run_pipeline/ and pipelines/)")
    args, rest = parser.parse_known_args(argv)
    trees = [Path(t) for t in args.trees + args.tree]
    if not trees:
        parser.error("give at least one OUTPUT_TREE")
    for tree in trees:
        if not (tree / "configs" / "defaults.yaml").is_file():
            parser.error(f"{tree} is not a generated tree: it has no configs/defaults.yaml")
        for path in _runner_files(tree, args.runner_dir):
            if not path.is_file():
                parser.error(f"{path} does not exist (pass --runner-dir DIR with main.py and pipeline_runner.py)")
    return args, trees, rest


def main(argv: Optional[List[str]] = None) -> int:
    global TREE, RUNNER_MAIN, RUNNER_MODULE
    argv = sys.argv[1:] if argv is None else argv
    args, trees, rest = _parse(argv)
    if len(trees) > 1:
        # One process per tree: each imports its own main.py and pipeline_runner.py.
        passed = failed = 0
        for tree in trees:
            command = [sys.executable, "-B", os.path.abspath(__file__), str(tree), *rest]
            if args.runner_dir:
                command += ["--runner-dir", args.runner_dir]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            match = re.search(r"^runner: (\d+) passed, (\d+) failed", result.stdout, re.M)
            if match:
                passed += int(match.group(1))
                failed += int(match.group(2))
            if result.returncode != 0 and not (match and int(match.group(2))):
                failed += 1
        print(f"runner: {passed} passed, {failed} failed")
        return 1 if failed else 0

    TREE = trees[0].resolve()
    RUNNER_MAIN, RUNNER_MODULE = (p.resolve() for p in _runner_files(TREE, args.runner_dir))
    print(f"== runner tests on {TREE} (runner files: {RUNNER_MAIN}, {RUNNER_MODULE})", file=sys.stderr)
    program = unittest.main(module=__name__, argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    sys.stderr.flush()
    print(f"runner: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
