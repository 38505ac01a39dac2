"""SQS provisioned mode (ProvisionedPollerConfig), the third scaling profile
of a queue mapping (reference 2.5, 8.6).

A mapping in provisioned mode keeps between MinimumPollers and
MaximumPollers event pollers. Figures (AWS docs and the launch post, Nov
2025): each poller handles up to about 1 MB/s, up to 10 concurrent invokes
and up to 10 polls a second; the mapping scales by up to 1,000 concurrent
invokes a minute, up to 20,000. The ranges are the request model's
(engine/request_model.py, botocore's Lambda model: MinimumPollers 1-200,
MaximumPollers 1-10,000, a ValidationException), narrowed for SQS by the
docs to a minimum of 2 (defaults 2 and 200) here.

The lab's model (its choice where AWS gives only the figures above):
concurrency target = pollers x 10; a new mapping starts with MinimumPollers;
while messages wait and every slot is busy, one virtual minute adds up to
100 pollers (1,000 concurrency); an idle queue returns it to MinimumPollers;
errors and throttles never take it below MinimumPollers. Each poller's
receives are limited per virtual second to 10 polls and about 1 MB of
message bodies.
"""

from __future__ import annotations

from esmlab.errors import invalid

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


def check_for_queue(config: dict) -> None:
    """The SQS rules on a complete config (lab wording: AWS's exact texts for
    these were not found in any recording)."""
    ppc = config_of(config)
    if ppc is None:
        return
    if (config.get("ScalingConfig") or {}).get("MaximumConcurrency") is not None:
        # Provisioned mode limits concurrency through MaximumPollers instead.
        raise invalid("ProvisionedPollerConfig cannot be used together with "
                      "ScalingConfig.MaximumConcurrency.", own=True)
    low, high = ppc["MinimumPollers"], ppc["MaximumPollers"]
    if low < SQS_FLOOR or high < SQS_FLOOR:
        raise invalid(f"MinimumPollers and MaximumPollers must be at least {SQS_FLOOR} for "
                      "Amazon SQS event sources.", own=True)
    if low > high:
        raise invalid(f"MinimumPollers ({low}) must be less than or equal to "
                      f"MaximumPollers ({high}).", own=True)


def start_target(ppc: dict) -> int:
    return ppc["MinimumPollers"] * INVOKES_PER_POLLER


def floor_target(ppc: dict) -> int:
    return ppc["MinimumPollers"] * INVOKES_PER_POLLER


def cap_target(ppc: dict) -> int:
    return min(ppc["MaximumPollers"] * INVOKES_PER_POLLER, CONCURRENCY_CAP)


def pollers_for(target: int) -> int:
    """Pollers needed for a concurrency target (10 invokes each)."""
    return -(-target // INVOKES_PER_POLLER)
