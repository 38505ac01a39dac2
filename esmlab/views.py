"""Views for people who query a lab file (sqlite3, Datasette, any SQL tool).

The tables hold what the engine needs (epoch milliseconds, JSON columns,
mapping UUIDs); these views hold what a person asks about: ISO times, a
mapping's label beside its UUID, an invocation's outcome with `partial`
spelled out, the failed record ids, why a message reached its DLQ. They are
part of the schema (store.py creates them in every lab, new or migrated);
docs/lab-file.md describes each, with example queries. `DESCRIPTIONS` feeds
the Datasette metadata `esmlab datasette` writes.

SQLite splits the schema on semicolons, so no view text may contain one.
"""

from __future__ import annotations

import json


def _iso(column: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', {column} / 1000.0, 'unixepoch')"


_NOW = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'now_ms')"
_START = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'start_ms')"
# The text after the last ':' of an ARN (a queue's or topic's name).
_ARN_NAME = "replace({arn}, rtrim({arn}, replace({arn}, ':', '')), '')"
_DLQ_ARN = "json_extract(json_extract(src.attributes, '$.RedrivePolicy'), '$.deadLetterTargetArn')"
# A destination record as stored: an SNS notification carries it in Message.
_RECORD = ("CASE WHEN json_extract(body, '$.Type') = 'Notification' "
           "THEN json_extract(body, '$.Message') ELSE body END")

# A batchItemFailures list that counts: the mapping has ReportBatchItemFailures
# (without it Lambda ignores the list, and so does the view).
_REPORTED = ("(instr(coalesce(json_extract(m.config, '$.FunctionResponseTypes'), ''), "
             "'ReportBatchItemFailures') > 0 "
             "AND json_type(i.response, '$.response.batchItemFailures') = 'array')")

VIEWS = f"""
CREATE VIEW IF NOT EXISTS v_mappings AS
SELECT uuid AS mapping_uuid, label AS mapping_label, function, source_arn, source_kind, state,
       last_result, json_extract(config, '$.BatchSize') AS batch_size,
       config, {_iso('last_modified_ms')} AS last_modified
FROM mappings;

CREATE VIEW IF NOT EXISTS v_invocations AS
SELECT i.id AS invocation, i.function, m.label AS mapping_label, i.mapping AS mapping_uuid,
       json_extract(i.detail, '$.shard') AS shard, json_extract(i.detail, '$.lane') AS lane,
       {_iso('i.start_ms')} AS started, {_iso('i.end_ms')} AS ended,
       i.start_ms, i.end_ms, i.end_ms - i.start_ms AS duration_ms,
       CASE WHEN i.status = 'success' AND {_REPORTED} AND
                 json_array_length(i.response, '$.response.batchItemFailures') > 0
            THEN 'partial' ELSE i.status END AS outcome,
       i.size AS record_count, i.attempt,
       (SELECT json_group_array(json_extract(f.value, '$.itemIdentifier'))
          FROM json_each(CASE WHEN {_REPORTED}
                              THEN json_extract(i.response, '$.response.batchItemFailures')
                              ELSE '[]' END) AS f) AS failed_ids,
       json_extract(i.error, '$.errorType') AS error_type,
       json_extract(i.error, '$.errorMessage') AS error_message,
       i.records AS record_ids
FROM invocations AS i LEFT JOIN mappings AS m ON m.uuid = i.mapping;

CREATE VIEW IF NOT EXISTS v_journal AS
SELECT j.id, {_iso('j.at_ms')} AS at, (j.at_ms - {_START}) / 1000.0 AS t_seconds, j.kind,
       j.resource, m.uuid AS mapping_uuid, j.subject, j.reason, j.data
FROM journal AS j LEFT JOIN mappings AS m ON m.label = j.resource;

CREATE VIEW IF NOT EXISTS v_messages AS
SELECT queue, message_id, body, receive_count,
       CASE WHEN visible_ms > {_NOW} AND receipt_handle IS NOT NULL THEN 'in flight'
            WHEN visible_ms > {_NOW} THEN 'delayed' ELSE 'visible' END AS state,
       {_iso('sent_ms')} AS sent, {_iso('visible_ms')} AS visible_from,
       {_iso('first_receive_ms')} AS first_received, group_id AS message_group_id,
       dedup_id AS message_deduplication_id, seq_no AS sequence_number, size
FROM messages;

CREATE VIEW IF NOT EXISTS v_dead_letters AS
SELECT dlq.name AS dlq, src.name AS source_queue, msg.message_id, msg.body, msg.receive_count,
       (SELECT {_iso('j.at_ms')} FROM journal AS j WHERE j.kind = 'sqs.moved_to_dlq'
           AND j.subject = msg.message_id ORDER BY j.id DESC LIMIT 1) AS moved,
       (SELECT j.reason FROM journal AS j WHERE j.kind = 'sqs.moved_to_dlq'
           AND j.subject = msg.message_id ORDER BY j.id DESC LIMIT 1) AS why
FROM queues AS src
JOIN queues AS dlq ON {_ARN_NAME.format(arn=_DLQ_ARN)} = dlq.name
JOIN messages AS msg ON msg.queue = dlq.name;

CREATE VIEW IF NOT EXISTS v_failure_records AS
SELECT via, destination, at, json_extract(record, '$.requestContext.condition') AS condition,
       json_extract(record, '$.requestContext.approximateInvokeCount') AS approximate_invoke_count,
       json_extract(record, '$.requestContext.requestId') AS request_id,
       coalesce(json_extract(record, '$.KinesisBatchInfo.shardId'),
                json_extract(record, '$.DDBStreamBatchInfo.shardId')) AS shard,
       coalesce(json_extract(record, '$.KinesisBatchInfo.startSequenceNumber'),
                json_extract(record, '$.DDBStreamBatchInfo.startSequenceNumber'))
           AS start_sequence_number,
       coalesce(json_extract(record, '$.KinesisBatchInfo.endSequenceNumber'),
                json_extract(record, '$.DDBStreamBatchInfo.endSequenceNumber'))
           AS end_sequence_number,
       coalesce(json_extract(record, '$.KinesisBatchInfo.batchSize'),
                json_extract(record, '$.DDBStreamBatchInfo.batchSize')) AS batch_size,
       record
FROM (SELECT 'topic or bucket' AS via, sink AS destination, {_iso('at_ms')} AS at,
             {_RECORD} AS record FROM sink_items
      UNION ALL
      SELECT 'queue', queue, {_iso('sent_ms')}, body FROM messages
      -- a failure record is known by its shape (the mapping may since have
      -- been given another destination, or deleted)
      WHERE json_valid(body) AND json_extract(body, '$.requestContext.condition') IS NOT NULL);

CREATE VIEW IF NOT EXISTS v_records AS
SELECT r.stream, r.shard_id, r.seq AS sequence_number, r.partition_key,
       CASE WHEN s.kind = 'kinesis' THEN CAST(r.data AS TEXT) ELSE r.detail END AS data,
       {_iso('r.arrival_ms')} AS arrived, r.size, m.label AS mapping_label,
       m.uuid AS mapping_uuid,
       CASE WHEN coalesce(json_extract(m.config, '$.ParallelizationFactor'), 1) > 1
            THEN r.khash % json_extract(m.config, '$.ParallelizationFactor') ELSE 0 END AS lane
FROM records AS r JOIN streams AS s ON s.name = r.stream
LEFT JOIN mappings AS m ON m.source_arn = s.arn;
"""

VIEW_NAMES = ("v_mappings", "v_invocations", "v_journal", "v_messages", "v_dead_letters",
              "v_failure_records", "v_records")

DESCRIPTIONS = {
    "v_mappings": ("Event source mappings: the label the lab shows beside AWS's UUID.", {
        "mapping_uuid": "AWS's UUID of the mapping", "mapping_label": "the lab's short name",
        "last_result": "LastProcessingResult (streams)", "config": "the mapping's configuration "
        "as GetEventSourceMapping returns it (JSON)"}),
    "v_invocations": ("Every invocation: when, which mapping, outcome, records, failed ids.", {
        "outcome": "success, error, timeout, throttled, running, or partial (a success whose "
                   "batchItemFailures named records, with ReportBatchItemFailures on)",
        "started": "ISO time in lab time", "ended": "ISO time in lab time",
        "record_count": "records in the batch", "failed_ids": "the itemIdentifiers the "
        "function reported (JSON list)", "shard": "stream mappings: the shard",
        "lane": "stream mappings: the ParallelizationFactor lane"}),
    "v_journal": ("The journal: every decision in plain words, with ISO time and T+ seconds.", {
        "t_seconds": "seconds since the lab's start", "mapping_uuid": "when the resource is a "
        "mapping, its UUID"}),
    "v_messages": ("Messages in every queue, with their state now.", {
        "state": "visible, in flight (received, within its visibility timeout) or delayed"}),
    "v_dead_letters": ("Messages in a dead-letter queue, with the queue they came from and why.", {
        "why": "the journal's reason for the move (RedrivePolicy maxReceiveCount)"}),
    "v_failure_records": ("On-failure destination records (SQS, SNS, S3) of stream mappings.", {
        "condition": "RetryAttemptsExhausted or RecordAgeExceeded",
        "record": "the invocation record as delivered (JSON)"}),
    "v_records": ("Stream records (Kinesis and DynamoDB), per mapping with their lane.", {
        "lane": "the ParallelizationFactor lane the mapping reads the record in",
        "data": "Kinesis: the data as text; DynamoDB: the change record"}),
}


def datasette_metadata(database: str) -> dict:
    """Datasette's metadata for a lab file (Datasette names a database after
    its file's stem): titles and column descriptions of the views."""
    tables = {name: {"description": text, "columns": columns}
              for name, (text, columns) in DESCRIPTIONS.items()}
    return {"title": f"esmlab lab {database}",
            "description": "An esmlab lab file: read the v_ views first; docs/lab-file.md in "
                           "the esmlab repository describes every table and view.",
            "databases": {database: {"tables": tables}}}


def write_metadata(path: str, database: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(datasette_metadata(database), handle, indent=2)


def run_datasette(lab_path: str, metadata_only: bool = False) -> int:
    """`esmlab datasette`: write the metadata file beside the lab and start
    Datasette on it when it is installed (otherwise print the command)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    lab = Path(lab_path)
    if not lab.is_file():
        print(f"esmlab datasette: no lab at {lab}", file=sys.stderr)
        return 2
    metadata = lab.with_name(lab.stem + ".metadata.json")
    try:
        write_metadata(str(metadata), lab.stem)
    except OSError as error:
        print(f"esmlab datasette: cannot write {metadata}: {error.strerror}", file=sys.stderr)
        return 2
    command = ["datasette", str(lab), "--metadata", str(metadata)]
    print(f"wrote {metadata} (descriptions of the lab's views)")
    if metadata_only or shutil.which("datasette") is None:
        hint = "" if metadata_only else " (Datasette is not installed: pip install datasette)"
        print("browse the lab with: " + " ".join(command) + hint)
        return 0
    return subprocess.call(command)
