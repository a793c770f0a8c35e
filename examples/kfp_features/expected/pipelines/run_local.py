"""Run the compiled pipeline on this machine, with kfp.local.

`automlops run` drives this module; it can also be run by hand, from the root of the generated
tree, in a Python environment that has components/component_base/requirements.txt and
jsonschema installed (`automlops run` makes and keeps one):

    python -m pipelines.run_local --run-dir DIR [--param NAME=VALUE]... [--no-cache]
                                  [--cache-dir DIR] [--runner subprocess|docker --image TAG]

The parameter values are those of a cloud run, with the same precedence and the same checks
as pipelines/pipeline_runner.py: the pipeline's defaults, the compiled values, the runtime
parameter values file, then each `--param`.

Runners:
- `subprocess` runs each component's own function, from components/component_base/src/, in a
  subprocess of this Python, through kfp's executor (`python -m kfp.dsl.executor_main`), with
  components/component_base/ as its working directory, as the image's WORKDIR is.
- `docker` runs each component in the component image (`--image`, built from
  components/component_base/), as Vertex AI does.
Prebuilt Google Cloud components call Vertex AI; a pipeline that has one is refused before
anything runs.

kfp.local's cache (`--cache-dir`, kept between runs) serves a task whose component source,
requirements and inputs are unchanged; `--no-cache` runs every task.

DIR receives each task's log (DIR/logs/) and its outputs (DIR/outputs/). stdout carries one
JSON object per line, for machines (`automlops run` prints them for people):

    {"event": "plan", "pipeline": NAME, "tasks": [{"task", "display_name", "groups"}...]}
    {"event": "started", "task", "iteration", "inputs", "log"}
    {"event": "succeeded" | "cached", "task", "iteration", "seconds", "outputs", "artifacts"}
    {"event": "failed", "task", "iteration", "seconds", "log"}
    {"event": "skipped", "task", "iteration", "reason"}
    {"event": "warning", "message", "iteration"}  (kfp.local could not evaluate a condition)
    {"event": "finished", "state": "succeeded" | "failed"}
    {"event": "error", "problems": [...]}      (nothing ran: bad parameters, a task that cannot run)
    {"event": "interrupted"}                   (Ctrl-C)
    {"event": "crashed", "message"}            (kfp.local itself failed; its traceback on stderr)

`iteration` lists the task's loop iteration indexes, outermost first ([] outside loops).
kfp.local's own log goes to stderr. Exit status: 0 every task that ran succeeded, 1 a task
failed, 2 the run could not start, 130 interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, TextIO

from pipelines import pipeline_runner

# The command automlops compiles for each of its components: the component's module in the
# component image.
COMPONENT_MODULE = re.compile(r"^/pipelines/component/src/([A-Za-z_][A-Za-z0-9_]*)\.py$")
# Images of Google Cloud Pipeline Components: they call Google Cloud, never run locally.
PREBUILT_IMAGE_PREFIXES = (
    "gcr.io/ml-pipeline/google-cloud-pipeline-components",
    "us-docker.pkg.dev/vertex-ai/",
)
# An environment variable each rewritten task carries, so that kfp.local's cache key (which
# covers the command, image, inputs and environment) changes when the component's source or
# requirements do.
SOURCE_HASH_VARIABLE = "AUTOMLOPS_COMPONENT_SHA256"
ITERATION = re.compile(r"-iteration-(\d+)")
# A loop item's pipeline channel: `pipelinechannel--xs-loop-item` over a parameter or a task
# output, `pipelinechannel--loop-item-param-1` over a literal list.
LOOP_ITEM = re.compile(r"loop-item(-param-\d+)?$")
SKIPPED_BY_CONDITION = re.compile(r"^Skipping conditional task (\S+) ")
SKIPPED_BY_FAILURE = re.compile(r"^Skipping task (\S+): upstream task")
# kfp.local's warnings that a condition could not be evaluated (it then skips the branch).
CONDITION_PROBLEM = re.compile(r"^(Condition evaluation failed|Could not resolve) ")
# A single-quoted CEL string literal, so that rewriting a condition leaves literals alone.
CEL_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")

ROOT = Path(__file__).resolve().parent.parent


class CannotRun(Exception):
    """The pipeline cannot run on this machine; `problems` says why, one sentence each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------


class Events:
    """One JSON object per line, on the stream stdout was when the run started."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.failed = False

    def emit(self, event: str, **fields: Any) -> None:
        if event == "failed":
            self.failed = True
        line = json.dumps({"event": event, **fields}, sort_keys=True, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class ThreadRouter:
    """sys.stdout while tasks run: what a task's thread prints goes to that task's log."""

    def __init__(self, fallback: TextIO) -> None:
        self._fallback = fallback
        self._local = threading.local()

    @property
    def current(self) -> Optional[TextIO]:
        return getattr(self._local, "log", None)

    @current.setter
    def current(self, log: Optional[TextIO]) -> None:
        self._local.log = log

    def write(self, text: str) -> int:
        return (self.current or self._fallback).write(text)

    def flush(self) -> None:
        (self.current or self._fallback).flush()


def jsonable(value: Any) -> Any:
    """A task's input or output as JSON: artifacts as their type and URI."""
    from kfp import dsl

    if isinstance(value, dsl.Artifact):
        return {"artifact": type(value).schema_title, "uri": value.uri}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def split_outputs(outputs: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    from kfp import dsl

    parameters, artifacts = {}, {}
    for name, value in sorted(outputs.items()):
        is_artifact = isinstance(value, dsl.Artifact) or (
            isinstance(value, list) and value and all(isinstance(v, dsl.Artifact) for v in value)
        )
        (artifacts if is_artifact else parameters)[name] = jsonable(value)
    return {"outputs": parameters, "artifacts": artifacts}


def as_declared(values: Dict[str, Any], definitions: Any) -> Dict[str, Any]:
    """Integer parameters as integers, and whole numbers in lists and structs as the
    component gets them: kfp.local holds every number as a float (10.0)."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    integer = pipeline_spec_pb2.ParameterType.NUMBER_INTEGER
    shown = {
        name: whole_numbers_as_integers(value) if isinstance(value, (list, dict)) else value
        for name, value in values.items()
    }
    for name, value in values.items():
        declared = definitions.get(name)
        if (
            declared is not None
            and declared.parameter_type == integer
            and isinstance(value, float)
            and value.is_integer()
        ):
            shown[name] = int(value)
    return shown


# --------------------------------------------------------------------------------------
# The pipeline spec
# --------------------------------------------------------------------------------------


def leaf_tasks(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every task that runs a component, with the groups (conditions, loops, exit handlers)
    it sits in, outermost first."""
    components = spec.get("components", {})
    leaves: List[Dict[str, Any]] = []

    def walk(dag: Dict[str, Any], groups: List[str]) -> None:
        for name, task in sorted((dag.get("tasks") or {}).items()):
            component = components.get(task.get("componentRef", {}).get("name", ""), {})
            if "dag" in component:
                walk(component["dag"], groups + [name])
            else:
                leaves.append(
                    {
                        "task": name,
                        "display_name": task.get("taskInfo", {}).get("name", name),
                        "groups": groups,
                    }
                )

    walk(spec.get("root", {}).get("dag", {}), [])
    return leaves


def source_hash(module: Path, requirements: Path) -> str:
    digest = hashlib.sha256()
    for path in (module, requirements):
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def prepare_executors(
    spec: Dict[str, Any], runner: str, image: Optional[str], component_dir: Path
) -> None:
    """Points each component task at this machine's copy of its code; refuses what cannot run."""
    problems = []
    requirements = component_dir / "requirements.txt"
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for label, executor in sorted(executors.items()):
        container = executor.get("container")
        if container is None:
            continue  # an importer: kfp.local runs it
        command = container.get("command") or []
        module = COMPONENT_MODULE.match(command[1]) if len(command) == 2 else None
        if command[:1] == ["python3"] and module:
            path = component_dir / "src" / f"{module.group(1)}.py"
            env = [e for e in container.get("env", []) if e.get("name") != SOURCE_HASH_VARIABLE]
            env.append({"name": SOURCE_HASH_VARIABLE, "value": source_hash(path, requirements)})
            container["env"] = env
            if runner == "docker":
                container["image"] = image
            else:
                container["command"] = [
                    "python3",
                    "-u",
                    "-m",
                    "kfp.dsl.executor_main",
                    "--component_module_path",
                    str(path),
                ]
            continue
        task_image = container.get("image", "")
        if task_image.startswith(PREBUILT_IMAGE_PREFIXES):
            problems.append(
                f"{label} runs the prebuilt Google Cloud component image {task_image}, which "
                "calls Vertex AI: it cannot run on this machine; run the pipeline on Vertex AI "
                "(scripts/run_pipeline.sh)"
            )
        elif runner != "docker":
            problems.append(
                f"{label} runs its own container image {task_image}, which the subprocess "
                "runner cannot run: use `--runner docker`"
            )
    if problems:
        raise CannotRun(problems)


# --------------------------------------------------------------------------------------
# Watching kfp.local
# --------------------------------------------------------------------------------------


class Watcher:
    """Hooks into kfp.local 2.17.3 to report each task as it starts, ends, or is skipped."""

    def __init__(
        self,
        events: Events,
        router: ThreadRouter,
        run_dir: Path,
        leaves: List[Dict[str, Any]],
        component_dir: Path,
    ) -> None:
        self.events = events
        self.router = router
        self.run_dir = run_dir
        self.component_dir = component_dir
        self.local = threading.local()
        self.below: Dict[str, List[str]] = {}
        for leaf in leaves:
            for group in leaf["groups"]:
                self.below.setdefault(group, []).append(leaf["task"])

    def iteration(self, resource_name: str) -> List[int]:
        return [int(i) for i in ITERATION.findall(resource_name)]

    def install(self) -> None:
        from kfp.local import cache, executor_input_utils, subprocess_task_handler
        from kfp.local.orchestrator import enhanced_dag_orchestrator, task_executor, task_spec_utils

        watcher = self
        execute_single_task = task_executor.execute_single_task
        execute_task = enhanced_dag_orchestrator.execute_task
        cache_get = cache.LocalCache.get

        def watched_execute_task(**kwargs: Any) -> Any:
            # The resource name of the scope the task's own tasks run in: a loop iteration
            # adds `/NAME-iteration-I`.
            previous = getattr(watcher.local, "resource", None)
            watcher.local.resource = task_spec_utils.get_nested_pipeline_resource_name(
                kwargs["task_name"], kwargs["pipeline_resource_name"]
            )
            try:
                return execute_task(**kwargs)
            finally:
                watcher.local.resource = previous

        def watched_single_task(**kwargs: Any) -> Any:
            return watcher.run_task(execute_single_task, kwargs)

        def watched_cache_get(self: Any, key: str) -> Any:
            found = cache_get(self, key)
            if found is not None:
                watcher.local.cached = True
            return found

        evaluate_condition = enhanced_dag_orchestrator.ConditionEvaluator.evaluate_condition

        def watched_evaluate_condition(condition: str, io_store: Any) -> bool:
            return evaluate_condition(cel_to_python(condition), io_store)

        enhanced_dag_orchestrator.ConditionEvaluator.evaluate_condition = staticmethod(
            watched_evaluate_condition
        )
        resolve_channel = enhanced_dag_orchestrator.ConditionEvaluator._resolve_pipeline_channel

        def loop_item(channel_ref: str, io_store: Any) -> Any:
            # The loop item is an input of the iteration's scope. kfp.local reads a reference
            # with `-Output` in it (a loop over a task output) as that task's whole output
            # instead, so `item.a == "x"` compared the list with "x".
            for key in (channel_ref, channel_ref.replace("pipelinechannel--", "", 1)):
                try:
                    return True, io_store.get_parent_input(key)
                except (ValueError, KeyError):
                    continue
            return False, None

        def watched_resolve_channel(channel_ref: str, io_store: Any) -> Any:
            base, subvar, field = channel_ref.rpartition("-subvar-")
            if not subvar:
                base, field = channel_ref, None
            if LOOP_ITEM.search(base):
                found, item = loop_item(base, io_store)
                if found and field is None:
                    return item
                if found and isinstance(item, str):
                    try:
                        item = json.loads(item)
                    except ValueError:
                        pass
                # A field of a loop item (`config.rate`): kfp.local does not resolve fields
                # in conditions.
                if found and isinstance(item, dict) and field in item:
                    return item[field]
            return resolve_channel(channel_ref, io_store)

        make_iteration = task_spec_utils.create_parameter_loop_iteration_task_spec

        def watched_make_iteration(original_task_spec: Any, loop_item: Any, loop_task_name: str) -> Any:
            # kfp.local gives every task-output input of a loop iteration the loop item: a
            # task in a loop over a task output that also takes another task's output
            # (`say(message=first.output)`) got the item. Only the item input takes the item.
            iteration = make_iteration(original_task_spec, loop_item, loop_task_name)
            item_input = original_task_spec.parameter_iterator.item_input
            for name, spec in original_task_spec.inputs.parameters.items():
                if spec.HasField("task_output_parameter") and name != item_input:
                    iteration.inputs.parameters[name].CopyFrom(spec)
            return iteration

        task_spec_utils.create_parameter_loop_iteration_task_spec = watched_make_iteration
        enhanced_dag_orchestrator.ConditionEvaluator._resolve_pipeline_channel = staticmethod(
            watched_resolve_channel
        )
        executor_input_to_dict = executor_input_utils.executor_input_to_dict

        def watched_executor_input_to_dict(*args: Any, **kwargs: Any) -> Dict[str, Any]:
            executor_input = executor_input_to_dict(*args, **kwargs)
            values = executor_input.get("inputs", {}).get("parameterValues", {})
            for name, value in values.items():
                if isinstance(value, (list, dict)):
                    values[name] = whole_numbers_as_integers(value)
            return executor_input

        executor_input_utils.executor_input_to_dict = watched_executor_input_to_dict
        enhanced_dag_orchestrator.execute_task = watched_execute_task
        task_executor.execute_single_task = watched_single_task
        cache.LocalCache.get = watched_cache_get
        subprocess_task_handler.replace_python_executable = replace_python_executable
        subprocess_task_handler.run_local_subprocess = self.run_local_subprocess
        logging.getLogger().addFilter(self.log_filter)

    def run_task(self, execute_single_task: Any, kwargs: Dict[str, Any]) -> Any:
        from kfp.local import status
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

        task = kwargs["task_name"]
        iteration = self.iteration(kwargs["pipeline_resource_name"])
        suffix = "".join(f"-{i}" for i in iteration)
        log_path = self.run_dir / "logs" / f"{task}{suffix}.log"
        component = kwargs["components"][kwargs["task_spec"].component_ref.name]
        try:
            inputs = jsonable(
                OrchestratorUtils.make_task_arguments(kwargs["task_spec"].inputs, kwargs["io_store"])
            )
        except Exception:  # noqa: BLE001 - the task itself will report what is wrong
            inputs = {}
        inputs = as_declared(inputs, component.input_definitions.parameters)
        self.events.emit(
            "started", task=task, iteration=iteration, inputs=inputs, log=str(log_path)
        )
        self.local.cached = False
        started = time.monotonic()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w", encoding="utf-8") as log:
            self.router.current = log
            try:
                outputs, task_status = execute_single_task(**kwargs)
            except Exception as e:  # noqa: BLE001 - kfp.local's own error: the task failed
                log.write(f"\nkfp.local could not run the task: {type(e).__name__}: {e}\n")
                outputs, task_status = {}, status.Status.FAILURE
            finally:
                self.router.current = None
        seconds = round(time.monotonic() - started, 3)
        if task_status == status.Status.SUCCESS:
            state = "cached" if self.local.cached else "succeeded"
            split = split_outputs(outputs)
            split["outputs"] = as_declared(
                split["outputs"], component.output_definitions.parameters
            )
            self.events.emit(state, task=task, iteration=iteration, seconds=seconds, **split)
        else:
            self.events.emit(
                "failed", task=task, iteration=iteration, seconds=seconds, log=str(log_path)
            )
        return outputs, task_status

    def run_local_subprocess(self, full_command: List[str], env_vars: Optional[Dict[str, str]] = None) -> int:
        """kfp.local's, with the component directory as working directory and the output to the
        task's log as it comes."""
        env = {**os.environ, **(env_vars or {}), "PYTHONUNBUFFERED": "1"}
        with subprocess.Popen(
            full_command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=env,
            cwd=self.component_dir,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
            return process.wait()

    def log_filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if CONDITION_PROBLEM.match(message):
            iteration = self.iteration(getattr(self.local, "resource", None) or "")
            self.events.emit("warning", message=message, iteration=iteration)
            self.local.condition_problem = message
        for pattern, reason in (
            (SKIPPED_BY_CONDITION, "its condition is false"),
            (SKIPPED_BY_FAILURE, "an upstream task failed"),
        ):
            found = pattern.match(message)
            if found:
                name = found.group(1)
                problem = getattr(self.local, "condition_problem", None)
                if pattern is SKIPPED_BY_CONDITION and problem:
                    reason = "kfp.local could not evaluate its condition; Vertex AI may run it"
                self.local.condition_problem = None
                iteration = self.iteration(getattr(self.local, "resource", None) or "")
                for task in self.below.get(name, [name]):
                    self.events.emit("skipped", task=task, iteration=iteration, reason=reason)
        return True


def whole_numbers_as_integers(value: Any) -> Any:
    """Numbers inside a list or struct parameter as Vertex AI passes them: KFP's launcher (Go) writes
    a whole number without a fraction (`[2, 4]`), where kfp.local's protobuf round trip makes
    every number a float (`[2.0, 4.0]`), so `sum(nums)` of a collected `int` output would not
    be an `int` locally only."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [whole_numbers_as_integers(v) for v in value]
    if isinstance(value, dict):
        return {k: whole_numbers_as_integers(v) for k, v in value.items()}
    return value


def cel_to_python(condition: str) -> str:
    """kfp.local evaluates a condition as Python and lacks CEL's `double()`, which kfp compiles
    where an integer meets a float (`rows > 50.5`): it becomes Python's `float()`."""
    parts = []
    last = 0
    for literal in CEL_STRING.finditer(condition):
        parts.append(re.sub(r"\bdouble\(", "float(", condition[last : literal.start()]))
        parts.append(literal.group(0))
        last = literal.end()
    parts.append(re.sub(r"\bdouble\(", "float(", condition[last:]))
    return "".join(parts)


def replace_python_executable(full_command: List[str], new_executable: str) -> List[str]:
    """kfp.local replaces `python3` anywhere in the command, inputs included; only the program."""
    if full_command[:1] == ["python3"]:
        return [new_executable, *full_command[1:]]
    return list(full_command)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run_local",
        description="Run the compiled pipeline on this machine, with kfp.local.",
    )
    parser.add_argument("--run-dir", required=True, type=Path, help="where logs and outputs go")
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="a parameter value, read as JSON when it is JSON (repeatable)",
    )
    parser.add_argument("--runner", choices=("subprocess", "docker"), default="subprocess")
    parser.add_argument("--image", help="the component image to run (docker runner)")
    parser.add_argument("--no-cache", action="store_true", help="run every task")
    parser.add_argument(
        "--cache-dir", type=Path, default=ROOT / ".automlops" / "cache",
        help="kfp.local's cache, kept between runs [default: .automlops/cache]",
    )
    parser.add_argument("--config", help="configs/defaults.yaml, or another")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.runner == "docker" and not args.image:
        print("error: --runner docker needs --image", file=sys.stderr)
        return 2
    events = Events(sys.stdout)
    run_dir = args.run_dir.resolve()
    component_dir = ROOT / "components" / "component_base"
    try:
        config = pipeline_runner.load_config(ROOT, args.config)
        job = pipeline_runner.load_job(config.job_spec_path)
        values = pipeline_runner.resolve_parameters(config, job, args.param)
        spec = job["pipelineSpec"]
        # An optional parameter without a default (`note: str = None`) gets None on Vertex
        # AI; kfp.local needs it said.
        root_inputs = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
        for name, definition in root_inputs.items():
            if name not in values and definition.get("isOptional"):
                values[name] = None
        leaves = leaf_tasks(spec)
        prepare_executors(spec, args.runner, args.image, component_dir)
    except (pipeline_runner.ConfigError, pipeline_runner.ParameterError, CannotRun) as e:
        problems = getattr(e, "problems", None) or [str(e)]
        events.emit("error", problems=problems)
        return 2

    events.emit("plan", pipeline=spec["pipelineInfo"]["name"], tasks=leaves, parameters=values)

    from google.protobuf import json_format
    from kfp import local
    from kfp.local import pipeline_orchestrator
    from kfp.pipeline_spec import pipeline_spec_pb2

    pipeline_spec = json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    # kfp.local warns that an image without "python" in its name may not suit a Python
    # environment; the subprocess runner runs this machine's Python, whatever the image.
    warnings.filterwarnings("ignore", message="You may be attemping to run a task")
    warnings.filterwarnings("ignore", message=r"Task .*: settings .* have no effect")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")

    if args.runner == "docker":
        runner: Any = local.DockerRunner()
    else:
        runner = local.SubprocessRunner(use_venv=False)
    local.init(
        runner=runner,
        pipeline_root=str(run_dir / "outputs"),
        raise_on_error=False,
        enable_caching=not args.no_cache,
        cache_root=str(args.cache_dir.resolve()),
    )
    router = ThreadRouter(sys.stderr)
    Watcher(events, router, run_dir, leaves, component_dir).install()
    sys.stdout = router  # type: ignore[assignment]
    try:
        pipeline_orchestrator.run_local_pipeline(pipeline_spec, values)
    except KeyboardInterrupt:
        events.emit("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - kfp.local's own failure: say it, keep the traceback
        import traceback

        traceback.print_exc()
        events.emit("crashed", message=f"{type(e).__name__}: {e}")
        return 1
    finally:
        sys.stdout = sys.__stdout__
    state = "failed" if events.failed else "succeeded"
    events.emit("finished", state=state)
    return 1 if events.failed else 0


if __name__ == "__main__":
    sys.exit(main())
