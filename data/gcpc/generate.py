#!/usr/bin/env python3
"""Generate data/gcpc/catalogue.json: Google Cloud Pipeline Components as data.

The automlops compiler never runs Python, so it cannot import
google_cloud_pipeline_components (GCPC) to learn what an op such as
``ModelUploadOp`` looks like in KFP's IR. This script does it once, offline:
it walks every public GCPC module, finds every component object, compiles each
one on its own with the real kfp compiler, and writes what kfp produced
(component and executor entries verbatim, input/output definitions, import
paths) plus the artifact types, as one deterministic JSON file.

Pinned versions (the script refuses to run with any others):
    google-cloud-pipeline-components==2.22.0, kfp==2.17.3  (Python 3.11)

Set-up (full pin set in requirements.lock.txt beside this file):
    python3.11 -m venv /tmp/gcpc-venv
    /tmp/gcpc-venv/bin/pip install -r data/gcpc/requirements.lock.txt

Regenerate (from the repository root; the two forms are equivalent):
    /tmp/gcpc-venv/bin/python data/gcpc/generate.py > data/gcpc/catalogue.json
    /tmp/gcpc-venv/bin/python data/gcpc/generate.py --output data/gcpc/catalogue.json

Verify with data/gcpc/check_catalogue.py. Layout: see README.md beside this file.
"""
import argparse
import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
import sys
import tempfile
import warnings

PINNED = {"google-cloud-pipeline-components": "2.22.0", "kfp": "2.17.3"}
REGENERATE = "python data/gcpc/generate.py --output data/gcpc/catalogue.json"
GCPC = "google_cloud_pipeline_components"
# Sub-packages that hold runtime code (container launchers, protobufs), not
# components; some of their modules need packages GCPC does not depend on.
NOT_COMPONENT_PACKAGES = (GCPC + ".container", GCPC + ".proto")
# kfp modules searched for the import paths of kfp's own artifact classes.
KFP_ARTIFACT_PACKAGES = ("kfp.dsl", "kfp.v2")
# Graph components (whole sub-pipelines) whose standalone IR is larger than
# this are listed under "skipped" rather than catalogued, to keep the file small.
MAX_GRAPH_IR_BYTES = 32 * 1024
OUTPUT_RENAME_PREFIX = "output__"  # see GCPC utils.gcpc_output_name_converter
PLACEHOLDER_RE = re.compile(r"\{\{\$\.pipeline_[a-z_]+\}\}")


def check_versions():
    from importlib import metadata

    found = {}
    for pkg in PINNED:
        try:
            found[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            found[pkg] = "not installed"
    if found != PINNED:
        sys.exit(f"generate.py: pinned {PINNED}, installed {found}; install "
                 "data/gcpc/requirements.lock.txt into a fresh venv first.")


def public_modules(package_names, skip=()):
    """Import and return every public module under the given packages, sorted.

    A module is public if no dotted part of its name starts with '_' and it is
    not a test module. Import failures are fatal: a silently missing module
    would make the catalogue silently incomplete.
    """
    names = set()
    for pkg_name in package_names:
        pkg = importlib.import_module(pkg_name)
        names.add(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + ".",
                                          onerror=lambda name: None):
            names.add(info.name)
    keep = sorted(
        n for n in names
        if not any(p.startswith("_") for p in n.split("."))
        and not n.endswith("_test")
        and not any(n == s or n.startswith(s + ".") for s in skip))
    return [importlib.import_module(n) for n in keep]


def bindings(modules, wanted):
    """Map id(obj) -> (obj, [(module, attribute)]) for public attributes
    satisfying wanted(obj)."""
    found = {}
    for module in modules:
        for attr, obj in sorted(vars(module).items()):
            if not attr.startswith("_") and wanted(obj):
                found.setdefault(id(obj), (obj, []))[1].append(
                    (module.__name__, attr))
    return found


def canonical(pairs):
    """Pick the (module, attribute) a user is meant to import from: one listed
    in its module's __all__, in v1 rather than preview, shortest module path."""

    def rank(pair):
        module, attr = pair
        exported = attr in getattr(sys.modules[module], "__all__", ())
        return (not exported, ".preview" in module, module.count("."), module,
                attr)

    return min(pairs, key=rank)


def import_fields(pairs, name=None):
    """Where an object can be imported from. import_paths: modules exporting it
    as `name`; aliases: (module, attribute) pairs binding it to other names."""
    module, canonical_name = canonical(
        [p for p in pairs if name is None or p[1] == name])
    name = name or canonical_name
    return {
        "name": name,
        "canonical_import": f"{module}.{name}",
        "import_paths": sorted(m for m, a in pairs if a == name),
        "aliases": [{"module": m, "name": a} for m, a in sorted(pairs)
                    if a != name],
    }


def compile_alone(op, workdir):
    """Compile one component as kfp does and read the IR back: documents are
    the PipelineSpec and, if the component has one, the PlatformSpec."""
    import yaml
    from kfp import compiler

    path = os.path.join(workdir, "op.yaml")
    compiler.Compiler().compile(op, path)
    with open(path, encoding="utf-8") as f:
        docs = list(yaml.safe_load_all(f))
    os.remove(path)
    return docs[0], (docs[1] if len(docs) > 1 else None)


def python_signature(op, pairs):
    """[(parameter name, has a default)] of the Python function that defines
    op, or None. Components rebuilt from YAML (e.g. by GCPC's
    utils.gcpc_output_name_converter) keep no function, so look for a def of
    the same name in the module source that binds it."""
    func = getattr(op, "python_func", None) or getattr(op, "pipeline_func", None)
    if func is not None:
        return [(n, p.default is not inspect.Parameter.empty)
                for n, p in inspect.signature(func).parameters.items()]
    for module, attr in sorted(pairs):
        path = getattr(sys.modules[module], "__file__", None)
        if not path:
            continue
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == attr:
                a = node.args
                params = a.posonlyargs + a.args
                with_default = params[len(params) - len(a.defaults):]
                return ([(x.arg, x in with_default) for x in params] +
                        [(x.arg, d is not None)
                         for x, d in zip(a.kwonlyargs, a.kw_defaults)])
    return None


def io_entries(specs, definitions, signature, required_names=None):
    """One entry per input/output, in Python signature order (outputs renamed
    from 'output__X' to 'X' by GCPC count as X); names the signature does not
    give follow in name order. Without a signature all are in name order."""
    position = {}
    for i, (name, _) in enumerate(signature or []):
        position.setdefault(name, i)
        position.setdefault(name.removeprefix(OUTPUT_RENAME_PREFIX), i)
    has_default = dict(signature or [])
    entries = []
    for name in sorted(specs or {}, key=lambda n: (position.get(n, 1e9), n)):
        kind = ("parameter" if name in definitions.get("parameters", {})
                else "artifact")
        entry = {"name": name, "kind": kind,
                 "ir": definitions[kind + "s"][name]}
        if required_names is not None:
            entry["required"] = name in required_names
            if name in has_default and has_default[name] == entry["required"]:
                # kfp's view (used at call time) differs from the signature's
                entry["python_signature_required"] = not has_default[name]
        entries.append(entry)
    return entries


def placeholders(*parts):
    text = json.dumps(parts, sort_keys=True)
    return sorted(set(PLACEHOLDER_RE.findall(text)))


def describe_op(op, pairs, workdir, headers):
    """Return (entry, None) or (entry's identity fields, skip reason); adds the
    IR's (schemaVersion, sdkVersion) to headers."""
    from kfp.dsl import utils as kfp_utils

    entry = import_fields(pairs)
    entry.update({
        "component_name": kfp_utils.maybe_rename_for_k8s(op.name),
        "spec_name": op.name,
        "python_class": type(op).__name__,
    })
    try:
        ir, platform = compile_alone(op, workdir)
    except Exception as e:  # recorded in "skipped", never dropped silently
        return entry, f"kfp compile failed: {type(e).__name__}: {e}"

    if op.component_spec.implementation.graph is not None:
        # Compiled alone, a graph's own DAG is the root; in a pipeline it
        # becomes comp-<task name> and its components/executors are merged in.
        component = ir["root"]
        size = len(json.dumps(ir, sort_keys=True))
        if size > MAX_GRAPH_IR_BYTES:
            return entry, (
                f"graph component (sub-pipeline) with {len(ir['components'])} "
                f"components and {len(ir['deploymentSpec']['executors'])} "
                f"executors; its IR exceeds MAX_GRAPH_IR_BYTES="
                f"{MAX_GRAPH_IR_BYTES}: omitted to keep the catalogue small")
        entry.update({
            "kind": "graph",
            "component": component,
            "sub_components": ir["components"],
            "sub_executors": ir["deploymentSpec"]["executors"],
        })
        parts = [component, ir["components"], ir["deploymentSpec"]]
    else:
        # (a graph loaded from YAML keeps that YAML's sdkVersion: not counted)
        headers.add((ir["schemaVersion"], ir["sdkVersion"]))
        (comp_key, component), = ir["components"].items()
        (exec_key, executor), = ir["deploymentSpec"]["executors"].items()
        if comp_key != "comp-" + entry["component_name"]:
            return entry, f"unexpected component key {comp_key!r}"
        if "container" not in executor:
            return entry, f"executor is not a container: {sorted(executor)}"
        if type(op).__name__ == "YamlComponent":
            # A component loaded from YAML is compiled into a pipeline without its inputs'
            # descriptions (seen with kfp 2.17.3; .ci/gcpc_ops.py checks every op in a
            # pipeline): record it as a pipeline has it.
            for definitions in component.get("inputDefinitions", {}).values():
                for definition in definitions.values():
                    definition.pop("description", None)
        entry.update({"kind": "container", "component": component,
                      "executor": executor})
        parts = [component, executor]

    spec = op.component_spec
    signature = python_signature(op, pairs)
    entry["inputs"] = io_entries(
        spec.inputs, component.get("inputDefinitions", {}), signature,
        set(op.required_inputs))
    entry["outputs"] = io_entries(
        spec.outputs, component.get("outputDefinitions", {}), signature)
    if platform:
        entry["platform_spec"] = platform
    entry["runtime_placeholders"] = placeholders(*parts)
    notes = []
    if any(i["ir"].get("parameterType") == "TASK_FINAL_STATUS"
           for i in entry["inputs"]):
        notes.append("has a TASK_FINAL_STATUS input: usable only as the exit "
                     "task of a dsl.ExitHandler; kfp fills that input itself")
    if signature is None:
        notes.append("loaded from YAML, no Python signature: inputs and "
                     "outputs are in name order")
    if notes:
        entry["notes"] = notes
    return entry, None


def artifact_types(gcpc_modules):
    from kfp.dsl.types import artifact_types as kfp_types
    from google_cloud_pipeline_components.types import artifact_types as g_types

    def defined_artifacts(module):
        return [cls for _, cls in sorted(vars(module).items())
                if inspect.isclass(cls) and issubclass(cls, kfp_types.Artifact)
                and cls.__module__ == module.__name__]

    kfp_classes = defined_artifacts(kfp_types)
    expected = {"Artifact", "Dataset", "Model", "Metrics",
                "ClassificationMetrics", "SlicedClassificationMetrics", "HTML",
                "Markdown"}
    assert expected <= {c.__name__ for c in kfp_classes}, kfp_classes
    classes = set(kfp_classes) | set(defined_artifacts(g_types))
    modules = gcpc_modules + public_modules(KFP_ARTIFACT_PACKAGES)
    ids = {id(c) for c in classes}
    found = bindings(modules, lambda obj: id(obj) in ids)
    out = []
    for cls in sorted(classes, key=lambda c: (c.__module__, c.__name__)):
        entry = import_fields(found[id(cls)][1], name=cls.__name__)
        entry.update({"defined_in": cls.__module__,
                      "schema_title": cls.schema_title,
                      "schema_version": cls.schema_version})
        out.append(entry)
    return out


def build():
    from kfp.dsl import base_component

    gcpc_modules = public_modules([GCPC], skip=NOT_COMPONENT_PACKAGES)
    found = bindings(gcpc_modules,
                     lambda o: isinstance(o, base_component.BaseComponent))
    ops, skipped, headers = [], [], set()
    with tempfile.TemporaryDirectory() as workdir:
        for op, pairs in found.values():
            entry, reason = describe_op(op, pairs, workdir, headers)
            if reason is None:
                ops.append(entry)
            else:
                skipped.append({k: entry[k] for k in (
                    "name", "canonical_import", "import_paths", "aliases",
                    "component_name", "python_class")} | {"reason": reason})
    (schema_version, sdk_version), = headers  # one kfp, one IR schema
    key = lambda e: e["canonical_import"]  # noqa: E731
    return {
        "provenance": {
            "generator": "data/gcpc/generate.py",
            "regenerate": REGENERATE,
            "install": "pip install -r data/gcpc/requirements.lock.txt",
            "gcpc_version": PINNED["google-cloud-pipeline-components"],
            "kfp_version": PINNED["kfp"],
            "python_version": "%d.%d" % sys.version_info[:2],
            "ir_schema_version": schema_version,
            "ir_sdk_version": sdk_version,
            "scanned_packages": [GCPC],
            "excluded_packages": list(NOT_COMPONENT_PACKAGES),
            "max_graph_ir_bytes": MAX_GRAPH_IR_BYTES,
        },
        "artifact_types": artifact_types(gcpc_modules),
        "ops": sorted(ops, key=key),
        "skipped": sorted(skipped, key=key),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="write here instead of stdout")
    args = parser.parse_args()
    check_versions()
    warnings.simplefilter("ignore")  # GCPC/kfp deprecation chatter
    catalogue = build()
    text = json.dumps(catalogue, indent=1, sort_keys=True,
                      ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
