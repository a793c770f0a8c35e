#!/usr/bin/env python3
"""Check that every container op of the GCPC catalogue compiles with automlops as kfp compiles it.

Run with the Python that has kfp==2.17.3 (the venv `.ci/run` makes for conformance.py), and
pass --gcpc-python, a Python with kfp==2.17.3 and google-cloud-pipeline-components==2.22.0
(data/gcpc/requirements.lock.txt). For each `container` op of data/gcpc/catalogue.json this
writes a percent-format notebook calling the op alone, with one pipeline parameter per required
parameter input and one `dsl.importer` per required artifact input, then:

  automlops-compile   `automlops compile NB.ipynb -o OUT`
  <conformance>       conformance.check_example on OUT (validator, kfp compile of
                      OUT/pipelines/pipeline.py, compare, py_compile, ...)
  kfp-compile         the notebook's pipeline compiled directly with kfp (`@dsl.pipeline`
                      instead of `@AutoMLOps.pipeline`), independent of our pipeline.py
  kfp-compare         the validator's --compare of OUT's pipeline_job.json with that spec:
                      the notebook has no components of its own, so the IR must be equal

Graph ops, ops imported from `._implementation`, exit-handler ops (a TASK_FINAL_STATUS input),
ops with a required artifact-list input and ops that automlops refuses with an ordinary error
are reported as `skip`. A refusal that looks like an automlops bug (a panic, a signal, no
message) is a failure. Prints `ok`/`FAIL` lines like conformance.py, then
`gcpc ops: N checked, M skipped, K failed`, and exits 1 if any op failed.
"""

import argparse
import concurrent.futures
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import conformance  # noqa: E402

REPO = conformance.REPO
CATALOGUE = os.path.join(REPO, 'data', 'gcpc', 'catalogue.json')
ORACLES_HOME = os.environ.get('ORACLES_HOME', os.path.expanduser('~/.cache/automlops-oracles'))
DEFAULT_GCPC_PYTHON = os.path.join(ORACLES_HOME, 'gcpc-venv', 'bin', 'python')
GCPC_PREFIX = 'google_cloud_pipeline_components.'

PYTHON_TYPES = {'STRING': 'str', 'NUMBER_INTEGER': 'int', 'NUMBER_DOUBLE': 'float',
                'BOOLEAN': 'bool', 'LIST': 'list', 'STRUCT': 'dict'}
VALUES = {'STRING': 'x', 'NUMBER_INTEGER': 1, 'NUMBER_DOUBLE': 1.5, 'BOOLEAN': True,
          'LIST': ['a'], 'STRUCT': {'k': 'v'}}
# Signs that a refusal is a compiler bug rather than a deliberate, explained error.
BUG_MARKERS = ('panicked at', 'RUST_BACKTRACE', 'internal error', 'not yet implemented',
               'unreachable', 'stack overflow')
MAX_REASON_LINES = 8


class Skip(Exception):
    """The op is not checked; the message says why."""


class ThreadStdout:
    """sys.stdout that writes into a per-thread buffer while one is set, so that the `ok`/`FAIL`
    lines of ops checked in parallel come out grouped by op."""

    def __init__(self, real):
        self.real = real
        self.local = threading.local()

    def _target(self):
        buf = getattr(self.local, 'buf', None)
        return self.real if buf is None else buf

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        self._target().flush()

    def __getattr__(self, name):
        return getattr(self.real, name)




def label_of(op):
    ci = op['canonical_import']
    return ci[len(GCPC_PREFIX):] if ci.startswith(GCPC_PREFIX) else ci


def artifact_class(schema_title):
    namespace, _, name = schema_title.partition('.')
    if namespace == 'google':
        return f'artifact_types.{name}'
    if namespace == 'system':
        return f'dsl.{name}'
    raise Skip(f'artifact type {schema_title} has no known class')


def pipeline_parts(op):
    """(imports, pipeline signature, body lines, parameter values) of the op called alone."""
    if op.get('kind') != 'container':
        raise Skip(f'{op.get("kind")} op')
    if '._implementation' in op['canonical_import']:
        raise Skip('imported from a private _implementation module')
    inputs = op['inputs']
    if any(i['ir'].get('parameterType') == 'TASK_FINAL_STATUS' for i in inputs):
        raise Skip('exit-handler op')
    module, _, name = op['canonical_import'].rpartition('.')
    if name != op['name']:
        raise Skip(f'canonical import {op["canonical_import"]} does not bind {op["name"]}')
    taken = {i['name'] for i in inputs} | {name, 'dsl', 'artifact_types', 'AutoMLOps', 'pipeline'}
    task_var = 'task'
    while task_var in taken:
        task_var += '_'
    params, values, importers, args = [], {}, [], []
    uses_gcpc_types = False
    for i in inputs:
        if not i['required']:
            continue
        n = i['name']
        if i['kind'] == 'parameter':
            ptype = i['ir'].get('parameterType')
            if ptype not in PYTHON_TYPES:
                raise Skip(f'required input {n} of type {ptype}')
            params.append(f'{n}: {PYTHON_TYPES[ptype]}')
            values[n] = VALUES[ptype]
            args.append(f'{n}={n}')
        else:
            if i['ir'].get('isArtifactList'):
                raise Skip(f'required artifact-list input {n}')
            title = i['ir']['artifactType']['schemaTitle']
            cls = artifact_class(title)
            uses_gcpc_types |= cls.startswith('artifact_types.')
            var = f'a_{n}'
            while var in taken:
                var += '_'
            taken.add(var)
            importers.append(f'{var} = dsl.importer(artifact_uri="gs://bucket/{n}", '
                             f'artifact_class={cls})')
            args.append(f'{n}={var}.output')
    imports = ['from kfp import dsl']
    if uses_gcpc_types:
        imports.append('from google_cloud_pipeline_components.types import artifact_types')
    imports.append(f'from {module} import {name}')
    body = importers + [f'{task_var} = {name}({", ".join(args)})']
    return imports, ', '.join(params), body, values


def notebook_text(op, parts):
    imports, signature, body, values = parts
    lines = ['# %%', 'from google_cloud_automlops import AutoMLOps', *imports, '# %%',
             f'@AutoMLOps.pipeline(name="op-{op["component_name"]}")',
             f'def pipeline({signature}):', *('    ' + line for line in body), '# %%',
             f'AutoMLOps.generate(project_id="my-project", pipeline_params={values!r})', '']
    return '\n'.join(lines)


def kfp_text(op, parts):
    """The same pipeline as a plain kfp program that compiles itself to sys.argv[1]."""
    imports, signature, body, _ = parts
    lines = ['import sys', 'from kfp import compiler', *imports, '',
             f'@dsl.pipeline(name="op-{op["component_name"]}")',
             f'def pipeline({signature}):', *('    ' + line for line in body), '',
             'compiler.Compiler().compile(pipeline_func=pipeline, package_path=sys.argv[1])', '']
    return '\n'.join(lines)


def automlops_compile(automlops, notebook, tree):
    """Compiles the notebook; raises Skip on an ordinary refusal, CheckFailed on a likely bug."""
    try:
        proc = subprocess.run([automlops, 'compile', notebook, '-o', tree], capture_output=True,
                              text=True, timeout=conformance.TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise conformance.CheckFailed(f'timed out after {conformance.TIMEOUT} s') from None
    if proc.returncode == 0:
        return
    message = (proc.stderr.strip() or proc.stdout.strip())
    lines = message.splitlines()
    if (proc.returncode < 0 or not message or proc.returncode == 101
            or any(m.lower() in message.lower() for m in BUG_MARKERS)):
        raise conformance.CheckFailed(f'exit status {proc.returncode} (looks like an automlops bug)',
                                      '\n'.join(lines[-conformance.MAX_DETAIL_LINES:]))
    if len(lines) > MAX_REASON_LINES:
        lines = lines[:MAX_REASON_LINES] + [f'... ({len(lines) - MAX_REASON_LINES} more lines)']
    raise Skip('automlops refused it:\n' + '\n'.join(lines))


def kfp_compile(script, out, cwd):
    conformance.run([conformance.GCPC_PYTHON, script, out], cwd=cwd)
    if not os.path.isfile(out):
        raise conformance.CheckFailed(f'{script} exited 0 but wrote no {out}')
    return out


def kfp_compare(tree, reference, validator):
    job_file = os.path.join(tree, conformance.output_paths(tree)[0])
    if validator:
        conformance.run([sys.executable, validator, job_file, '--compare', reference,
                         '--no-aiplatform'])
    else:
        conformance.compare_builtin(conformance.load_job(job_file)['pipelineSpec'], reference)


def check_op(op, automlops, validator, scratch_root):
    """Checks one op; returns (status, printed text) with status 'ok', 'skip' or 'fail'."""
    label = label_of(op)
    buf = io.StringIO()
    sys.stdout.local.buf = buf
    try:
        try:
            parts = pipeline_parts(op)
        except Skip as e:
            return 'skip', f'skip {label}: {e}\n'
        scratch = tempfile.mkdtemp(prefix='op-', dir=scratch_root)
        try:
            notebook = os.path.join(scratch, 'notebook.ipynb')
            with open(notebook, 'w', encoding='utf-8') as f:
                f.write(conformance.percent_to_ipynb(notebook_text(op, parts)))
            tree = os.path.join(scratch, 'out')
            runner = conformance.Runner()
            try:
                automlops_compile(automlops, notebook, tree)
                print(f'ok  {label}/automlops-compile')
            except conformance.CheckFailed as e:
                runner.fail(f'{label}/automlops-compile', e.reason, e.details)
            except Skip as e:
                first, _, rest = str(e).partition('\n')
                text = f'skip {label}: {first}\n' + ''.join(f'    {line}\n'
                                                             for line in rest.splitlines())
                return 'skip', text
            if not runner.failed:
                conformance.check_example(runner, label, tree, validator)
                script = os.path.join(scratch, 'kfp_pipeline.py')
                with open(script, 'w', encoding='utf-8') as f:
                    f.write(kfp_text(op, parts))
                reference = runner.check(label, 'kfp-compile', kfp_compile, script,
                                         os.path.join(scratch, 'kfp_pipeline.json'), scratch)
                if reference is not None:
                    runner.check(label, 'kfp-compare', kfp_compare, tree, reference, validator)
            return ('fail' if runner.failed else 'ok'), buf.getvalue()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except Exception as e:  # noqa: BLE001 - a bug of this script must still be reported
        return 'fail', buf.getvalue() + f'FAIL {label}: {type(e).__name__}: {e}\n'
    finally:
        sys.stdout.local.buf = None


def select(ops, only):
    if not only:
        return ops
    chosen, unknown = [], []
    for name in only:
        hits = [op for op in ops if name in (op['name'], op['canonical_import'], label_of(op),
                                             op['component_name'])]
        if hits:
            chosen += [op for op in hits if op not in chosen]
        else:
            unknown.append(name)
    if unknown:
        raise SystemExit(f'error: no catalogue op named {", ".join(unknown)}')
    return chosen


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--automlops', default=os.path.join(REPO, 'target', 'debug', 'automlops'),
                    help='the automlops binary')
    ap.add_argument('--validator', default=conformance.DEFAULT_VALIDATOR,
                    help='validate_pipeline_job.py (the built-in comparison if absent)')
    ap.add_argument('--gcpc-python', default=DEFAULT_GCPC_PYTHON,
                    help='a Python with kfp and google-cloud-pipeline-components '
                    '(data/gcpc/requirements.lock.txt)')
    ap.add_argument('--catalogue', default=CATALOGUE, help='the GCPC op catalogue')
    ap.add_argument('--only', nargs='+', action='extend', metavar='NAME',
                    help='check only these ops (Python name, canonical import with or without '
                    'the google_cloud_pipeline_components. prefix, or component name)')
    ap.add_argument('--jobs', type=int, default=2, help='ops checked in parallel (default 2)')
    args = ap.parse_args(argv)

    if not os.access(args.automlops, os.X_OK):
        print(f'error: {args.automlops} is not an executable automlops binary', file=sys.stderr)
        return 2
    if not os.access(args.gcpc_python, os.X_OK):
        print(f'error: --gcpc-python {args.gcpc_python} is not executable', file=sys.stderr)
        return 2
    conformance.GCPC_PYTHON = args.gcpc_python
    validator = args.validator if os.path.isfile(args.validator) else None
    if validator is None:
        print(f'note: {args.validator} not found; using the built-in spec comparison')
    with open(args.catalogue, encoding='utf-8') as f:
        ops = select(json.load(f)['ops'], args.only)

    start = time.monotonic()
    counts = {'ok': 0, 'skip': 0, 'fail': 0}
    sys.stdout = ThreadStdout(sys.stdout)
    try:
        with tempfile.TemporaryDirectory(prefix='automlops-gcpc-ops-') as scratch_root, \
                concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = pool.map(lambda op: check_op(op, args.automlops, validator, scratch_root),
                               ops)
            for status, text in results:
                counts[status] += 1
                sys.stdout.write(text)
                sys.stdout.flush()
    finally:
        sys.stdout = sys.stdout.real
    elapsed = time.monotonic() - start
    checked = counts['ok'] + counts['fail']
    print(f'({elapsed:.0f} s, {max(1, args.jobs)} job(s))')
    print(f'gcpc ops: {checked} checked, {counts["skip"]} skipped, {counts["fail"]} failed')
    return 1 if counts['fail'] else 0


if __name__ == '__main__':
    sys.exit(main())
