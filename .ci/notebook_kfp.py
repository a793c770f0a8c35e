"""Compiles a percent-format notebook's pipeline with the real KFP SDK: runs its code cells
with AutoMLOps's decorators standing for kfp's (`AutoMLOps.component` is `dsl.component`,
`AutoMLOps.pipeline` is `dsl.pipeline`, every other AutoMLOps call does nothing), then
compiles the last pipeline defined before the last AutoMLOps call.

Usage: notebook_kfp.py NOTEBOOK.py OUTPUT.yaml   (run in the notebook's directory, so that
component files it loads are found as automlops finds them)

IPython lines (`!pip ...`, `%...`) and `%%` cell magics are skipped.
"""

import sys
import types

from kfp import compiler, dsl
from kfp.dsl import base_component


def stub_automlops(state):
    module = types.ModuleType('google_cloud_automlops')

    class AutoMLOps:
        @staticmethod
        def component(func=None, **kwargs):
            kwargs.pop('description', None)
            if func is None:
                return lambda f: dsl.component(f, **kwargs)
            return dsl.component(func)

        @staticmethod
        def pipeline(func=None, **kwargs):
            def wrap(f):
                p = dsl.pipeline(**kwargs)(f)
                state['pipeline'] = p
                return p
            return wrap if func is None else wrap(func)

    for name in ('generate', 'go', 'launchAll', 'provision', 'deploy', 'run', 'monitor'):
        setattr(AutoMLOps, name, staticmethod(lambda *a, **k: state.setdefault('called', True)))
    module.AutoMLOps = AutoMLOps
    sys.modules['google_cloud_automlops'] = module
    sys.modules['AutoMLOps'] = module


def cells(text):
    code = []
    current = None
    for line in text.split('\n'):
        if line.startswith('# %%'):
            current = [] if line.strip() != '# %% [markdown]' else None
            if current is not None:
                code.append(current)
        elif current is not None:
            current.append(line)
    for lines in code:
        if lines and lines[0].startswith('%%'):
            continue
        yield '\n'.join(l for l in lines if not l.lstrip().startswith(('!', '%')))


def graphs(namespace):
    return [v for v in namespace.values()
            if isinstance(v, base_component.BaseComponent) and type(v).__name__ == 'GraphComponent']


def main(notebook, output):
    state = {}
    stub_automlops(state)
    namespace = {'__name__': '__notebook__'}
    with open(notebook) as f:
        text = f.read()
    for source in cells(text):
        before = state.get('called')
        exec(compile(source, notebook, 'exec'), namespace)
        if state.get('called') and not before:
            # The pipeline that compiles is the one defined before the options call.
            state['chosen'] = state.get('pipeline') or graphs(namespace)[-1]
    pipeline = state.get('chosen') or state.get('pipeline') or graphs(namespace)[-1]
    compiler.Compiler().compile(pipeline, output)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
