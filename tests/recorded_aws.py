"""Facts recorded on real AWS, written out as fixtures for the audit
(tests/test_conformance_audit.py). Nothing here is copied from a recording:
each entry states what a recording shows (the fields of an event or a
response, in AWS's order where the recording keeps it, the values that do not
vary, and AWS's error texts with the variable part as `{...}`), and names the
file and the test it comes from.

LS = LocalStack's AWS-validated snapshots (repository localstack/localstack,
recorded against AWS in 2025); a key order is taken as AWS's only where the
recording did not sort the keys. N = the stackd emulator's native AWS captures
(radkawar/stackd testdata/aws/lambda/*.json), as summarised in reference
section 8.
"""

LS_ESM = "localstack/localstack:tests/aws/services/lambda_/event_source_mapping/"
LS_API = "localstack/localstack:tests/aws/services/lambda_/test_lambda_api.snapshot.json"
LS_SQS = LS_ESM + "test_lambda_integration_sqs.snapshot.json"
LS_KINESIS = LS_ESM + "test_lambda_integration_kinesis.snapshot.json"
LS_DYNAMODB = LS_ESM + "test_lambda_integration_dynamodbstreams.snapshot.json"
# Removed from the repository later; read at commit 99127b24fec0 (recorded 2025-02-17).
LS_ESM_API = LS_ESM + "test_api.snapshot.json@99127b24fec0"
LS_SQS_SERVICE = "localstack/localstack:tests/aws/services/sqs/test_sqs.snapshot.json"

# -- what the function receives ------------------------------------------------------------

EVENTS = {
    "sqs": {
        "source": LS_SQS + " TestSQSEventSourceMapping::test_sqs_event_source_mapping",
        "record_keys": ["messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                        "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN",
                        "awsRegion"],
        "attribute_keys": ["ApproximateReceiveCount", "SentTimestamp", "SenderId",
                           "ApproximateFirstReceiveTimestamp"],
        "values": {"eventSource": "aws:sqs", "messageAttributes": {},
                   "md5OfMessageAttributes": None},
        "first_receive_count": "1",
    },
    "sqs_with_attributes": {
        "source": LS_SQS + " test_message_body_and_attributes_passed_correctly",
        # Three attributes sent: Title and Author (String), WeeksOn (Number 6).
        "attribute_keys": ["stringValue", "stringListValues", "binaryListValues", "dataType"],
        "md5OfMessageAttributes": "d25a6aea97eb8f585bfa92d314504a92",
    },
    "sqs_fifo": {
        "source": LS_SQS + " test_report_batch_item_failures (keys sorted by the recording)",
        "attribute_keys": {"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount",
                           "MessageDeduplicationId", "MessageGroupId", "SenderId",
                           "SentTimestamp", "SequenceNumber"},
    },
    "kinesis": {
        "source": LS_KINESIS + " test_kinesis_report_batch_item_failure_scenarios (kinesis_events)",
        "record_keys": ["kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                        "invokeIdentityArn", "awsRegion", "eventSourceARN"],
        "kinesis_keys": ["kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                         "approximateArrivalTimestamp"],
        "values": {"eventSource": "aws:kinesis", "eventVersion": "1.0",
                   "eventName": "aws:kinesis:record"},
        "kinesis_values": {"kinesisSchemaVersion": "1.0", "partitionKey": "test",
                           "data": "aGVsbG8="},          # put_record Data "hello"
        "event_id": "shardId-000000000000:{sequenceNumber}",
    },
    "dynamodb": {
        "source": LS_DYNAMODB + " TestDynamoDBEventSourceMapping::test_dynamodb_event_source_mapping",
        "record_keys": ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion",
                        "dynamodb", "eventSourceARN"],
        "dynamodb_keys": ["ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber",
                          "SizeBytes", "StreamViewType"],
        "values": {"eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb"},
        # Item {my_partition_key: S "hello world", binary_key: B b"foobar"}, NEW_IMAGE.
        "dynamodb_values": {"SizeBytes": 70, "StreamViewType": "NEW_IMAGE",
                            "Keys": {"my_partition_key": {"S": "hello world"}}},
    },
}

# -- on-failure records --------------------------------------------------------------------

_REQUEST_KEYS = ["requestId", "functionArn", "condition", "approximateInvokeCount"]
_RESPONSE_KEYS = ["statusCode", "executedVersion", "functionError"]
_BATCH_KEYS = ["shardId", "startSequenceNumber", "endSequenceNumber",
               "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord", "batchSize",
               "streamArn"]

FAILURE_RECORDS = {
    "kinesis_sqs": {
        "source": LS_KINESIS + " test_kinesis_report_batch_item_failure_scenarios"
                               "[unhandled_exception_in_function]",
        "keys": ["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"],
        "request_keys": _REQUEST_KEYS, "response_keys": _RESPONSE_KEYS, "batch_keys": _BATCH_KEYS,
        "values": {"version": "1.0"},
        "response_values": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        # 2022-07-13T13:48:01.000Z: milliseconds in the record's time and in the arrivals.
        "timestamp_ms": True, "arrival_ms": True,
    },
    "dynamodb_sqs": {
        "source": LS_DYNAMODB + " test_dynamodb_event_source_mapping_with_on_failure_destination_config",
        "keys": ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"],
        "request_keys": _REQUEST_KEYS, "response_keys": _RESPONSE_KEYS, "batch_keys": _BATCH_KEYS,
        "values": {"version": "1.0"},
        "response_values": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        # The arrivals are whole seconds (2022-07-13T13:48:01Z), the record's time has ms.
        "timestamp_ms": True, "arrival_ms": False,
    },
    "record_age": {
        "source": LS_KINESIS + " test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]",
        "keys": ["requestContext", "version", "timestamp", "KinesisBatchInfo"],
        "request_values": {"condition": "RecordAgeExceeded", "approximateInvokeCount": 1},
    },
    "kinesis_s3": {
        "source": LS_KINESIS + " test_kinesis_event_source_mapping_with_s3_on_failure_destination"
                               " (keys sorted)",
        "key_set": {"requestContext", "responseContext", "version", "timestamp",
                    "KinesisBatchInfo", "payload"},
        "payload_record_keys": EVENTS["kinesis"]["record_keys"],
        "object_key": "aws/lambda/{uuid}/{shardId}/{yyyy}/{mm}/{dd}/{yyyy}-{mm}-{dd}T{HH}.{MM}.{SS}-{uuid}",
    },
    "sns": {
        "source": LS_KINESIS + " test_kinesis_event_source_mapping_with_sns_on_failure_destination_config"
                               " (keys sorted)",
        "key_set": {"Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
                    "Signature", "SigningCertURL", "UnsubscribeURL"},
        "values": {"Type": "Notification", "SignatureVersion": "1"},
    },
}

# -- the mapping API's responses -----------------------------------------------------------

STREAM_RESPONSE_KEYS = {
    "BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "EventSourceArn",
    "EventSourceMappingArn", "FunctionArn", "FunctionResponseTypes", "LastModified",
    "LastProcessingResult", "MaximumBatchingWindowInSeconds", "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts", "ParallelizationFactor", "StartingPosition", "State",
    "StateTransitionReason", "TumblingWindowInSeconds", "UUID"}
QUEUE_RESPONSE_KEYS = {
    "BatchSize", "EventSourceArn", "EventSourceMappingArn", "FunctionArn",
    "FunctionResponseTypes", "LastModified", "MaximumBatchingWindowInSeconds", "State",
    "StateTransitionReason", "UUID"}

RESPONSES = {
    "kinesis_create": {
        "source": LS_KINESIS + " test_create_kinesis_event_source_mapping (StartingPosition LATEST only)",
        "keys": STREAM_RESPONSE_KEYS,
        "values": {"BatchSize": 100, "BisectBatchOnFunctionError": False,
                   "DestinationConfig": {"OnFailure": {}}, "FunctionResponseTypes": [],
                   "LastProcessingResult": "No records processed",
                   "MaximumBatchingWindowInSeconds": 0, "MaximumRecordAgeInSeconds": -1,
                   "MaximumRetryAttempts": -1, "ParallelizationFactor": 1,
                   "StartingPosition": "LATEST", "State": "Creating",
                   "StateTransitionReason": "User action", "TumblingWindowInSeconds": 0},
    },
    "dynamodb_create": {
        "source": LS_API + " TestLambdaEventSourceMappings::test_create_event_filter_criteria_validation"
                           " (FilterCriteria {Filters: []}, omitted from the response)",
        "keys": STREAM_RESPONSE_KEYS,
        "values": {"BatchSize": 100, "DestinationConfig": {"OnFailure": {}},
                   "StartingPosition": "LATEST", "State": "Creating",
                   "StateTransitionReason": "User action",
                   "LastProcessingResult": "No records processed"},
    },
    "dynamodb_lifecycle": {
        "source": LS_API + " TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle",
        "states": ["Creating", "Enabled", "Deleting"],      # create, get once ready, delete
    },
    "sqs_create": {
        "source": LS_SQS + " TestSQSEventSourceMapping::test_event_source_mapping_default_batch_size",
        "keys": QUEUE_RESPONSE_KEYS,
        "values": {"BatchSize": 10, "FunctionResponseTypes": [],
                   "MaximumBatchingWindowInSeconds": 0, "State": "Creating",
                   "StateTransitionReason": "USER_INITIATED"},
    },
    "sqs_scaling": {
        "source": LS_SQS + " test_sqs_event_source_mapping_batching_reserved_concurrency",
        "keys": QUEUE_RESPONSE_KEYS | {"ScalingConfig"},
        "values": {"ScalingConfig": {"MaximumConcurrency": 2}},
    },
    "sqs_disabled_then_enabled": {
        "source": LS_SQS + " test_fifo_message_group_parallelism",
        "states": ["Disabled", "Enabling", "Enabled"],      # create, update Enabled, get
    },
    "sqs_update": {
        "source": LS_SQS + " TestSQSEventSourceMapping::test_sqs_event_source_mapping_update",
        "states": ["Updating", "Enabled"],                  # update, get once ready
    },
    "function_arn": {
        "source": LS_API + " TestLambdaEventSourceMappings::test_function_name_variations",
        # FunctionName as given -> the FunctionArn's tail after "function:".
        "forms": {"{name}": "{name}", "{name}:$LATEST": "{name}:$LATEST", "{name}:1": "{name}:1",
                  "{name}:myalias": "{name}:myalias", "{arn}": "{name}",
                  "{arn}:1": "{name}:1", "{arn}:myalias": "{name}:myalias"},
    },
}

# -- AWS's error texts ---------------------------------------------------------------------
# (code, HTTP status, message); `{arn}`, `{uuid}`, `{name}` are filled by the test.

ERRORS = {
    "unknown_uuid": ("ResourceNotFoundException", 404, "The resource you requested does not exist.",
                     LS_API + " test_event_source_mapping_exceptions (get, update, delete)"),
    "no_event_source_arn": ("InvalidParameterValueException", 400, "Unrecognized event source.",
                            LS_API + " test_event_source_mapping_exceptions"),
    "unknown_function": ("InvalidParameterValueException", 400, "Function does not exist",
                         LS_API + " test_event_source_mapping_exceptions (create_unknown_params:"
                                  " the queue does not exist either)"),
    "on_success": ("InvalidParameterValueException", 400,
                   "Unsupported DestinationConfig parameter for given event source mapping type.",
                   LS_API + " test_event_source_mapping_exceptions"),
    "no_starting_position": (
        "InvalidParameterValueException", 400,
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
        LS_API + " test_create_event_source_validation_kinesis"),
    "bad_starting_position": (
        "ValidationException", 400,
        "1 validation error detected: Value '{value}' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        LS_ESM_API + " [kinesis, dynamodb, sqs] and " + LS_API),
    "dynamodb_at_timestamp": ("InvalidParameterValueException", 400,
                              "Unsupported starting position for arn type: {arn}",
                              LS_ESM_API + " [dynamodb]; " + LS_API),
    "timestamp_without_at_timestamp": (
        "InvalidParameterValueException", 400,
        "Timestamp only valid with StartingPosition AT_TIMESTAMP", LS_ESM_API + " [kinesis, dynamodb]"),
    "position_on_sqs": ("InvalidParameterValueException", 400,
                        "StartingPosition is not valid for SQS event sources.",
                        LS_ESM_API + " [sqs]"),
    "kinesis_negative_timestamp": (
        "InvalidParameterValueException", 400,
        "Received Exception while reading from provided stream. class java.lang.Long can not be "
        "converted to a Timestamp", LS_ESM_API + " [kinesis] (AT_TIMESTAMP, a negative timestamp)"),
    "sqs_batch_without_window": (
        "InvalidParameterValueException", 400,
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10",
        LS_SQS + " test_event_source_mapping_default_batch_size (create and update)"),
    "sqs_duplicate": (
        "ResourceConflictException", 409,
        'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") already '
        "exists. Please update or delete the existing mapping with UUID {uuid}",
        LS_SQS + " TestSQSEventSourceMapping::test_duplicate_event_source_mappings"),
    "stream_duplicate": (
        "ResourceConflictException", 409,
        'The event source arn (" {arn} ") and function (" {name} ") provided mapping already '
        "exists. Please update or delete the existing mapping with UUID {uuid}",
        LS_KINESIS + " and " + LS_DYNAMODB + " test_duplicate_event_source_mappings"),
    "invalid_filter": ("InvalidParameterValueException", 400, "Invalid filter pattern definition.",
                       LS_SQS + " test_sqs_invalid_event_filter[None, simple string, "
                                "{eventSource: aws:sqs}, {eventSource: []}]; " + LS_DYNAMODB),
    "no_queue": ("InvalidParameterValueException", 400,
                 "Error occurred while ReceiveMessage. SQS Error Code: "
                 "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified "
                 "queue does not exist.", LS_SQS + " test_esm_with_not_existing_sqs_queue"),
    "no_stream": ("InvalidParameterValueException", 400, "Stream not found: {arn}",
                  LS_KINESIS + " and " + LS_DYNAMODB + " test_esm_with_not_existing_*_stream"),
    "tags_unknown_mapping": ("ResourceNotFoundException", 404,
                             "Event source mapping not found: {arn}",
                             LS_API + " TestLambdaTag::test_tag_exceptions[event_source_mapping]"),
    "tags_bad_arn": (
        "ValidationException", 400,
        "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
        r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
        r"\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
        r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-"
        r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
        r"capacity-provider:[a-zA-Z0-9-_]+)",
        LS_API + " TestLambdaTag::test_tag_exceptions[event_source_mapping] (an alias tail, "
                 "an unknown resource type)"),
    # SQS's own API (the lab's queues), LocalStack's SQS snapshot, JSON protocol [sqs]:
    # boto3 shows the query-compatible code.
    "sqs_batch_too_long": ("AWS.SimpleQueueService.BatchRequestTooLong", 400,
                           "Batch requests cannot be longer than 1048576 bytes. You have sent "
                           "1048577 bytes.",
                           LS_SQS_SERVICE + " test_send_message_batch_with_oversized_contents[sqs]"),
    "sqs_bad_batch_id": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                         "A batch entry id can only contain alphanumeric characters, hyphens and "
                         "underscores. It can be at most 80 letters long.",
                         LS_SQS_SERVICE + " test_invalid_batch_id[sqs]"),
    "sqs_too_many_entries": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                             "Maximum number of entries per request are 10. You have sent 20.",
                             LS_SQS_SERVICE + " test_too_many_entries_in_batch_request[sqs]"),
    "sqs_empty_attribute": ("InvalidParameterValue", 400,
                            "Message (user) attribute 'ErrorDetails' must contain a non-empty "
                            "value of type 'String'.",
                            LS_SQS_SERVICE + " test_send_message_with_empty_string_attribute[sqs]"),
    "sqs_fifo_setting_on_standard": (
        "InvalidAttributeName", 400,
        "You can specify the {key} only when FifoQueue is set to true.",
        LS_SQS_SERVICE + " test_create_standard_queue_with_fifo_attribute_raises_error[sqs]"),
    "sqs_unknown_attribute": (
        "InvalidAttributeName", 400, "Unknown Attribute {key}.",
        LS_SQS_SERVICE + " test_create_standard_queue_with_fifo_attribute_raises_error[sqs], "
                         "test_set_unsupported_attribute_fifo[sqs]"),
    "sqs_modify_queue_type": (
        "InvalidAttributeValue", 400,
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
        LS_SQS_SERVICE + " test_set_unsupported_attribute_fifo[sqs]"),
    "sqs_no_group_id": ("MissingParameter", 400,
                        "The request must contain the parameter MessageGroupId.",
                        LS_SQS_SERVICE + " test_posting_to_fifo_requires_deduplicationid_group_id[sqs]"),
    "sqs_no_dedup_id": ("InvalidParameterValue", 400,
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly",
                        LS_SQS_SERVICE + " test_send_batch_missing_deduplication_id_for_fifo_queue[sqs]"),
    "sqs_fifo_delay": ("InvalidParameterValue", 400,
                       "Value 2 for parameter DelaySeconds is invalid. Reason: The request include "
                       "parameter that is not valid for this queue type.",
                       LS_SQS_SERVICE + " test_fifo_queue_send_message_with_delay_seconds_fails[sqs]"),
    "sqs_bad_group_id": ("InvalidParameterValue", 400,
                         "Value group 123 for parameter MessageGroupId is invalid. Reason: "
                         "MessageGroupId can only include alphanumeric and punctuation characters. "
                         "1 to 128 in length.",
                         LS_SQS_SERVICE + " test_send_message_to_standard_queue_with_invalid_message_group_id"
                                          "[sqs]"),
    "sqs_empty_body": ("MissingParameter", 400, "The request must contain the parameter MessageBody.",
                       LS_SQS_SERVICE + " test_send_empty_message[sqs]"),
    "sqs_max_messages": ("InvalidParameterValue", 400,
                         "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                         "between 1 and 10, if provided.",
                         LS_SQS_SERVICE + " test_send_receive_max_number_of_messages[sqs]"),
    "sqs_queue_exists": ("QueueAlreadyExists", 400,
                         "A queue already exists with the same name and a different value for "
                         "attribute DelaySeconds",
                         LS_SQS_SERVICE + " test_create_queue_with_different_attributes_raises_exception"
                                          "[sqs]"),
    "dynamodb_delete_unknown_table": (
        "ResourceNotFoundException", 400, "Requested resource not found: Table: {name} not found",
        "localstack/localstack:tests/aws/services/dynamodb/test_dynamodb.snapshot.json "
        "TestDynamoDB::test_table_crud (delete-non-existent-table)"),
    "dynamodb_unknown_table_items": (
        "ResourceNotFoundException", 400, "Requested resource not found",
        "localstack/localstack:tests/aws/services/dynamodb/test_dynamodb.snapshot.json "
        "TestDynamoDB::test_batch_write_not_existing_table"),
    "sqs_message_too_large": (
        "InvalidParameterValue", 400,
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
        LS_SQS_SERVICE + " TestSqsProvider::test_send_oversized_message (2025-08-19)"),
}

# -- AWS's texts known from elsewhere ------------------------------------------------------
# Texts the two recordings above do not hold, but that are AWS's own words: the
# native captures (N), other Lambda APIs' recorded answers, AWS's docs, or
# refusals that users quote from real accounts. Everything else the lab says
# in an error is its own and is marked so (AwsError(own=True)).

OTHER_AWS_TEXTS = {
    "Need to specify a timestamp":
        "field report: awsdocs/aws-cloudformation-user-guide pull request 334 (2019), "
        "AT_TIMESTAMP without StartingPositionTimestamp",
    "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)":
        "field report: hashicorp/terraform-provider-aws pull request 16113 (2021)",
    "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds":
        "N: sqs_mapping_controls.json; quoted word for word in many field reports",
    "Batching window is not supported for FIFO queues":
        "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html; field reports",
    "Parallelization factor must be equal to 1 when tumbling window period is configured":
        "N: dynamodb_source.json (reference 8.3)",
    "Unsupported '{}' parameter for given event source mapping type.":
        "AWS's form for a parameter another source kind takes (the OnSuccess text's family); "
        "field reports for Queues/Topics on stream mappings",
    "Function not found: {}":
        LS_API + " (the Lambda API's 404 for an unknown function, recorded for other operations)",
    "The function execution role does not have permissions to call {} on SQS.":
        "N: sqs_mapping_authorization.json (reference 8.5)",
    "Cannot access stream {}. Please ensure the role can perform the GetRecords, "
    "GetShardIterator, DescribeStream, DescribeStreamSummary, ListShards, and ListStreams "
    "Actions on your stream.":
        "N: kinesis_source.json (missing_source_permissions, deny_GetRecords_stream, "
        "deny_GetShardIterator_stream, deny_DescribeStream_stream)",
    "Cannot access stream {}. Please ensure the role can perform the GetRecords, "
    "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.":
        "field reports for DynamoDB streams (CloudFormation events quoting Lambda's 400)",
    "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}":
        "the model-constraint form, recorded in " + LS_API + " (startingPosition, resource)",
    "Cannot access event source {}. Please ensure the role can perform the "
    "DescribeStreamSummary, ListShards, GetShardIterator and GetRecords actions on your stream "
    "and SubscribeToShard on your consumer.":
        "N: kinesis_source.json (deny_*_consumer: a mapping on an enhanced fan-out consumer)",
    "Function already exist: {}":
        "field reports of CreateFunction's 409 (AWS's spelling, quoted from real accounts)",
    "Alias already exists: {}": LS_API + " test_notfound_and_invalid_routingconfigs",
    "Alias not found: {}": LS_API + " test_non_existent_alias_update",
    "Specified ReservedConcurrentExecutions for function decreases account's "
    "UnreservedConcurrentExecution below its minimum value of [{}].":
        LS_API + " test_function_concurrency_limits",
    "Lambda was unable to configure your environment variables because the environment "
    "variables you have provided exceeded the 4KB limit. String measured: {}":
        LS_API + " test_large_environment_variables_fails",
    "Lambda was unable to configure your environment variables because the environment "
    "variables you have provided contains reserved keys that are currently not supported for "
    "modification. Reserved keys used in this request: {}":
        "field reports (CloudFormation and Terraform deploys setting AWS_REGION)",
    "Parameter validation failed:\n{}":
        "botocore's client-side ParamValidationError, as boto3 raises it before any request",
}
