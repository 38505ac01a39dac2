"""SQS provisioned mode (ProvisionedPollerConfig), the third scaling profile
of a queue mapping (reference 2.5, 8.6).

A mapping in provisioned mode keeps between MinimumPollers and
MaximumPollers event pollers. Figures (AWS docs and the launch post, Nov
2025): each poller handles up to about 1 MB/s, up to 10 concurrent invokes
and up to 10 polls a second; the mapping scales by up to 1,000 concurrent
invokes a minute, up to 20,000. The ranges are the SDK model's (botocore:
MinimumPollers 1-200, MaximumPollers 1-2,000) narrowed for SQS by the docs
to a minimum of 2 (defaults 2 and 200). Newer docs allow MaximumPollers up
to 10,000 for SQS; the lab keeps the SDK model's 2,000, which is what a
request through boto3 can send today.

The lab's model (its choice where AWS gives only the figures above):
concurrency target = pollers x 10; a new mapping starts with MinimumPollers;
while messages wait and every slot is busy, one virtual minute adds up to
100 pollers (1,000 concurrency); an idle queue returns it to MinimumPollers;
errors and throttles never take it below MinimumPollers. Each poller's
receives are limited per virtual second to 10 polls and about 1 MB of
message bodies.
"""

from __future__ import annotations

from esmlab.errors import AwsError, invalid

MIN_POLLERS = (1, 200)          # botocore model range (ValidationException)
MAX_POLLERS = (1, 2_000)
SQS_FLOOR = 2                   # SQS: at least 2 pollers (docs)
DEFAULT_MIN = 2
DEFAULT_MAX = 200
INVOKES_PER_POLLER = 10
POLLS_PER_POLLER_PER_S = 10
BYTES_PER_POLLER_PER_S = 1_000_000
STEP_PER_MINUTE = 1_000         # concurrency added per minute
CONCURRENCY_CAP = 20_000


def config_of(config: dict) -> dict | None:
    """The mapping's ProvisionedPollerConfig with AWS's defaults, or None."""
    given = config.get("ProvisionedPollerConfig")
    if not given:
        return None
    return {"MinimumPollers": given.get("MinimumPollers", DEFAULT_MIN),
            "MaximumPollers": given.get("MaximumPollers", DEFAULT_MAX)}


def check_shape(given) -> None:
    """Client-side shape: the SDK's ParamValidationError for bad keys and types."""
    if not isinstance(given, dict):
        raise AwsError("ParamValidationError", "Parameter validation failed:\nInvalid type "
                       f"for parameter ProvisionedPollerConfig, value: {given}, type: "
                       f"{type(given)}, valid types: <class 'dict'>")
    for key, value in given.items():
        if key not in ("MinimumPollers", "MaximumPollers"):
            raise AwsError("ParamValidationError", "Parameter validation failed:\nUnknown "
                           f'parameter in ProvisionedPollerConfig: "{key}", must be one of: '
                           "MinimumPollers, MaximumPollers")
        if isinstance(value, bool) or not isinstance(value, int):
            raise AwsError("ParamValidationError", "Parameter validation failed:\nInvalid "
                           f"type for parameter ProvisionedPollerConfig.{key}, value: {value}, "
                           f"type: {type(value)}, valid types: <class 'int'>")


def check_model(given: dict | None, validation) -> None:
    """The API model's ranges: a ValidationException in AWS's form
    (`validation(value, path, constraint)` builds it)."""
    if not given:
        return
    for key, (low, high) in (("MinimumPollers", MIN_POLLERS), ("MaximumPollers", MAX_POLLERS)):
        value = given.get(key)
        if value is None:
            continue
        path = "provisionedPollerConfig." + key[0].lower() + key[1:]
        if value < low:
            raise validation(value, path, f"Member must have value greater than or equal to {low}")
        if value > high:
            raise validation(value, path, f"Member must have value less than or equal to {high}")


def check_for_queue(config: dict) -> None:
    """The SQS rules on a complete config (lab wording: AWS's exact texts for
    these were not found in any recording)."""
    ppc = config_of(config)
    if ppc is None:
        return
    if (config.get("ScalingConfig") or {}).get("MaximumConcurrency") is not None:
        # Provisioned mode limits concurrency through MaximumPollers instead.
        raise invalid("ProvisionedPollerConfig cannot be used together with "
                      "ScalingConfig.MaximumConcurrency.")
    low, high = ppc["MinimumPollers"], ppc["MaximumPollers"]
    if low < SQS_FLOOR or high < SQS_FLOOR:
        raise invalid(f"MinimumPollers and MaximumPollers must be at least {SQS_FLOOR} for "
                      "Amazon SQS event sources.")
    if low > high:
        raise invalid(f"MinimumPollers ({low}) must be less than or equal to "
                      f"MaximumPollers ({high}).")


def start_target(ppc: dict) -> int:
    return ppc["MinimumPollers"] * INVOKES_PER_POLLER


def floor_target(ppc: dict) -> int:
    return ppc["MinimumPollers"] * INVOKES_PER_POLLER


def cap_target(ppc: dict) -> int:
    return min(ppc["MaximumPollers"] * INVOKES_PER_POLLER, CONCURRENCY_CAP)


def pollers_for(target: int) -> int:
    """Pollers needed for a concurrency target (10 invokes each)."""
    return -(-target // INVOKES_PER_POLLER)
