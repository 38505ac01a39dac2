"""Paste anything real: get/list-event-source-mapping outputs and CloudFormation
Properties blocks load as they are, mapped onto the lab's account and Region."""

import json
from pathlib import Path

import pytest

from esmlab.lab import Lab
from esmlab.paste import mappings_of, normalise
from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.report import play_one

PASTED = Path(__file__).parent / "fixtures" / "pasted"


def _lab(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_queue("orders", {"VisibilityTimeout": 60})
    lab.create_queue("orders-dlq")
    lab.create_function("worker", Timeout=10)
    lab.create_stream("clicks")
    lab.create_table("carts", [{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    return lab


def _paste(lab, name):
    made = []
    for m in mappings_of(json.loads((PASTED / name).read_text())):
        params, notes = normalise(m, lambda t: lab.engine.tables.info(t)["stream_arn"])
        made.append((lab.create_mapping(**params), notes))
    return made


@pytest.mark.parametrize("name", sorted(p.name for p in PASTED.glob("*.json")))
def test_every_pasted_output_loads(tmp_path, name):
    lab = _lab(tmp_path)
    made = _paste(lab, name)
    assert made and all(r["State"] in ("Creating", "Disabled") for r, _ in made)
    lab.advance(1)
    assert all(lab.mapping(r["UUID"])["state"] in ("Enabled", "Disabled") for r, _ in made)


def test_another_account_and_region_are_mapped_onto_the_labs_with_a_note(tmp_path):
    lab = _lab(tmp_path)
    ((made, notes),) = _paste(lab, "get-sqs-other-account.json")
    assert made["EventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:orders"
    assert any("arn:aws:sqs:eu-west-1:111122223333:orders is the lab's" in n for n in notes)
    assert any(n.startswith("read-only field(s) ignored: UUID") for n in notes)


def test_a_dynamodb_stream_label_becomes_the_tables_current_stream(tmp_path):
    lab = _lab(tmp_path)
    ((made, notes),) = _paste(lab, "get-dynamodb-stream-label.json")
    assert made["EventSourceArn"] == lab.engine.tables.info("carts")["stream_arn"]
    assert any("a stream's label is the time it was created" in n for n in notes)


def test_a_destination_elsewhere_is_the_labs_queue_and_empty_on_failure_is_none(tmp_path):
    lab = _lab(tmp_path)
    ((made, _),) = _paste(lab, "get-kinesis-destination-elsewhere.json")
    assert made["DestinationConfig"]["OnFailure"]["Destination"] == \
        "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
    params, _ = normalise({"DestinationConfig": {"OnFailure": {}}, "FunctionName": "worker"})
    assert "DestinationConfig" not in params


def test_a_disabled_mappings_state_is_kept(tmp_path):
    lab = _lab(tmp_path)
    ((made, _),) = _paste(lab, "get-disabled.json")
    assert made["State"] == "Disabled"


def test_a_list_output_gives_every_mapping_and_a_cloudformation_block_its_tags(tmp_path):
    lab = _lab(tmp_path)
    assert len(_paste(lab, "list-two-mappings.json")) == 2
    params, _ = normalise(mappings_of(json.loads((PASTED / "cfn-properties.json").read_text()))[0])
    assert params["Tags"] == {"team": "payments"}


def test_a_pasted_mapping_in_a_lesson_says_what_was_changed(tmp_path):
    pasted = json.loads((PASTED / "get-sqs-other-account.json").read_text())
    text = ("name: p\ntitle: t\nsee: s\nresources:\n  queues: [{QueueName: orders, Attributes: "
            "{VisibilityTimeout: 60}}]\n  functions: [{FunctionName: worker, Timeout: 10}]\n"
            f"  mappings:\n    - {json.dumps(pasted)}\nsteps:\n  - advance: 1s\n")
    player, play = play_one(load_scenario_text(text), tmp_path / "lab.db")
    assert play.ok
    assert "is the lab's arn:aws:sqs:us-east-1:123456789012:orders" in play.setup.summary
