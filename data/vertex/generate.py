#!/usr/bin/env python3
"""Generate data/vertex/accelerators.txt: the accelerator types Vertex AI's API takes.

They are the values of the `AcceleratorType` enum of the pinned google-cloud-aiplatform
(the version data/gcpc/requirements.lock.txt installs), less ACCELERATOR_TYPE_UNSPECIFIED.
automlops checks `accelerator_type` of custom_training_job_specs against them.

    /tmp/gcpc-venv/bin/python data/vertex/generate.py --output data/vertex/accelerators.txt
"""
import argparse
import sys
from importlib.metadata import version

PINNED = "1.165.1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="where to write (default: standard output)")
    args = parser.parse_args()
    installed = version("google-cloud-aiplatform")
    if installed != PINNED:
        print(f"error: google-cloud-aiplatform {installed} is installed, not {PINNED}", file=sys.stderr)
        return 1
    from google.cloud.aiplatform_v1.types import AcceleratorType

    names = [e.name for e in AcceleratorType if e.name != "ACCELERATOR_TYPE_UNSPECIFIED"]
    text = (
        f"# Accelerator types of Vertex AI, from google-cloud-aiplatform=={PINNED}\n"
        "# (aiplatform_v1.types.AcceleratorType), by data/vertex/generate.py. Do not edit.\n"
        + "".join(f"{name}\n" for name in names)
    )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
