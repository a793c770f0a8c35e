"""Submit the compiled pipeline to Vertex AI Pipelines.

Run from the root of the generated tree:

    python -m pipelines.pipeline_runner [--param NAME=VALUE]... [--caching | --no-caching]
                                        [--label KEY=VALUE]... [--config configs/defaults.yaml]
                                        [--dry-run]

The project, region, pipeline root, runner service account and file locations come from
configs/defaults.yaml. The parameter values of a run are, from lowest to highest precedence:
the defaults declared in the pipeline, the values compiled into the PipelineJob, the
runtime parameter values file (configs/defaults.yaml names it), and each `--param`.
A `--param` value is read as JSON when it is JSON (`--param rows=10`, `--param verbose=false`,
`--param 'columns=["a", "b"]'`), and as a string otherwise (`--param region=europe-west4`);
a string parameter takes the value as written (`--param version=1.0` is "1.0").

Caching is off unless `--caching` is given: then every task caches as it was compiled
(kfp's default is on; a task compiled with caching off stays off).

Every value is checked against the parameters' JSON Schema, written beside the values file
(`pipeline_parameter_values.schema.json`): the same schema, and the same messages
(`$.epochs: expected an integer, got a string: "ten"`), as `automlops compile` uses.

The Cloud Run runner service (cloud_run/run_pipeline/main.py) imports this module and
uses the same `merge_parameters` and `submit`.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "ConfigError",
    "ParameterError",
    "RunnerConfig",
    "console_url",
    "evaluate_run_time_values",
    "load_config",
    "load_job",
    "load_parameter_schema",
    "load_parameter_values",
    "main",
    "merge_parameters",
    "new_job_id",
    "parameter_definitions",
    "parse_param",
    "pin_images",
    "resolve_parameters",
    "schema_path_for",
    "schema_problems",
    "submit",
]

DEFAULT_CONFIG_PATH = Path("configs") / "defaults.yaml"

# Labels every run submitted from the command line carries.
CLI_LABELS: Dict[str, str] = {"automlops-runner": "cli"}

# A Vertex AI PipelineJob ID: a lowercase letter, then lowercase letters, digits and
# hyphens, at most 128 characters in all.
_JOB_ID_MAX = 128
_JOB_ID_PATTERN = re.compile(r"^[a-z][-a-z0-9]{0,127}$")

# The key of a values file that names its schema: not a parameter.
SCHEMA_KEY = "$schema"

PathLike = Union[str, Path]


class ConfigError(ValueError):
    """configs/defaults.yaml or the compiled PipelineJob is missing, unreadable or incomplete."""


class ParameterError(ValueError):
    """Parameter values that do not fit the pipeline: unknown names, wrong types, missing values.

    `problems` lists each problem as one sentence; the message joins them.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: List[str] = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class RunnerConfig:
    """What configs/defaults.yaml says about running the pipeline; paths are absolute."""

    project_id: str
    service_account: str
    job_spec_path: Path
    parameter_values_path: Path
    parameter_schema_path: Path
    region: str
    pipeline_root: str
    # The Vertex AI Experiment runs are submitted into (pipelines.experiment), if any.
    experiment: Optional[str] = None


# --------------------------------------------------------------------------------------
# Configuration and the compiled job
# --------------------------------------------------------------------------------------


def load_config(root: PathLike = ".", config_path: Optional[PathLike] = None) -> RunnerConfig:
    """Reads configs/defaults.yaml of the generated tree at `root`.

    `config_path` (relative to `root` unless absolute) replaces configs/defaults.yaml.
    The job and parameter-values paths it records are resolved against `root`.
    """
    import yaml  # PyYAML

    root = Path(root).resolve()
    path = root / (Path(config_path) if config_path is not None else DEFAULT_CONFIG_PATH)
    try:
        with open(path, encoding="utf-8") as f:
            document = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}") from e
    if not isinstance(document, dict):
        raise ConfigError(f"{path} does not hold a YAML mapping")

    def required(section: str, key: str) -> str:
        value = (document.get(section) or {}).get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"{path} has no value for {section}.{key}")
        return str(value)

    return RunnerConfig(
        project_id=required("gcp", "project_id"),
        service_account=required("gcp", "pipeline_runner_service_account"),
        job_spec_path=root / required("pipelines", "pipeline_job_spec_path"),
        parameter_values_path=root / required("pipelines", "parameter_values_path"),
        parameter_schema_path=schema_path_for(root / required("pipelines", "parameter_values_path")),
        region=required("pipelines", "pipeline_region"),
        pipeline_root=required("pipelines", "pipeline_storage_path"),
        experiment=(document.get("pipelines") or {}).get("experiment") or None,
    )


def load_job(path: PathLike) -> Dict[str, Any]:
    """Reads the compiled PipelineJob: `{displayName, pipelineSpec, runtimeConfig}`."""
    try:
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read the compiled pipeline {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"the compiled pipeline {path} is not valid JSON: {e}") from e
    if not isinstance(job, dict) or not isinstance(job.get("pipelineSpec"), dict):
        raise ConfigError(
            f"{path} is not a compiled PipelineJob: it has no pipelineSpec object"
        )
    return job


def load_parameter_values(path: PathLike) -> Dict[str, Any]:
    """Reads a runtime parameter values file (a JSON object); a missing file is no values."""
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a JSON object of parameter values")
    values.pop(SCHEMA_KEY, None)
    return values


def schema_path_for(values_path: PathLike) -> Path:
    """Where the schema of a values file is: beside it, `.json` becoming `.schema.json`."""
    text = str(values_path)
    return Path((text[: -len(".json")] if text.endswith(".json") else text) + ".schema.json")


def load_parameter_schema(path: PathLike) -> Dict[str, Any]:
    """Reads the parameters' JSON Schema (2020-12), which automlops writes beside the values."""
    import jsonschema

    try:
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read the parameter schema {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"the parameter schema {path} is not valid JSON: {e}") from e
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ConfigError(f"{path} is not a valid JSON Schema: {e.message}") from e
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise ConfigError(f"{path} is not a parameter schema: it has no properties")
    return schema


# --------------------------------------------------------------------------------------
# Values computed at each submission
# --------------------------------------------------------------------------------------

# The key of a value the notebook computes when it runs (`datetime.now()`, `time.time()`...):
# automlops compiles its template, and every submission evaluates it afresh.
RUN_TIME_KEY = "$run_time"

# Where the pieces come from, as the notebook's own calls would have them.
RUN_TIME_SOURCES: Dict[str, Any] = {
    "now": datetime.datetime.now,
    "today": datetime.date.today,
    "time": time.time,
    "uuid4": uuid.uuid4,
}


def _run_time_part(part: Any, calls: Dict[str, Any]) -> Any:
    """One piece of a template, as Python's `str()` (or `.strftime`) writes it. Pieces of the
    same notebook call (`call`) share one value per submission, as its constant did."""
    if isinstance(part, dict):
        kinds = [key for key in part if key != "call"]
        if kinds == ["text"] and isinstance(part["text"], str):
            return part["text"]
        if len(kinds) == 1 and kinds[0] in RUN_TIME_SOURCES:
            kind = kinds[0]
            argument = part[kind]
            key = (kind, str(part.get("call", id(part))))
            if key not in calls:
                calls[key] = RUN_TIME_SOURCES[kind]()
            value = calls[key]
            if kind in ("now", "today") and isinstance(argument, str):
                return value.strftime(argument)
            if argument is None:
                return value if kind == "time" else str(value)
    raise ParameterError([f"unknown piece {part!r} in a value computed at submission"])


def evaluate_run_time_values(values: Mapping[str, Any]) -> Dict[str, Any]:
    """`values` with each value computed at submission (`{"$run_time": ..., "template": [...]}`)
    evaluated now: its pieces joined as text, or a bare `time.time()` as a number when the
    template says `as_number`."""
    evaluated: Dict[str, Any] = {}
    calls: Dict[Any, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict) and RUN_TIME_KEY in value:
            template = value.get("template")
            if not isinstance(template, list) or not template:
                raise ParameterError([f"{name}: a value computed at submission needs a template"])
            pieces = [_run_time_part(part, calls) for part in template]
            value = pieces[0] if value.get("as_number") else "".join(str(p) for p in pieces)
        evaluated[name] = value
    return evaluated


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def parameter_definitions(job: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """The pipeline's input parameters: name -> its IR definition (`parameterType`, ...)."""
    root = job.get("pipelineSpec", {}).get("root", {})
    parameters = root.get("inputDefinitions", {}).get("parameters", {})
    return {name: dict(definition or {}) for name, definition in parameters.items()}


# The messages below are built as automlops builds them (src/model/parameter_schema.rs), so a
# wrong value gets the same words from `automlops compile`, this module and the service.

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _json_path(path: Sequence[Any]) -> str:
    """`$.name`, `$["odd name"]`, `$.name[2]`: where in the values a problem is."""
    text = "$"
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _IDENTIFIER.match(segment):
            text += "." + segment
        else:
            text += "[" + json.dumps(segment, ensure_ascii=False) + "]"
    return text


def _describe(value: Any) -> str:
    """`a string: "ten"`, `null`: a value as a message shows it, at most 80 characters of it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "an integer"
    elif isinstance(value, float):
        kind = "a number"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, (list, tuple)):
        kind = "a list"
    else:
        kind = "an object"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{kind}: {text[:80]}{'…' if len(text) > 80 else ''}"


def _expected(prop: Mapping[str, Any]) -> str:
    """What a property's schema takes, in words: `an integer`, `a string or null`."""
    words: List[str] = []
    for branch in prop.get("anyOf") or [prop]:
        kind = branch.get("type")
        if isinstance(kind, str):
            words.append(_TYPE_WORDS.get(kind, "a value"))
        elif isinstance(kind, list):
            words.extend(_TYPE_WORDS.get(k, "a value") for k in kind)
        elif "$ref" in branch:
            words.append("a value computed at submission")
    return " or ".join(words) if words else "a value"


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a):
        previous, row[0] = row[0], i + 1
        for j, cb in enumerate(b):
            substitution = previous + (ca != cb)
            previous = row[j + 1]
            row[j + 1] = min(substitution, row[j] + 1, row[j + 1] + 1)
    return row[len(b)]


def _unknown_name(name: str, known: Sequence[str]) -> str:
    message = f"{_json_path([name])}: not a parameter of this pipeline"
    close = sorted(
        (d, k) for k in known for d in [_levenshtein(name, k)] if d <= 2 and d < len(name)
    )
    if close:
        message += f" (did you mean {json.dumps(close[0][1], ensure_ascii=False)}?)"
    if known:
        message += f"; its parameters are: {', '.join(known)}"
    else:
        message += "; it has no parameters"
    return message


def schema_problems(
    schema: Mapping[str, Any], values: Any, whole_run: bool = False
) -> List[str]:
    """What `values` gets wrong against the parameters' `schema`, one sentence each, sorted.

    `whole_run`: the values are a whole run's, so every parameter without a default needs one;
    otherwise they are some values to merge (a values file, a request's overrides).
    """
    import jsonschema

    if not whole_run:
        schema = {key: value for key, value in schema.items() if key != "required"}
    properties = schema.get("properties") or {}
    known = sorted(name for name in properties if name != SCHEMA_KEY)
    problems = set()
    for error in jsonschema.Draft202012Validator(schema).iter_errors(values):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    problems.add(
                        f"{_json_path([name])}: required: the parameter has no default, "
                        "and no value was given"
                    )
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            for name in error.instance:
                if name not in properties:
                    problems.add(_unknown_name(name, known))
        elif error.validator in ("type", "anyOf") and len(path) == 1:
            prop = properties.get(path[0]) or {}
            problems.add(f"{_json_path(path)}: expected {_expected(prop)}, got {_describe(error.instance)}")
        else:
            problems.add(f"{_json_path(path)}: {error.message}")
    return sorted(problems)


def _default_value(definition: Mapping[str, Any]) -> Any:
    """A parameter's declared default; integers come back as int (the IR stores 6.0 for 6)."""
    value = copy.deepcopy(definition["defaultValue"])
    if (
        definition.get("parameterType") == "NUMBER_INTEGER"
        and isinstance(value, float)
        and value.is_integer()
    ):
        value = int(value)
    return value


def merge_parameters(
    job: Mapping[str, Any],
    overrides: Optional[Mapping[str, Any]],
    schema: Mapping[str, Any],
) -> Dict[str, Any]:
    """The parameter values of a run: declared defaults, then compiled values, then `overrides`.

    Raises ParameterError, one problem per sentence, if `overrides` (or the compiled values)
    do not fit the parameters' `schema` (an unknown name, a value of the wrong type), or if
    the run lacks a value for a parameter that has no default.
    The job is not modified; the result shares no lists or dicts with it or with `overrides`.
    """
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        raise ParameterError(
            [
                "parameter overrides must be an object mapping parameter names to values, "
                f"not {_describe(overrides).split(':')[0]}"
            ]
        )
    overrides = {k: v for k, v in evaluate_run_time_values(overrides).items() if k != SCHEMA_KEY}
    definitions = parameter_definitions(job)
    compiled = job.get("runtimeConfig", {}).get("parameterValues", {}) or {}

    problems = [f"compiled value: {p}" for p in schema_problems(schema, compiled)]
    problems += schema_problems(schema, overrides)
    if problems:
        raise ParameterError(problems)

    merged: Dict[str, Any] = {}
    for name, definition in definitions.items():
        if "defaultValue" in definition:
            merged[name] = _default_value(definition)
    merged.update(copy.deepcopy(dict(compiled)))
    merged.update(copy.deepcopy(dict(overrides)))
    problems = schema_problems(schema, merged, whole_run=True)
    if problems:
        raise ParameterError(problems)
    return {name: value for name, value in merged.items() if name in definitions}


def resolve_parameters(
    config: RunnerConfig, job: Mapping[str, Any], params: Sequence[str]
) -> Dict[str, Any]:
    """The parameter values of a run from the command line: the pipeline's defaults, the
    compiled values, the runtime parameter values file, then each `NAME=VALUE` of `params`.

    Raises ParameterError if the values file or a `params` value does not fit the schema,
    or ConfigError if a file cannot be read. `python -m pipelines.run_local` uses it too.
    """
    schema = load_parameter_schema(config.parameter_schema_path)
    file_values = load_parameter_values(config.parameter_values_path)
    problems = schema_problems(schema, file_values)
    if problems:
        raise ParameterError([f"{config.parameter_values_path}: {p}" for p in problems])
    file_values = evaluate_run_time_values(file_values)
    definitions = parameter_definitions(job)
    overrides = dict(file_values)
    for text in params:
        name = text.partition("=")[0].strip()
        parameter_type = definitions.get(name, {}).get("parameterType")
        name, value = parse_param(text, parameter_type)
        overrides[name] = value
    return merge_parameters(job, overrides, schema)


def parse_param(text: str, parameter_type: Optional[str] = None) -> Tuple[str, Any]:
    """Parses a `NAME=VALUE` argument.

    VALUE is read as JSON when it parses (`10`, `false`, `["a"]`, `{"k": 1}`, `"text"`), and
    kept as the string itself otherwise. For a STRING parameter (`parameter_type`), a VALUE
    that is JSON but not a JSON string is kept as written too: `version=1.0` is "1.0".
    """
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        return name, raw
    if parameter_type == "STRING" and not isinstance(value, str):
        return name, raw
    return name, value


# --------------------------------------------------------------------------------------
# Submission
# --------------------------------------------------------------------------------------


def new_job_id(pipeline_name: str, now: Optional[datetime.datetime] = None) -> str:
    """A PipelineJob ID unique to this submission: `<pipeline>-<UTC time>-<random>`.

    Vertex AI's own default (`<pipeline>-<time to the second>`) collides when two runs
    are submitted in the same second; the random suffix prevents that.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    slug = re.sub(r"[^-a-z0-9]+", "-", pipeline_name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "pipeline-" + slug if slug else "pipeline"
    suffix = f"-{now.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    slug = slug[: _JOB_ID_MAX - len(suffix)].rstrip("-")
    job_id = slug + suffix
    assert _JOB_ID_PATTERN.match(job_id), job_id
    return job_id


def console_url(resource_name: str, project: str, location: str) -> str:
    """The Cloud console page of a PipelineJob run."""
    job_id = resource_name.rstrip("/").rsplit("/", 1)[-1]
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{location}"
        f"/pipelines/runs/{job_id}?project={project}"
    )


# A Docker image tag.
_IMAGE_TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def pin_images(job: Mapping[str, Any], tag: str) -> Dict[str, Any]:
    """A copy of the job whose executors run the images they name `:latest` at `:tag`.

    Vertex AI caches steps by image name: a run of `:latest` may reuse results of an older
    image. scripts/build_components.sh tags each build (the commit) and records the tag.
    """
    if not _IMAGE_TAG_PATTERN.match(tag):
        raise ConfigError(f"{tag!r} is not a Docker image tag")
    pinned = copy.deepcopy(dict(job))
    spec = pinned.get("pipelineSpec", {})
    for executor in spec.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container") or {}
        image = container.get("image", "")
        if image.endswith(":latest"):
            container["image"] = image[: -len("latest")] + tag
    # A component run as a Vertex AI CustomJob names its image in its worker pools.
    for component in spec.get("components", {}).values():
        parameters = (component.get("inputDefinitions") or {}).get("parameters") or {}
        pools = (parameters.get("worker_pool_specs") or {}).get("defaultValue") or []
        for pool in pools if isinstance(pools, list) else []:
            container = pool.get("container_spec") or {} if isinstance(pool, dict) else {}
            image = container.get("image_uri", "")
            if isinstance(image, str) and image.endswith(":latest"):
                container["image_uri"] = image[: -len("latest")] + tag
    return pinned


def submit(
    job_path: PathLike,
    project: str,
    location: str,
    service_account: str,
    pipeline_root: str,
    parameter_values: Mapping[str, Any],
    enable_caching: Optional[bool],
    labels: Optional[Mapping[str, str]],
    display_name: Optional[str] = None,
    job_id: Optional[str] = None,
    image_tag: Optional[str] = None,
    experiment: Optional[str] = None,
) -> Tuple[str, str]:
    """Submits the compiled PipelineJob at `job_path` to Vertex AI, without waiting for it.

    `parameter_values` should come from `merge_parameters`. `enable_caching` False or True
    sets every task's caching; None keeps each task's compiled setting. `display_name`
    defaults to the job's displayName, `job_id` to `new_job_id(...)`. `image_tag` runs the
    images the job names `:latest` at that tag (`pin_images`). `experiment` submits the run
    into that Vertex AI Experiment (created if it does not exist). The run executes as
    `service_account`. Credentials are the environment's (Application Default Credentials,
    or whatever `aiplatform.init` set).

    Returns the run's resource name and its console URL.
    """
    from google.cloud import aiplatform  # imported here: a dry run or --help does not need it

    import tempfile

    job = load_job(job_path)
    pipeline_name = (
        job["pipelineSpec"].get("pipelineInfo", {}).get("name")
        or job.get("displayName")
        or "pipeline"
    )
    with tempfile.TemporaryDirectory(prefix="pipeline_job-") as scratch:
        template_path = str(job_path)
        if image_tag:
            # As YAML: the client reads the template with PyYAML whatever its extension, and
            # YAML 1.1 reads `1e-07`, which json.dump writes for 1e-7, as a string.
            import yaml  # PyYAML

            template_path = str(Path(scratch) / "pipeline_job.yaml")
            with open(template_path, "w", encoding="utf-8") as f:
                yaml.safe_dump(pin_images(job, image_tag), f, sort_keys=False, allow_unicode=True)
        # The template is read here, so the pinned copy may go once this returns.
        pipeline_job = aiplatform.PipelineJob(
            display_name=display_name or job.get("displayName") or pipeline_name,
            template_path=template_path,
            job_id=job_id or new_job_id(pipeline_name),
            pipeline_root=pipeline_root,
            parameter_values=dict(parameter_values),
            enable_caching=enable_caching,
            labels=dict(labels) if labels else None,
            project=project,
            location=location,
        )
    pipeline_job.submit(service_account=service_account, experiment=experiment or None)
    resource_name = pipeline_job.resource_name
    return resource_name, console_url(resource_name, project, location)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _label(text: str) -> Tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _param(text: str) -> str:
    name, sep, _ = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m pipelines.pipeline_runner`."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.pipeline_runner",
        description="Submit the compiled pipeline to Vertex AI Pipelines. "
        "Run from the root of the generated tree.",
    )
    parser.add_argument(
        "--param",
        metavar="NAME=VALUE",
        type=_param,
        action="append",
        default=[],
        help="override a pipeline parameter; VALUE is read as JSON when it is JSON "
        "(10, false, [\"a\"], {\"k\": 1}), else as a string (a string parameter always "
        "takes VALUE as written, unless it is a quoted JSON string). Repeatable.",
    )
    parser.add_argument(
        "--caching",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="let tasks reuse cached results, each as it was compiled (kfp's default is on; "
        "a task compiled with caching off stays off). Off by default.",
    )
    parser.add_argument(
        "--label",
        metavar="KEY=VALUE",
        type=_label,
        action="append",
        default=[],
        help="a label for the run (lowercase letters, digits, - and _). Repeatable.",
    )
    parser.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG_PATH),
        help="the options file of the generated tree (default: %(default)s)",
    )
    parser.add_argument(
        "--image-tag",
        metavar="TAG",
        help="run the images the pipeline names `:latest` at TAG instead, as built by "
        "scripts/build_components.sh (which records its tag in .component-image-tag, "
        "and scripts/run_pipeline.sh passes it)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the parameter values the run would get, as JSON, and submit nothing",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status (0 submitted, 1 failed)."""
    args = build_parser().parse_args(argv)
    root = Path.cwd()
    try:
        config = load_config(root, args.config)
        job = load_job(config.job_spec_path)
        values = resolve_parameters(config, job, args.param)
        if args.image_tag:
            pin_images(job, args.image_tag)  # refuses a tag Docker would not accept
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except ParameterError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1

    if args.dry_run:
        print(json.dumps(values, indent=2, sort_keys=True))
        return 0

    # aiplatform logs its progress to stdout unless a handler already exists: send it to
    # stderr, so that stdout holds only the resource name and the console URL.
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    labels = dict(CLI_LABELS)
    labels.update(dict(args.label))
    try:
        resource_name, url = submit(
            job_path=config.job_spec_path,
            project=config.project_id,
            location=config.region,
            service_account=config.service_account,
            pipeline_root=config.pipeline_root,
            parameter_values=values,
            enable_caching=None if args.caching else False,
            labels=labels,
            image_tag=args.image_tag,
            experiment=config.experiment,
        )
    except Exception as e:  # noqa: BLE001 - report any failure of the submission plainly
        print(f"error: submitting the pipeline failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(resource_name)
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
