"""Write esmlab/engine/lambda_model.json: the part of botocore's Lambda
service model the lab uses (the operations below and every shape they reach),
without documentation.

The lab validates requests against this pinned copy, so every install checks
the same names, types, nesting and ranges whatever botocore version it has,
and a recorded lab replays the same way. Run it by hand after upgrading
botocore to take in a newer model:

    python scripts/trim_lambda_model.py
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore
from botocore.loaders import Loader

OPERATIONS = (
    "CreateEventSourceMapping", "UpdateEventSourceMapping", "GetEventSourceMapping",
    "DeleteEventSourceMapping", "ListEventSourceMappings", "ListTags", "TagResource",
    "UntagResource", "PublishVersion", "CreateAlias", "UpdateAlias", "GetAlias",
    "DeleteFunction", "PutFunctionRecursionConfig",
)
DROP = ("documentation", "documentationUrl", "examples")
OUT = Path(__file__).resolve().parent.parent / "esmlab/engine/lambda_model.json"


def trimmed(value):
    if isinstance(value, dict):
        return {k: trimmed(v) for k, v in value.items() if k not in DROP}
    if isinstance(value, list):
        return [trimmed(v) for v in value]
    return value


def reachable(shapes: dict, roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        refs = [m["shape"] for m in shape.get("members", {}).values()]
        refs += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
        todo.extend(refs)
    return seen


def main() -> None:
    model = Loader().load_service_model("lambda", "service-2")
    ops = {name: trimmed(model["operations"][name]) for name in OPERATIONS}
    roots = [op[k]["shape"] for op in ops.values() for k in ("input", "output") if k in op]
    names = reachable(model["shapes"], roots)
    out = {
        "botocore": botocore.__version__,
        "metadata": {k: model["metadata"][k] for k in (
            "apiVersion", "endpointPrefix", "protocol", "serviceId", "signatureVersion")},
        "operations": ops,
        "shapes": {name: trimmed(shape) for name, shape in model["shapes"].items() if name in names},
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(ops)} operations, {len(names)} shapes, botocore {botocore.__version__})")


if __name__ == "__main__":
    main()
