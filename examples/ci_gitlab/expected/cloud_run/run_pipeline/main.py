"""The pipeline runner service: submits the compiled pipeline to Vertex AI when called.

Served by gunicorn (`gunicorn main:app`) on Cloud Run, from /app, which holds this file,
pipeline_runner.py and the compiled pipeline_job.json.

    POST /[?caching=true]   body: a JSON object of parameter overrides; empty or {} runs the
                            compiled values. 200 {"resource_name": ..., "console_url": ...};
                            400 {"error": ...} for an unknown parameter, a value of the wrong
                            type, a missing required value, or a body that is not a JSON object:
                            checked against the parameters' JSON Schema, with the messages of
                            `automlops compile` and pipelines/pipeline_runner.py.
                            Caching is off unless ?caching=true: then each task caches as it
                            was compiled.
    GET /healthz, /health   200 {"status": "ok"}

Configuration, from the environment (Terraform sets the first four, and EXPERIMENT when the
notebook names one):

    PROJECT_ID          the project the PipelineJob runs in
    REGION              its Vertex AI region
    PIPELINE_ROOT       gs://... where runs write their outputs
    PIPELINE_RUNNER_SA  the service account the runs execute as
    PIPELINE_JOB_PATH   the compiled PipelineJob (default /app/pipeline_job.json)
    PIPELINE_VALUES_PATH  the compiled parameter values (default
                        /app/pipeline_parameter_values.json): the values computed at each
                        submission (a timestamp, a UUID...) are evaluated afresh for every run
    PIPELINE_SCHEMA_PATH  the parameters' JSON Schema (default: beside the values,
                        /app/pipeline_parameter_values.schema.json)
    EXPERIMENT          optional: the Vertex AI Experiment runs are submitted into

The service refuses to start when one is missing or the compiled pipeline cannot be read.
Logs go to stdout, one JSON object a line, as Cloud Logging reads them.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

# Logging is configured before google-cloud-aiplatform is imported: its loggers then
# send their records here instead of adding a plain-text handler of their own.

_SEVERITIES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


class CloudLoggingFormatter(logging.Formatter):
    """Formats a record as one line of JSON in Cloud Logging's structured format.

    `severity` and `message` are Cloud Logging's special fields; the dict passed as
    `extra={"fields": {...}}` adds fields of its own (they land in jsonPayload), and
    `extra={"trace": "projects/P/traces/T"}` correlates the line with its request.
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # The stack trace in the message is what Error Reporting picks up.
            message = f"{message}\n{''.join(traceback.format_exception(*record.exc_info))}"
        entry: Dict[str, Any] = {
            "severity": _SEVERITIES.get(record.levelno, "DEFAULT"),
            "message": message,
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat()
            .replace("+00:00", "Z"),
            "logger": record.name,
            "logging.googleapis.com/sourceLocation": {
                "file": record.pathname,
                "line": str(record.lineno),
                "function": record.funcName,
            },
        }
        trace = getattr(record, "trace", None)
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                entry.setdefault(str(key), value)
        return json.dumps(entry, default=str)


def configure_logging() -> None:
    """Sends all logging, this service's and the libraries', to stdout as structured JSON."""
    root = logging.getLogger()
    if any(getattr(h, "_cloud_logging", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    handler._cloud_logging = True  # type: ignore[attr-defined]
    root.handlers = [handler]
    root.setLevel(logging.INFO)


configure_logging()

from flask import Flask, Response, jsonify, request  # noqa: E402

import pipeline_runner  # noqa: E402  (a sibling module: the image copies both into /app)

log = logging.getLogger("pipeline_runner_service")

DEFAULT_JOB_PATH = "/app/pipeline_job.json"
DEFAULT_VALUES_PATH = "/app/pipeline_parameter_values.json"
REQUIRED_VARIABLES = ("PROJECT_ID", "REGION", "PIPELINE_ROOT", "PIPELINE_RUNNER_SA")

# Labels every run submitted by this service carries.
SERVICE_LABELS: Dict[str, str] = {"automlops-runner": "cloud-run"}

MAX_BODY_BYTES = 1024 * 1024


class ConfigurationError(RuntimeError):
    """The service cannot start: an environment variable is missing or the job is unreadable."""


@dataclass(frozen=True)
class Settings:
    """The service's configuration, read once at startup."""

    project_id: str
    region: str
    pipeline_root: str
    service_account: str
    job_path: Path
    job: Dict[str, Any]
    # The parameters' JSON Schema: what a run's values must be.
    schema: Dict[str, Any]
    experiment: Optional[str] = None
    # The compiled values computed at each submission, as templates (see pipeline_runner).
    run_time_values: Optional[Dict[str, Any]] = None


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Reads the configuration from `environ` (default: os.environ) and loads the compiled job.

    Raises ConfigurationError naming every missing variable, or the unreadable job file.
    """
    environ = os.environ if environ is None else environ
    missing = [name for name in REQUIRED_VARIABLES if not environ.get(name, "").strip()]
    if missing:
        raise ConfigurationError(
            "missing environment variable" + ("s " if len(missing) > 1 else " ")
            + ", ".join(missing)
            + " (the runner's Terraform module sets them on the Cloud Run service)"
        )
    job_path = Path(environ.get("PIPELINE_JOB_PATH", "").strip() or DEFAULT_JOB_PATH)
    try:
        job = pipeline_runner.load_job(job_path)
    except pipeline_runner.ConfigError as e:
        raise ConfigurationError(f"{e} (set PIPELINE_JOB_PATH to the compiled PipelineJob)") from e
    values_path = Path(environ.get("PIPELINE_VALUES_PATH", "").strip() or DEFAULT_VALUES_PATH)
    try:
        values = pipeline_runner.load_parameter_values(values_path)
    except pipeline_runner.ConfigError as e:
        raise ConfigurationError(f"{e} (set PIPELINE_VALUES_PATH to the compiled values)") from e
    schema_path = Path(
        environ.get("PIPELINE_SCHEMA_PATH", "").strip()
        or pipeline_runner.schema_path_for(values_path)
    )
    try:
        schema = pipeline_runner.load_parameter_schema(schema_path)
    except pipeline_runner.ConfigError as e:
        raise ConfigurationError(f"{e} (set PIPELINE_SCHEMA_PATH to the compiled schema)") from e
    run_time_values = {
        name: value for name, value in values.items()
        if isinstance(value, dict) and pipeline_runner.RUN_TIME_KEY in value
    }
    return Settings(
        project_id=environ["PROJECT_ID"].strip(),
        region=environ["REGION"].strip(),
        pipeline_root=environ["PIPELINE_ROOT"].strip(),
        service_account=environ["PIPELINE_RUNNER_SA"].strip(),
        job_path=job_path,
        job=job,
        schema=schema,
        experiment=environ.get("EXPERIMENT", "").strip() or None,
        run_time_values=run_time_values,
    )


def _trace(project_id: str) -> Optional[str]:
    """The Cloud Trace ID of the current request, as Cloud Logging correlates it."""
    header = request.headers.get("X-Cloud-Trace-Context", "")
    trace_id = header.split("/", 1)[0].strip()
    return f"projects/{project_id}/traces/{trace_id}" if trace_id else None


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"caching must be true or false, not {text!r}")


def _overrides_from_body(body: bytes) -> Dict[str, Any]:
    """The parameter overrides of a request body: a JSON object; empty means none."""
    if not body.strip():
        return {}
    try:
        overrides = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"the request body is not valid JSON: {e}") from None
    if not isinstance(overrides, dict):
        if isinstance(overrides, bool):
            kind = "a boolean"
        elif isinstance(overrides, (int, float)):
            kind = "a number"
        else:
            kind = {list: "an array", str: "a string"}.get(type(overrides), "null")
        raise ValueError(
            "the request body must be a JSON object mapping parameter names to values, "
            f"not {kind}"
        )
    return overrides


def create_app(settings: Optional[Settings] = None) -> Flask:
    """The Flask application; `settings` default to the environment's (see load_settings)."""
    if settings is None:
        settings = load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["RUNNER_SETTINGS"] = settings

    def fail(status: int, error: str, **fields: Any) -> Tuple[Response, int]:
        log.warning(
            "rejected request: %s",
            error,
            extra={"fields": {"status": status, "error": error, **fields},
                   "trace": _trace(settings.project_id)},
        )
        return jsonify({"error": error}), status

    @app.get("/healthz")
    @app.get("/health")
    def health() -> Tuple[Response, int]:
        return jsonify({"status": "ok"}), 200

    @app.post("/")
    def run_pipeline() -> Tuple[Response, int]:
        trace = _trace(settings.project_id)
        try:
            enable_caching = _parse_bool(request.args.get("caching", "false"))
            overrides = _overrides_from_body(request.get_data(cache=False))
        except ValueError as e:
            return fail(400, str(e))
        try:
            # Values computed at each submission first, then what the request gives.
            values = pipeline_runner.merge_parameters(
                settings.job, {**(settings.run_time_values or {}), **overrides}, settings.schema
            )
        except pipeline_runner.ParameterError as e:
            return fail(400, str(e), problems=e.problems)

        try:
            resource_name, url = pipeline_runner.submit(
                job_path=settings.job_path,
                project=settings.project_id,
                location=settings.region,
                service_account=settings.service_account,
                pipeline_root=settings.pipeline_root,
                parameter_values=values,
                enable_caching=None if enable_caching else False,
                labels=SERVICE_LABELS,
                experiment=settings.experiment,
            )
        except Exception as e:  # noqa: BLE001 - any failure is reported, logged with its trace
            log.exception(
                "submitting the PipelineJob failed",
                extra={"fields": {"parameter_values": values}, "trace": trace},
            )
            status = 502 if _is_api_error(e) else 500
            return jsonify({"error": f"submitting the PipelineJob failed: {e}"}), status

        log.info(
            "submitted PipelineJob %s",
            resource_name,
            extra={
                "fields": {
                    "resource_name": resource_name,
                    "console_url": url,
                    "parameter_values": values,
                    "caching": enable_caching,
                },
                "trace": trace,
            },
        )
        return jsonify({"resource_name": resource_name, "console_url": url}), 200

    return app


def _is_api_error(error: Exception) -> bool:
    """Whether Vertex AI (or another Google API) answered with an error."""
    try:
        from google.api_core import exceptions
    except ImportError:  # pragma: no cover - google-api-core comes with aiplatform
        return False
    return isinstance(error, exceptions.GoogleAPICallError)


def _startup() -> Flask:
    try:
        settings = load_settings()
    except ConfigurationError as e:
        log.critical("the pipeline runner cannot start: %s", e)
        raise
    # Imported now rather than on the first request, which would otherwise wait for it.
    from google.cloud import aiplatform  # noqa: F401

    log.info(
        "pipeline runner ready",
        extra={"fields": {
            "project_id": settings.project_id,
            "region": settings.region,
            "pipeline_root": settings.pipeline_root,
            "service_account": settings.service_account,
            "job_path": str(settings.job_path),
            "pipeline": settings.job.get("displayName"),
        }},
    )
    return create_app(settings)


app = _startup()
