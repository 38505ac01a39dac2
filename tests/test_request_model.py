"""One request model: the engine and the scenario loader read the same pinned
Lambda service model (names, types, nesting, ranges)."""

import json
from pathlib import Path

import pytest

from esmlab.engine import request_model as rm
from esmlab.errors import AwsError
from esmlab.scenario import schema
from esmlab.scenario.loader import load_scenario_text

ROOT = Path(__file__).resolve().parent.parent


def test_the_loader_accepts_exactly_the_models_mapping_parameters():
    create = set(rm.members("CreateEventSourceMapping"))
    update = set(rm.members("UpdateEventSourceMapping")) - {"UUID"}
    assert create <= set(schema.MAPPING_RESOURCE.keys)
    assert set(schema.UPDATE_MAPPING.keys) - {"id"} == update
    assert set(schema.UPDATE_MAPPING.refused) == create - update


def test_the_loader_accepts_kms_key_tags_provisioned_pollers_and_logging_config():
    scenario = load_scenario_text("""\
name: m
title: t
see: s
resources:
  functions: [{FunctionName: worker}]
  queues: [{QueueName: jobs}]
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs
      KMSKeyArn: arn:aws:kms:us-east-1:123456789012:key/k
      Tags: {team: payments}
      ProvisionedPollerConfig: {MinimumPollers: 2, MaximumPollers: 5}
      LoggingConfig: {SystemLogLevel: INFO}
steps: [{say: hi}]
""")
    mapping = scenario.resources["mappings"][0]
    assert mapping["Tags"] == {"team": "payments"}
    assert mapping["LoggingConfig"] == {"SystemLogLevel": "INFO"}


def test_a_wrong_nested_type_in_a_file_is_refused_by_the_model():
    from esmlab.scenario.loader import ScenarioError
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("""\
name: m
title: t
see: s
resources:
  functions: [{FunctionName: worker}]
  mappings:
    - {FunctionName: worker, EventSourceArn: x, ScalingConfig: {MaximumConcurrency: many}}
steps: [{say: hi}]
""")
    assert "ScalingConfig.MaximumConcurrency" in str(caught.value)


def test_unknown_parameter_is_botocores_param_validation_error_with_a_hint_beside():
    with pytest.raises(AwsError) as caught:
        rm.check_shape("CreateEventSourceMapping", {"FunctionName": "f", "BatchSzie": 5})
    error = caught.value
    assert error.code == "ParamValidationError"
    assert error.message.startswith('Parameter validation failed:\nUnknown parameter in input: '
                                    '"BatchSzie", must be one of: EventSourceArn, FunctionName')
    assert "Did you mean" not in error.message and error.hint == 'did you mean "BatchSize"?'


def test_every_shape_error_is_reported_at_once_as_botocore_does():
    with pytest.raises(AwsError) as caught:
        rm.check_shape("CreateEventSourceMapping", {"BatchSize": "10", "Enabled": 1})
    lines = caught.value.message.splitlines()
    assert 'Missing required parameter in input: "FunctionName"' in lines
    assert any(line.startswith("Invalid type for parameter BatchSize") for line in lines)
    assert any(line.startswith("Invalid type for parameter Enabled") for line in lines)


@pytest.mark.parametrize("params, text", [
    ({"BatchSize": 10_001}, "Value '10001' at 'batchSize' failed to satisfy constraint: "
                            "Member must have value less than or equal to 10000"),
    ({"BatchSize": 0}, "Member must have value greater than or equal to 1"),
    ({"ScalingConfig": {"MaximumConcurrency": 1}},
     "at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have "
     "value greater than or equal to 2"),
    ({"StartingPosition": "OLDEST"}, "Member must satisfy enum value set: "
                                     "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]"),
    ({"FunctionResponseTypes": ["A", "B"]}, "Member must have length less than or equal to 1"),
])
def test_ranges_lengths_and_enums_come_from_the_model_as_validation_exceptions(params, text):
    with pytest.raises(AwsError) as caught:
        rm.check_ranges("CreateEventSourceMapping", {"FunctionName": "f", **params})
    assert caught.value.code == "ValidationException" and text in caught.value.message


def test_the_pinned_model_is_what_the_script_writes_from_the_same_botocore():
    botocore = pytest.importorskip("botocore")
    pinned = json.loads((ROOT / "esmlab/engine/lambda_model.json").read_text())
    if pinned["botocore"] != botocore.__version__:
        pytest.skip(f"botocore {botocore.__version__} installed, model pinned from "
                    f"{pinned['botocore']}")
    import importlib.util
    spec = importlib.util.spec_from_file_location("trim", ROOT / "scripts/trim_lambda_model.py")
    trim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trim)
    from botocore.loaders import Loader
    model = Loader().load_service_model("lambda", "service-2")
    for name in trim.OPERATIONS:
        assert pinned["operations"][name] == trim.trimmed(model["operations"][name])
