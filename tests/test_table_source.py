"""DynamoDB tables and their streams: key validation, INSERT/MODIFY/REMOVE
records per StreamViewType, no record for a write that changes nothing,
update expressions (reference 1.9, 4.3).
"""

import json
import re

import pytest

from esmlab.engine import payloads
from esmlab.engine.sources.stream import Streams
from esmlab.engine.sources.table import Tables, key_text, normalise_number
from esmlab.engine.world import DEFAULT_START_MS, Engine
from esmlab.errors import AwsError
from esmlab.store import Store
from engine_helpers import make_engine

HOUR = 3_600_000
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
DEFS = [{"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"}]


def _services(self):
    self.streams = Streams(self)
    self.tables = Tables(self)




@pytest.fixture(autouse=True)
def only_sources(monkeypatch):
    monkeypatch.setattr(Engine, "_services", _services)


@pytest.fixture
def engine(tmp_path):
    return make_engine(tmp_path)


def table(engine, view="NEW_AND_OLD_IMAGES", name="orders"):
    spec = {"StreamEnabled": True, "StreamViewType": view} if view else None
    engine.tables.create(name, KEYS, DEFS, spec)
    return name


def records(engine, name="orders"):
    info = engine.tables.info(name)
    stream = info["stream_name"]
    out = []
    for shard in engine.streams.shards(stream):
        out += engine.streams.read(stream, shard["shard_id"], None, 1000)
    return out


def item(pk="a", sk="1", **attrs):
    out = {"pk": {"S": pk}, "sk": {"N": sk}}
    out.update(attrs)
    return out


def key(pk="a", sk="1"):
    return {"pk": {"S": pk}, "sk": {"N": sk}}


def error(call):
    with pytest.raises(AwsError) as e:
        call()
    return e.value


# --- creation -----------------------------------------------------------------------------


def test_table_stream_arn_is_labelled_with_the_iso_creation_time(engine):
    engine.agenda.now_ms = DEFAULT_START_MS + 1_234
    info = engine.tables.create("orders", KEYS, DEFS, {"StreamEnabled": True,
                                                       "StreamViewType": "NEW_IMAGE"})
    label = "2024-01-01T00:00:01.234"
    assert info["stream_arn"] == (
        f"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/{label}")
    assert info["stream_name"] == f"orders/stream/{label}"
    assert info["view_type"] == "NEW_IMAGE"
    assert engine.tables.name_for_stream_arn(info["stream_arn"]) == "orders"
    assert engine.streams.name_for_arn(info["stream_arn"]) == info["stream_name"]
    assert engine.streams.info(info["stream_name"])["kind"] == "dynamodb"
    assert engine.tables.name_for_stream_arn(
        "arn:aws:kinesis:us-east-1:123456789012:stream/orders") is None


def test_table_stream_has_one_shard_with_a_dynamodb_shaped_id_and_24h_retention(engine):
    table(engine)
    info = engine.streams.info(engine.tables.info("orders")["stream_name"])
    shard, = info["shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["shard_id"])
    assert info["retention_ms"] == 24 * HOUR


def test_table_without_stream_writes_items_but_no_records(engine):
    table(engine, view=None)
    out = engine.tables.put_item("orders", item())
    assert out["event"] == "INSERT" and out["seq"] is None
    assert engine.tables.info("orders")["stream_arn"] is None
    assert engine.streams.names() == []
    assert "no stream" in engine.journal.events(kind="dynamodb.write")[0]["reason"]


def test_create_existing_table_is_resource_in_use(engine):
    table(engine)
    e = error(lambda: engine.tables.create("orders", KEYS, DEFS))
    assert (e.code, e.message) == ("ResourceInUseException", "Table already exists: orders")
    assert len(engine.streams.names()) == 1


@pytest.mark.parametrize("schema, defs, message", [
    ([{"AttributeName": "sk", "KeyType": "RANGE"}], [{"AttributeName": "sk", "AttributeType": "S"}],
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (KEYS, [{"AttributeName": "pk", "AttributeType": "S"}],
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [sk], AttributeDefinitions: [pk]"),
    ([KEYS[0]], DEFS,
     "One or more parameter values were invalid: Number of attributes in KeySchema does not "
     "exactly match number of attributes defined in AttributeDefinitions"),
    ([KEYS[0]], [DEFS[0], DEFS[0]], "Attribute Name is duplicated: pk"),
])
def test_key_schema_and_attribute_definitions_are_validated_like_aws(engine, schema, defs,
                                                                     message):
    e = error(lambda: engine.tables.create("orders", schema, defs))
    assert (e.code, e.message) == ("ValidationException", message)
    assert engine.tables.names() == []


def test_attribute_type_must_be_s_n_or_b(engine):
    e = error(lambda: engine.tables.create(
        "orders", [KEYS[0]], [{"AttributeName": "pk", "AttributeType": "BOOL"}]))
    assert e.code == "ValidationException" and "[B, N, S]" in e.message


def test_stream_view_type_must_be_one_of_the_four(engine):
    e = error(lambda: engine.tables.create("orders", KEYS, DEFS, {"StreamEnabled": True,
                                                                  "StreamViewType": "ALL"}))
    assert e.code == "ValidationException" and "KEYS_ONLY" in e.message
    assert engine.tables.names() == [] and engine.streams.names() == []


def test_lab_shorthands_for_key_schema_and_stream(engine):
    info = engine.tables.create("things", ["id"], None, "KEYS_ONLY")
    assert info["key_schema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert info["attribute_definitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert info["view_type"] == "KEYS_ONLY"


# --- key validation -----------------------------------------------------------------------


def test_put_item_without_a_key_attribute_is_rejected(engine):
    table(engine)
    e = error(lambda: engine.tables.put_item("orders", {"pk": {"S": "a"}}))
    assert e.message == ("One or more parameter values were invalid: Missing the key sk in the "
                         "item")


def test_put_item_with_a_mistyped_key_is_rejected(engine):
    table(engine)
    e = error(lambda: engine.tables.put_item("orders", {"pk": {"S": "a"}, "sk": {"S": "1"}}))
    assert e.message == ("One or more parameter values were invalid: Type mismatch for key sk "
                         "expected: N actual: S")


def test_key_argument_must_match_the_schema_exactly(engine):
    table(engine)
    for bad in ({"pk": {"S": "a"}}, {**key(), "extra": {"S": "x"}},
                {"pk": {"S": "a"}, "sk": {"S": "1"}}):
        e = error(lambda bad=bad: engine.tables.get_item("orders", bad))
        assert (e.code, e.message) == ("ValidationException",
                                       "The provided key element does not match the schema")


def test_empty_string_key_is_rejected(engine):
    table(engine)
    e = error(lambda: engine.tables.put_item("orders", item(pk="")))
    assert "cannot contain an empty string value. Key: pk" in e.message


def test_missing_table_is_resource_not_found(engine):
    e = error(lambda: engine.tables.put_item("nope", item()))
    assert (e.code, e.message) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.parametrize("value, message", [
    ({}, "Supplied AttributeValue is empty"),
    ({"S": "a", "N": "1"}, "more than one datatypes"),
    ({"N": "abc"}, "A value provided cannot be converted into a number"),
    ({"SS": []}, "An string set  may not be empty"),
    ({"NS": ["1", "1.0"]}, "contains duplicates"),
    ({"NULL": False}, "Null attribute value types must have the value of true"),
])
def test_attribute_values_are_validated(engine, value, message):
    table(engine)
    e = error(lambda: engine.tables.put_item("orders", item(v=value)))
    assert e.code == "ValidationException" and message in e.message
    assert engine.tables.scan("orders") == []


# --- stream records -----------------------------------------------------------------------


@pytest.mark.parametrize("view, new_on, old_on", [
    ("KEYS_ONLY", (), ()),
    ("NEW_IMAGE", ("INSERT", "MODIFY"), ()),
    ("OLD_IMAGE", (), ("MODIFY", "REMOVE")),
    ("NEW_AND_OLD_IMAGES", ("INSERT", "MODIFY"), ("MODIFY", "REMOVE")),
])
def test_insert_modify_remove_carry_the_images_the_view_type_allows(engine, view, new_on, old_on):
    table(engine, view)
    engine.tables.put_item("orders", item(n={"N": "1"}))
    engine.tables.put_item("orders", item(n={"N": "2"}))
    engine.tables.delete_item("orders", key())
    recs = records(engine)
    assert [r["detail"]["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    images = [(item(n={"N": "1"}), None), (item(n={"N": "2"}), item(n={"N": "1"})),
              (None, item(n={"N": "2"}))]
    for rec, (new, old) in zip(recs, images):
        d = rec["detail"]
        name = d["eventName"]
        assert d["Keys"] == key()
        assert d["StreamViewType"] == view
        assert d.get("NewImage") == (new if name in new_on else None)
        assert d.get("OldImage") == (old if name in old_on else None)
        assert ("NewImage" in d) == (name in new_on)
        assert ("OldImage" in d) == (name in old_on)


def test_record_detail_has_what_the_event_builder_needs(engine):
    table(engine)
    engine.agenda.now_ms = DEFAULT_START_MS + 5_999
    out = engine.tables.put_item("orders", item(note={"S": "hi"}))
    rec, = records(engine)
    d = rec["detail"]
    assert re.fullmatch(r"[0-9a-f]{32}", d["eventID"])
    assert d["ApproximateCreationDateTime"] == (DEFAULT_START_MS + 5_999) // 1000
    assert d["SizeBytes"] == payloads.item_size(d["Keys"]) + payloads.item_size(d["NewImage"])
    assert rec["size"] == d["SizeBytes"]
    assert rec["seq"] == out["seq"] and len(rec["seq"]) == 21 and rec["seq"].isdigit()
    assert rec["partition_key"] == key_text(key())
    event = payloads.dynamodb_record(
        engine.tables.info("orders")["stream_arn"], d["eventID"], d["eventName"], d["Keys"],
        d.get("NewImage"), d.get("OldImage"), rec["seq"], d["StreamViewType"],
        rec["arrival_ms"], d["SizeBytes"])
    assert event["dynamodb"]["NewImage"] == item(note={"S": "hi"})
    assert event["dynamodb"]["SequenceNumber"] == out["seq"]


def test_sequence_numbers_are_21_digits_and_increase(engine):
    table(engine)
    seqs = [engine.tables.put_item("orders", item(sk=str(n)))["seq"] for n in range(20)]
    assert all(len(s) == 21 for s in seqs)
    assert seqs == sorted(seqs) and len(set(seqs)) == 20


def test_records_of_one_item_keep_their_order_on_one_partition_key(engine):
    table(engine)
    for n in range(5):
        engine.tables.put_item("orders", item(n={"N": str(n)}))
    recs = records(engine)
    assert {r["partition_key"] for r in recs} == {key_text(key())}
    assert [r["detail"]["NewImage"]["n"]["N"] for r in recs] == ["0", "1", "2", "3", "4"]


def test_put_of_an_identical_item_writes_no_stream_record(engine):
    table(engine)
    engine.tables.put_item("orders", item(n={"N": "1.50"}, tags={"SS": ["b", "a"]}))
    out = engine.tables.put_item("orders", item(sk="1.0", n={"N": "1.5"}, tags={"SS": ["a", "b"]}))
    assert out["event"] is None and out["seq"] is None
    assert len(records(engine)) == 1
    why = engine.journal.events(kind="dynamodb.no_change")
    assert len(why) == 1 and "identical" in why[0]["reason"]


def test_update_that_sets_the_same_values_writes_no_stream_record(engine):
    table(engine)
    engine.tables.put_item("orders", item(n={"N": "3"}))
    out = engine.tables.update_item("orders", key(), "SET n = :v", values={":v": {"N": "3.0"}})
    assert out["event"] is None
    assert len(records(engine)) == 1


def test_delete_of_a_missing_item_writes_no_stream_record(engine):
    table(engine)
    out = engine.tables.delete_item("orders", key())
    assert out["event"] is None
    assert records(engine) == []
    assert "no such item" in engine.journal.events(kind="dynamodb.no_change")[0]["reason"]


def test_every_change_is_logged_with_its_event_name(engine):
    table(engine)
    engine.tables.put_item("orders", item())
    engine.tables.update_item("orders", key(), "SET x = :x", values={":x": {"S": "y"}})
    engine.tables.delete_item("orders", key())
    logged = engine.journal.events(kind="dynamodb.write")
    assert [e["data"]["eventName"] for e in logged] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(e["resource"] == "orders" for e in logged)


def test_table_stream_records_expire_after_24_hours(engine):
    table(engine)
    engine.tables.put_item("orders", item())
    engine.agenda.run_until(DEFAULT_START_MS + 24 * HOUR)
    assert records(engine) == []
    trimmed, = engine.journal.events(kind="stream.trimmed")
    assert "DynamoDB Streams keep records for 24 hours" in trimmed["reason"]


def test_table_stream_is_not_writable_through_kinesis_apis(engine):
    table(engine)
    stream = engine.tables.info("orders")["stream_name"]
    e = error(lambda: engine.streams.put_record(stream, "k", b"x"))
    assert e.code == "ResourceNotFoundException"
    e = error(lambda: engine.streams.set_retention(stream, 48))
    assert e.code == "ResourceNotFoundException"


# --- update expressions -------------------------------------------------------------------


def test_update_expression_set_arithmetic_remove_add_delete(engine):
    table(engine)
    engine.tables.put_item("orders", item(count={"N": "10"}, gone={"S": "x"},
                                          tags={"SS": ["a", "b"]}, seen={"NS": ["1"]}))
    out = engine.tables.update_item(
        "orders", key(),
        "SET #c = #c + :n, total = if_not_exists(total, :zero) - :n, log = list_append(:l, :l) "
        "REMOVE gone ADD seen :more, visits :one DELETE tags :a",
        names={"#c": "count"},
        values={":n": {"N": "2.5"}, ":zero": {"N": "0"}, ":l": {"L": [{"S": "x"}]},
                ":more": {"NS": ["3", "2"]}, ":one": {"N": "1"}, ":a": {"SS": ["a"]}})
    assert out["event"] == "MODIFY"
    assert engine.tables.get_item("orders", key()) == item(
        count={"N": "12.5"}, total={"N": "-2.5"}, log={"L": [{"S": "x"}, {"S": "x"}]},
        tags={"SS": ["b"]}, seen={"NS": ["1", "2", "3"]}, visits={"N": "1"})


def test_update_values_are_read_from_the_item_before_the_update(engine):
    table(engine)
    engine.tables.put_item("orders", item(a={"N": "1"}, b={"N": "2"}))
    engine.tables.update_item("orders", key(), "SET a = b, b = a")
    got = engine.tables.get_item("orders", key())
    assert (got["a"], got["b"]) == ({"N": "2"}, {"N": "1"})


def test_update_of_nested_paths(engine):
    table(engine)
    engine.tables.put_item("orders", item(m={"M": {"x": {"N": "1"}}}, l={"L": [{"S": "a"},
                                                                              {"S": "b"}]}))
    engine.tables.update_item("orders", key(), "SET m.y = :v, l[5] = :v REMOVE l[0]",
                              values={":v": {"S": "new"}})
    got = engine.tables.get_item("orders", key())
    assert got["m"] == {"M": {"x": {"N": "1"}, "y": {"S": "new"}}}
    assert got["l"] == {"L": [{"S": "b"}, {"S": "new"}]}


def test_update_of_a_missing_item_creates_it_as_an_insert(engine):
    table(engine)
    out = engine.tables.update_item("orders", key(), "ADD n :one", values={":one": {"N": "1"}})
    assert out["event"] == "INSERT"
    assert engine.tables.get_item("orders", key()) == item(n={"N": "1"})
    assert records(engine)[0]["detail"]["eventName"] == "INSERT"


def test_remove_only_update_of_a_missing_item_creates_nothing(engine):
    table(engine)
    out = engine.tables.update_item("orders", key(), "REMOVE n")
    assert out["event"] is None
    assert engine.tables.get_item("orders", key()) is None
    assert records(engine) == []


@pytest.mark.parametrize("expression, names, values, message", [
    ("SET a = :v", {}, {}, "An expression attribute value used in expression is not defined; "
                           "attribute value: :v"),
    ("SET #a = :v", {}, {":v": {"S": "x"}}, "An expression attribute name used in the document "
                                            "path is not defined; attribute name: #a"),
    ("SET a = :v", {}, {":v": {"S": "x"}, ":w": {"S": "y"}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
    ("SET pk = :v", {}, {":v": {"S": "x"}},
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute is "
     "part of the key"),
    ("SET a = a + :v", {}, {":v": {"N": "1"}},
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET s = s + :v", {}, {":v": {"N": "1"}},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
     "function: +, operand type: S"),
    ("SET a = :v SET b = :v", {}, {":v": {"N": "1"}},
     'Invalid UpdateExpression: The "SET" section can only be used once in an update '
     "expression;"),
    ("SET a = :v, a = :v", {}, {":v": {"N": "1"}},
     "Invalid UpdateExpression: Two document paths overlap with each other"),
    ("SET a :v", {}, {":v": {"N": "1"}}, 'Invalid UpdateExpression: Syntax error; token: ":v"'),
    ("", {}, {}, "Invalid UpdateExpression: The expression can not be empty;"),
])
def test_invalid_update_expressions_are_rejected_and_change_nothing(engine, expression, names,
                                                                    values, message):
    table(engine)
    engine.tables.put_item("orders", item(s={"S": "text"}))
    state = engine.rng.state
    e = error(lambda: engine.tables.update_item("orders", key(), expression, names, values))
    assert e.code == "ValidationException"
    assert message in e.message
    assert engine.tables.get_item("orders", key()) == item(s={"S": "text"})
    assert len(records(engine)) == 1
    assert engine.rng.state == state


# --- numbers, persistence, determinism ----------------------------------------------------


@pytest.mark.parametrize("raw, stored", [("1.50", "1.5"), ("1e2", "100"), ("-0", "0"),
                                         ("007", "7"), ("0.000100", "0.0001")])
def test_numbers_are_stored_as_dynamodb_normalises_them(raw, stored):
    assert normalise_number(raw) == stored


def test_number_with_more_than_38_digits_is_rejected():
    with pytest.raises(AwsError) as e:
        normalise_number("1" * 39)
    assert "38 significant digits" in e.value.message


def test_items_and_records_survive_reopening_the_lab(tmp_path):
    engine = make_engine(tmp_path)
    with engine.store.transaction():
        table(engine)
        engine.tables.put_item("orders", item(n={"N": "1"}))
        engine.flush()
    engine.store.close()
    again = Engine(Store(tmp_path / "lab.db"))
    assert again.tables.get_item("orders", key()) == item(n={"N": "1"})
    assert again.tables.scan("orders") == [item(n={"N": "1"})]
    assert again.tables.info("orders")["item_count"] == 1
    again.tables.update_item("orders", key(), "SET n = n + :one", values={":one": {"N": "1"}})
    assert [r["detail"]["eventName"] for r in records(again)] == ["INSERT", "MODIFY"]


def test_same_seed_and_calls_give_the_same_event_ids(tmp_path):
    def run(path):
        path.mkdir()
        e = make_engine(path, seed=7)
        table(e)
        for n in range(5):
            e.tables.put_item("orders", item(sk=str(n)))
        return [json.dumps(r["detail"], sort_keys=True) for r in records(e)]
    assert run(tmp_path / "a") == run(tmp_path / "b")
