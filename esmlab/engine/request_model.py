"""One request model for the Lambda API: names, types, nesting and ranges.

The source of truth is botocore's Lambda service model, trimmed to the
operations the lab answers and pinned in `lambda_model.json` (made by
`scripts/trim_lambda_model.py`). Two layers read it:

- `check_shape(operation, params)`: what the AWS SDK checks before a request
  leaves the machine (unknown or missing parameters, wrong types, nesting),
  done by botocore's own ParamValidator, so the error is botocore's
  `ParamValidationError` with its exact report. Length and value minimums are
  left to the service layer below, so a lesson shows the service's
  constraint text whichever SDK setting a reader has.
- `check_ranges(operation, params)`: what the service checks from the same
  model (min/max of numbers, list lengths, enums), answered as AWS's
  `ValidationException` ("1 validation error detected: Value '0' at
  'batchSize' failed to satisfy constraint: ...").

The scenario loader reads `members(...)` too, so a file accepts exactly the
parameters the API has.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from esmlab.errors import AwsError

MODEL_FILE = Path(__file__).resolve().parent / "lambda_model.json"
PARAM_ERROR = "ParamValidationError"  # botocore's client-side error class


@lru_cache(maxsize=1)
def raw_model() -> dict:
    return json.loads(MODEL_FILE.read_text(encoding="utf-8"))


def _without_minimums(model: dict) -> dict:
    """The model for the SDK-side check: minimums removed (see module doc)."""
    shapes = {}
    for name, shape in model["shapes"].items():
        shape = dict(shape)
        if shape.get("type") in ("integer", "long", "string", "list", "map"):
            shape.pop("min", None)
        shapes[name] = shape
    return {**model, "shapes": shapes}


@lru_cache(maxsize=1)
def _service_model():
    from botocore.model import ServiceModel
    model = raw_model()
    return ServiceModel({"metadata": model["metadata"], "operations": model["operations"],
                         "shapes": _without_minimums(model)["shapes"]}, service_name="lambda")


def input_shape(operation: str):
    return _service_model().operation_model(operation).input_shape


def members(operation: str) -> tuple[str, ...]:
    """The request's parameter names in the model's order (UUID, which travels
    in the URL, included)."""
    return tuple(input_shape(operation).members)


def _shape_json(name: str) -> dict:
    return raw_model()["shapes"][name]


def member_shape(operation: str, path: str) -> dict:
    """The raw shape of a (dotted) request member, e.g. 'ScalingConfig.MaximumConcurrency'."""
    shape = _shape_json(raw_model()["operations"][operation]["input"]["shape"])
    for part in path.split("."):
        shape = _shape_json(shape["members"][part]["shape"])
    return shape


def check_shape(operation: str, params: dict) -> None:
    """botocore's own parameter validation; raises ParamValidationError."""
    from botocore.validate import ParamValidator
    report = ParamValidator().validate(params, input_shape(operation))
    if report.has_errors():
        raise AwsError(PARAM_ERROR, "Parameter validation failed:\n" + report.generate_report(),
                       hint=_did_you_mean(operation, params))


def _did_you_mean(operation: str, params: dict) -> str | None:
    known = members(operation)
    for key in params:
        if key in known:
            continue
        for name in known:
            if name.lower() == key.lower():
                return f'did you mean "{name}"?'
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            return f'did you mean "{close[0]}"?'
    return None


# -- the service's own checks of the model's constraints ---------------------------------


def check_ranges(operation: str, params: dict) -> None:
    """Ranges, lengths and enums of the model, with AWS's ValidationException text."""
    shape = _shape_json(raw_model()["operations"][operation]["input"]["shape"])
    _walk(shape, params, "")


def _walk(shape: dict, value: Any, path: str) -> None:
    kind = shape.get("type")
    if kind == "structure" and isinstance(value, dict):
        for key, member in shape.get("members", {}).items():
            if key in value and value[key] is not None:
                _walk(_shape_json(member["shape"]), value[key], _join(path, key))
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "min" in shape and value < shape["min"]:
            raise validation(value, path, "Member must have value greater than or equal to "
                                          f"{shape['min']}")
        if "max" in shape and value > shape["max"]:
            raise validation(value, path, "Member must have value less than or equal to "
                                          f"{shape['max']}")
    elif kind == "string" and isinstance(value, str) and shape.get("enum"):
        if value not in shape["enum"]:
            raise validation(value, path, "Member must satisfy enum value set: "
                                          f"[{', '.join(_enum_order(shape['enum']))}]")
    elif kind == "list" and isinstance(value, list):
        shown = "[" + ", ".join(str(v) for v in value) + "]"
        if "max" in shape and len(value) > shape["max"]:
            raise validation(shown, path, "Member must have length less than or equal to "
                                          f"{shape['max']}")
        item = _shape_json(shape["member"]["shape"])
        if item.get("enum") and any(v not in item["enum"] for v in value):
            raise validation(shown, path, "Member must satisfy constraint: [Member must "
                                          "satisfy enum value set: "
                                          f"[{', '.join(_enum_order(item['enum']))}]]")


def _enum_order(values: list[str]) -> list[str]:
    # AWS's message lists StartingPosition as [LATEST, AT_TIMESTAMP, TRIM_HORIZON]
    # (recorded), not in the model's order; other enums keep the model's.
    if sorted(values) == ["AT_TIMESTAMP", "LATEST", "TRIM_HORIZON"]:
        return ["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"]
    return list(values)


def _join(path: str, key: str) -> str:
    # The service names members in camelCase: scalingConfig.maximumConcurrency.
    camel = key[0].lower() + key[1:]
    return f"{path}.{camel}" if path else camel


def validation(value, path: str, constraint: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: Value "
                    f"'{value}' at '{path}' failed to satisfy constraint: {constraint}")
