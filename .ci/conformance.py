#!/usr/bin/env python3
"""Check every golden output tree (examples/*/expected/) against the real KFP SDK.

Run with a Python that has kfp==2.17.3 (`.ci/run` makes that venv). Per example:

  pipeline-spec-proto      strict ParseDict of pipelineSpec into kfp's PipelineSpec
  deployment-config-proto  strict ParseDict of pipelineSpec.deploymentSpec into
                           PipelineDeploymentConfig (PipelineSpec holds it as a Struct)
  validate                 the shared validator on pipeline_job.json, with the
                           runtime parameter values file (only if the validator exists)
  component:<name>         kfp.components.load_component_from_file on each component.yaml
  compile                  `python -m pipelines.pipeline --output ...` in a copy of the tree
  compare                  the compiled spec is semantically equal to our pipelineSpec
  py_compile:<path>        every .py file in the tree compiles
  notebook-kfp             (notebooks with container components or component files) the
                           steps that do not run in the shared image are what kfp's own
                           compile of the notebook's cells writes (.ci/notebook_kfp.py)

Prints `ok  <example>/<check>` or `FAIL <example>/<check>: <reason>` (details
indented below), and exits 1 if any check failed.
"""

import argparse
import glob
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings

sys.dont_write_bytecode = True  # never leave __pycache__ in the golden trees

from google.protobuf import json_format  # noqa: E402
from kfp import components  # noqa: E402
from kfp.pipeline_spec import pipeline_spec_pb2  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_VALIDATOR = os.path.join(os.path.dirname(REPO), 'shared', 'oracles',
                                 'validate_pipeline_job.py')
JOB_PATH = os.path.join('scripts', 'pipeline_spec', 'pipeline_job.json')
PARAMS_PATH = os.path.join('pipelines', 'runtime_parameters', 'pipeline_parameter_values.json')


def output_paths(tree):
    """The job and parameter-values paths the compile used (configs/defaults.yaml records them)."""
    import yaml

    try:
        with open(os.path.join(tree, 'configs', 'defaults.yaml')) as f:
            pipelines = yaml.safe_load(f).get('pipelines', {})
    except OSError:
        return JOB_PATH, PARAMS_PATH
    return (pipelines.get('pipeline_job_spec_path', JOB_PATH),
            pipelines.get('parameter_values_path', PARAMS_PATH))
TIMEOUT = 600
MAX_DETAIL_LINES = 30


class CheckFailed(Exception):
    def __init__(self, reason, details=''):
        super().__init__(reason)
        self.reason = reason
        self.details = details


class Runner:
    def __init__(self):
        self.failed = 0

    def check(self, example, name, func, *args):
        """Runs one check; returns its result, or None if it failed."""
        label = f'{example}/{name}'
        try:
            result = func(*args)
        except CheckFailed as e:
            self.fail(label, e.reason, e.details)
            return None
        except Exception as e:  # noqa: BLE001 - any error is a failed check
            self.fail(label, f'{type(e).__name__}: {e}')
            return None
        print(f'ok  {label}', flush=True)
        return True if result is None else result

    def fail(self, label, reason, details=''):
        self.failed += 1
        first, _, rest = str(reason).strip().partition('\n')
        print(f'FAIL {label}: {first}', flush=True)
        for line in (rest + '\n' + details).strip('\n').splitlines():
            print(f'    {line}', flush=True)


def run(cmd, cwd=None):
    """Runs cmd; raises CheckFailed with its output unless it exits 0."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f'timed out after {TIMEOUT} s: {" ".join(cmd)}') from None
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        if len(lines) > MAX_DETAIL_LINES:
            omitted = len(lines) - MAX_DETAIL_LINES
            lines = [f'... ({omitted} lines omitted)'] + lines[-MAX_DETAIL_LINES:]
        raise CheckFailed(f'exit status {proc.returncode}: {" ".join(cmd)}', '\n'.join(lines))
    return proc


def load_job(path):
    with open(path, encoding='utf-8') as f:
        job = json.load(f)
    if not isinstance(job, dict) or not isinstance(job.get('pipelineSpec'), dict):
        raise CheckFailed(f'{JOB_PATH} has no pipelineSpec object')
    return job


def parse_spec(spec):
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())


def parse_deployment(spec):
    if not isinstance(spec.get('deploymentSpec'), dict):
        raise CheckFailed('pipelineSpec has no deploymentSpec object')
    json_format.ParseDict(spec['deploymentSpec'], pipeline_spec_pb2.PipelineDeploymentConfig())


def load_component(path):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        components.load_component_from_file(path)


# The Python with google-cloud-pipeline-components (and the same kfp), for pipeline.py files
# that import prebuilt components: set by --gcpc-python.
GCPC_PYTHON = None


def compile_copy(tree, scratch):
    """Compiles pipelines/pipeline.py in a copy of tree; returns the compiled file."""
    copy_dir = os.path.join(scratch, 'tree')
    shutil.copytree(tree, copy_dir)
    out = os.path.join(scratch, 'compiled.json')
    python = sys.executable
    with open(os.path.join(copy_dir, 'pipelines', 'pipeline.py'), encoding='utf-8') as f:
        if 'google_cloud_pipeline_components' in f.read():
            if GCPC_PYTHON is None:
                raise CheckFailed('pipeline.py imports Google Cloud Pipeline Components: pass --gcpc-python')
            python = GCPC_PYTHON
    run([python, '-m', 'pipelines.pipeline', '--output', out], cwd=copy_dir)
    if not os.path.isfile(out):
        raise CheckFailed(f'pipelines.pipeline exited 0 but wrote no {out}')
    return out


def canonical(spec):
    """Proto round trip (deploymentSpec separately: it is a Struct in PipelineSpec),
    numbers as floats, sdkVersion dropped: the validator's notion of equality."""
    out = json_format.MessageToDict(
        json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec()))
    if isinstance(spec.get('deploymentSpec'), dict):
        out['deploymentSpec'] = json_format.MessageToDict(json_format.ParseDict(
            spec['deploymentSpec'], pipeline_spec_pb2.PipelineDeploymentConfig()))
    out.pop('sdkVersion', None)
    return floats(out)


def floats(o):
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, (int, float)):
        return float(o)
    if isinstance(o, list):
        return [floats(x) for x in o]
    if isinstance(o, dict):
        return {k: floats(v) for k, v in o.items()}
    return o


def diff(a, b, path, out, limit=40):
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f'{path}.{k}: only in compiled')
            elif k not in b:
                out.append(f'{path}.{k}: only in ours')
            else:
                diff(a[k], b[k], f'{path}.{k}', out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f'{path}[{i}]', out, limit)
    elif a != b:
        out.append(f'{path}: ours {json.dumps(a)[:150]} != compiled {json.dumps(b)[:150]}')


def compare_builtin(spec, compiled_path):
    with open(compiled_path, encoding='utf-8') as f:
        compiled = json.load(f)
    if isinstance(compiled, dict) and 'pipelineSpec' in compiled:
        compiled = compiled['pipelineSpec']
    out = []
    diff(canonical(spec), canonical(compiled), '$', out)
    if out:
        raise CheckFailed(f'{len(out)} difference(s) from the kfp-compiled spec',
                          '\n'.join(out))


_MODULE_LOCK = threading.Lock()


def submitted_values(tree, params):
    """The values file as a submission evaluates it (the tree's own pipeline_runner)."""
    spec = importlib.util.spec_from_file_location(
        'pipeline_runner_of_tree', os.path.join(tree, 'pipelines', 'pipeline_runner.py'))
    module = importlib.util.module_from_spec(spec)
    with _MODULE_LOCK:  # one name in sys.modules: trees checked in parallel take turns
        sys.modules[spec.name] = module  # dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[spec.name]
    # The values fit the schema written beside them (Python's jsonschema, as runs check them).
    values = module.load_parameter_values(params)
    schema = module.load_parameter_schema(module.schema_path_for(params))
    problems = module.schema_problems(schema, values)
    if problems:
        raise CheckFailed('the values do not fit their schema', '\n'.join(problems))
    return module.evaluate_run_time_values(values)


def check_example(runner, example, tree, validator):
    job_path, params_path = output_paths(tree)
    job_file = os.path.join(tree, job_path)
    job = runner.check(example, 'load-pipeline-job', load_job, job_file)
    if job is not None:
        spec = job['pipelineSpec']
        runner.check(example, 'pipeline-spec-proto', parse_spec, spec)
        runner.check(example, 'deployment-config-proto', parse_deployment, spec)

    if validator:
        with tempfile.TemporaryDirectory(prefix='automlops-params-') as scratch:
            cmd = [sys.executable, validator, job_file]
            params = os.path.join(tree, params_path)
            # Not --require-all-params: a value only known when the notebook runs
            # (os.environ[...]) is left for run time by design, with a compile-time warning.
            if os.path.isfile(params):
                # Values computed at each submission are checked as a submission makes them.
                evaluated = runner.check(example, 'run-time-values', submitted_values, tree, params)
                if evaluated is not None:
                    params = os.path.join(scratch, 'values.json')
                    with open(params, 'w', encoding='utf-8') as f:
                        json.dump(evaluated, f)
                cmd += ['--params', params]
            runner.check(example, 'validate', run, cmd)

    comps = sorted(glob.glob(os.path.join(tree, 'components', '*', 'component.yaml')))
    # A pipeline of prebuilt components only has none of its own.
    own = job is not None and any(
        (e.get('container') or {}).get('command', [''])[-1].startswith('/pipelines/component/src/')
        for e in job['pipelineSpec']['deploymentSpec']['executors'].values())
    if own and not comps:
        runner.fail(f'{example}/components', 'no components/*/component.yaml')
    for path in comps:
        name = os.path.basename(os.path.dirname(path))
        runner.check(example, f'component:{name}', load_component, path)

    with tempfile.TemporaryDirectory(prefix='automlops-conformance-') as scratch:
        compiled = runner.check(example, 'compile', compile_copy, tree, scratch)
        if compiled is not None and job is not None:
            if validator:
                runner.check(example, 'compare', run,
                             [sys.executable, validator, job_file, '--compare', compiled,
                              '--no-aiplatform'])
            else:
                runner.check(example, 'compare', compare_builtin, job['pipelineSpec'], compiled)

        pyc = os.path.join(scratch, 'check.pyc')
        for path in sorted(glob.glob(os.path.join(tree, '**', '*.py'), recursive=True)):
            rel = os.path.relpath(path, tree)
            runner.check(example, f'py_compile:{rel}', py_compile.compile, path, pyc,
                         None, True)


# Components whose code needs nothing beyond kfp and the standard library, run for real through
# the KFP executor exactly as Vertex AI runs them: (example, component, input parameter values).
EXECUTOR_SMOKE = [
    ('kfp_features', 'describe', {'score': 0.75, 'passed': True, 'splits': ['train', 'test']}),
    ('kfp_features', 'announce', {'message': 'hello'}),
    ('custom_types', 'summarize', {'values': [1.5, 2.5, 4], 'weights': {'0': 2.0}, 'scale': 1.0,
                                   'rounds': 3, 'verbose': True, 'summary_path': 'out/summary.json'}),
]


def run_component(tree, component, parameter_values):
    """Runs src/<component>.py with an ExecutorInput built from its component.yaml; returns
    the executor output it wrote."""
    import yaml

    with open(os.path.join(tree, 'components', component, 'component.yaml')) as f:
        spec = yaml.safe_load(f)
    comp = next(iter(spec['components'].values()))
    with tempfile.TemporaryDirectory() as scratch:
        outputs = comp.get('outputDefinitions', {})
        executor_input = {
            'inputs': {'parameterValues': parameter_values},
            'outputs': {
                'artifacts': {
                    name: {'artifacts': [{'name': name, 'type': a['artifactType'],
                                          'uri': f'gs://automlops-smoke/{component}/{name}', 'metadata': {}}]}
                    for name, a in outputs.get('artifacts', {}).items()
                },
                'parameters': {name: {'outputFile': os.path.join(scratch, name)}
                               for name in outputs.get('parameters', {})},
                'outputFile': os.path.join(scratch, 'executor_output.json'),
            },
        }
        src = os.path.join(tree, 'components', 'component_base', 'src', f'{component}.py')
        run([sys.executable, src, '--executor_input', json.dumps(executor_input),
             '--function_to_execute', component], cwd=scratch)
        shutil.rmtree('/gcs/automlops-smoke', ignore_errors=True)
        output_file = executor_input['outputs']['outputFile']
        # The executor writes no output file for a component without outputs.
        written = {}
        if os.path.exists(output_file):
            with open(output_file) as f:
                written = json.load(f)
    missing = set(outputs.get('parameters', {})) - set(written.get('parameterValues', {}))
    if missing:
        raise CheckFailed(f'the executor did not write output parameters {sorted(missing)}')
    return written


def check_files(runner, example, tree):
    """Every YAML file parses; every Dockerfile passes hadolint (when installed)."""
    import yaml

    hadolint = shutil.which('hadolint') or os.path.join(os.path.dirname(sys.executable), 'hadolint')
    for root, _dirs, names in os.walk(tree):
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, tree)
            if name.endswith(('.yaml', '.yml')):
                def parse(p=path):
                    with open(p) as f:
                        yaml.safe_load(f)
                runner.check(example, f'yaml:{rel}', parse)
            if name == 'Dockerfile' and os.path.exists(hadolint):
                runner.check(example, f'hadolint:{rel}', run, [hadolint, path])


def percent_to_ipynb(text):
    """A notebook from a percent-format file: cells start at `# %%` lines."""
    cells = []
    for line in text.split('\n'):
        if line.startswith('# %%'):
            kind = 'markdown' if line.strip() == '# %% [markdown]' else 'code'
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
    notebook_cells = []
    for kind, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        source = [line + '\n' for line in lines[:-1]] + lines[-1:]
        cell = {'cell_type': kind, 'metadata': {}, 'source': source}
        if kind == 'code':
            cell.update(execution_count=None, outputs=[])
        notebook_cells.append(cell)
    return json.dumps({'cells': notebook_cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})


def without_descriptions(o):
    if isinstance(o, dict):
        return {k: without_descriptions(v) for k, v in o.items() if k != 'description'}
    if isinstance(o, list):
        return [without_descriptions(x) for x in o]
    return o


def runs_shared_image(executor):
    """Whether an executor runs a component of the notebook in components/component_base."""
    command = executor.get('container', {}).get('command', [])
    return len(command) == 2 and command[1].startswith('/pipelines/component/src/')


def compare_with_notebook_kfp(notebook, job_file):
    """kfp's own compile of the notebook's cells (.ci/notebook_kfp.py) has the same executors
    and component interfaces for every step that does not run in the shared image (container
    components, component files): an oracle independent of our component.yaml files."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, 'kfp.yaml')
        run([sys.executable, os.path.join(REPO, '.ci', 'notebook_kfp.py'), notebook, out],
            cwd=os.path.dirname(notebook))
        import yaml
        with open(out) as f:
            theirs = yaml.safe_load(f)
    ours = load_job(job_file)['pipelineSpec']
    # kfp keeps docstring descriptions of inputs in a pipeline only when the component is
    # defined in the same program; loaded from its component.yaml (as pipelines/pipeline.py
    # loads it, and as our job matches), it drops them.
    theirs = without_descriptions(theirs)
    problems = []
    executors = ours['deploymentSpec']['executors']
    for key, executor in sorted(executors.items()):
        if runs_shared_image(executor):
            continue
        theirs_executor = theirs['deploymentSpec']['executors'].get(key)
        if floats(executor) != floats(theirs_executor):
            diff(floats(executor), floats(theirs_executor), key, problems)
        component = 'comp-' + key[len('exec-'):]
        mine = ours['components'][component]
        other = theirs['components'].get(component, {})
        if floats(mine) != floats(other):
            diff(floats(mine), floats(other), component, problems)
    if problems:
        raise CheckFailed('differs from kfp\'s compile of the notebook', '\n'.join(problems))


def check_notebooks(runner, directory, automlops, validator):
    """Compiles each percent-format notebook of `directory` and checks the output tree."""
    paths = sorted(glob.glob(os.path.join(directory, '*.py')))
    with tempfile.TemporaryDirectory() as scratch:
        # Files the notebooks load (component YAML files) are found beside them.
        for other in glob.glob(os.path.join(directory, '*')):
            if not other.endswith('.py') and os.path.isfile(other):
                shutil.copy(other, scratch)
        for path in paths:
            name = os.path.splitext(os.path.basename(path))[0]
            notebook = os.path.join(scratch, name + '.ipynb')
            with open(path) as f, open(notebook, 'w') as out:
                out.write(percent_to_ipynb(f.read()))
            tree = os.path.join(scratch, name)
            proc = subprocess.run([automlops, 'compile', notebook, '-o', tree],
                                  capture_output=True, text=True, timeout=TIMEOUT)
            if proc.returncode != 0:
                runner.fail(f'{name}/automlops-compile', f'exit status {proc.returncode}', proc.stderr)
                continue
            check_example(runner, name, tree, validator)
            with open(path) as f:
                text = f.read()
            if 'container_component' in text or 'load_component_from' in text:
                copy = os.path.join(scratch, name + '.py')
                shutil.copy(path, copy)
                runner.check(name, 'notebook-kfp', compare_with_notebook_kfp, copy,
                             os.path.join(tree, output_paths(tree)[0]))
    return len(paths)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--examples', default=os.path.join(REPO, 'examples'),
                    help='directory holding <example>/expected/ trees')
    ap.add_argument('--validator', default=DEFAULT_VALIDATOR,
                    help='validate_pipeline_job.py (its checks are skipped if absent)')
    ap.add_argument('--notebooks', help='also compile the percent-format notebooks of this '
                    'directory (with --automlops) and check their output trees')
    ap.add_argument('--automlops', default=os.path.join(REPO, 'target', 'debug', 'automlops'),
                    help='the automlops binary for --notebooks')
    ap.add_argument('--gcpc-python', help='a Python with kfp and google-cloud-pipeline-components '
                    '(data/gcpc/requirements.lock.txt), for pipelines that use prebuilt components')
    args = ap.parse_args(argv)
    global GCPC_PYTHON
    GCPC_PYTHON = args.gcpc_python

    validator = args.validator if os.path.isfile(args.validator) else None
    if validator is None:
        print(f'note: {args.validator} not found; using the built-in spec comparison')

    runner = Runner()
    checked = 0
    for example_dir in sorted(glob.glob(os.path.join(args.examples, '*', ''))):
        example = os.path.basename(os.path.dirname(example_dir))
        tree = os.path.join(example_dir, 'expected')
        if not os.path.isdir(tree):
            print(f'skip {example}: no expected/ directory')
            continue
        checked += 1
        check_example(runner, example, tree, validator)
        check_files(runner, example, tree)
        for smoke_example, component, values in EXECUTOR_SMOKE:
            if smoke_example == example:
                runner.check(example, f'executor:{component}', run_component, tree, component, values)

    if args.notebooks:
        checked += check_notebooks(runner, args.notebooks, args.automlops, validator)

    if checked == 0:
        print(f'FAIL conformance: no example under {args.examples} has an expected/ directory')
        return 1
    print(f'{checked} example(s), {runner.failed} failed check(s)')
    return 1 if runner.failed else 0


if __name__ == '__main__':
    sys.exit(main())
