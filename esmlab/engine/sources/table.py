"""DynamoDB tables and their streams (reference 1.9, 4.3).

A table keeps items under their key; with a stream enabled every write that
changes an item appends one stream record to the table's stream (in
sources/stream.py, kind "dynamodb"):

* INSERT for a new item, MODIFY for a changed item, REMOVE for a deleted one.
* No record at all for a write that changes nothing: a put of an identical
  item, an update that sets the values already there, a delete of a missing
  item. DynamoDB's developer guide: a PutItem or UpdateItem that does not
  change any data in an item writes no stream record.
* The record detail holds what the event builder (payloads.dynamodb_record)
  needs: eventID (32 hex from the lab's generator), eventName, Keys,
  NewImage/OldImage as the StreamViewType allows, SizeBytes,
  StreamViewType and ApproximateCreationDateTime (epoch seconds). The
  record's SequenceNumber is its stream sequence number (21 digits).
* The record's partition key (for shard routing and parallelization lanes)
  is the item key as canonical JSON, so records of one item stay in order.

Values are stored canonically so "changes nothing" is exact: numbers are
normalised as DynamoDB returns them ("1.50" -> "1.5", "1e2" -> "100"), sets
are sorted (DynamoDB gives sets no order), binary is base64 text.

Lab simplifications: no conditions, no indexes, no capacity; reserved words
in update expressions are not rejected (real DynamoDB rejects e.g. an
unaliased `count` or `status`: use #names there).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Context, Decimal, InvalidOperation

from esmlab.engine.arns import table_arn
from esmlab.engine.payloads import item_size
from esmlab.errors import AwsError

VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
KEY_TYPES = ("B", "N", "S")
_NEW_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
_OLD_VIEWS = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_TABLE_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]+\Z")
_NUM = Context(prec=80)
_COMPACT = (",", ":")
_TYPE_WORDS = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
               "L": "LIST", "M": "MAP", "SS": "STRING_SET", "NS": "NUMBER_SET",
               "BS": "BINARY_SET"}
_SETS = ("SS", "NS", "BS")


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "Requested resource not found")


# --- attribute values ---------------------------------------------------------------------


def normalise_number(raw) -> str:
    """A DynamoDB number as DynamoDB stores it: exact, no exponent, no stray zeros."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _invalid("A value provided cannot be converted into a number")
    try:
        d = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except InvalidOperation:
        raise _invalid("A value provided cannot be converted into a number") from None
    if not d.is_finite():
        raise _invalid("A value provided cannot be converted into a number")
    if d == 0:
        return "0"
    d = _NUM.normalize(d)
    if len(d.as_tuple().digits) > 38:
        raise _invalid("Attempting to store more than 38 significant digits in a Number")
    if d.adjusted() > 125:
        raise _invalid("Number overflow. Attempting to store a number with magnitude larger "
                       "than supported range")
    if d.adjusted() < -130:
        raise _invalid("Number underflow. Attempting to store a number with magnitude smaller "
                       "than supported range")
    return format(d, "f")


def _binary(raw) -> str:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(raw)).decode("ascii")
    if isinstance(raw, str):
        try:
            base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("One or more parameter values were invalid: Binary value is not "
                           "valid base64") from None
        return raw
    raise _invalid("One or more parameter values were invalid: Binary value must be bytes or "
                   "base64 text")


def _set_of(kind: str, raw) -> list:
    word = {"SS": "string", "NS": "number"}.get(kind)
    if not isinstance(raw, (list, tuple, set, frozenset)):
        raise _invalid(f"One or more parameter values were invalid: {kind} must be a list")
    if not raw:
        if kind == "BS":
            raise _invalid("One or more parameter values were invalid: Binary sets should not "
                           "be empty")
        # AWS's wording, double space included.
        raise _invalid(f"One or more parameter values were invalid: An {word} set  may not be "
                       "empty")
    if kind == "SS":
        values = [v for v in raw]
        if not all(isinstance(v, str) for v in values):
            raise _invalid("One or more parameter values were invalid: SS members must be strings")
        key = None
    elif kind == "NS":
        values = [normalise_number(v) for v in raw]
        key = Decimal
    else:
        values = [_binary(v) for v in raw]
        key = None
    if len(set(values)) != len(values):
        shown = ", ".join(str(v) for v in raw)
        raise _invalid("One or more parameter values were invalid: Input collection "
                       f"[{shown}] contains duplicates.")
    return sorted(values, key=key)


def canonical(value) -> dict:
    """Validate one AttributeValue and return its canonical form."""
    if not isinstance(value, dict) or not value:
        raise _invalid("Supplied AttributeValue is empty, must contain exactly one of the "
                       "supported datatypes")
    if len(value) != 1:
        raise _invalid("Supplied AttributeValue has more than one datatypes set, must contain "
                       "exactly one of the supported datatypes")
    (kind, raw), = value.items()
    if kind == "S":
        if not isinstance(raw, str):
            raise _invalid("One or more parameter values were invalid: S must be a string")
        return {"S": raw}
    if kind == "N":
        return {"N": normalise_number(raw)}
    if kind == "B":
        return {"B": _binary(raw)}
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise _invalid("One or more parameter values were invalid: BOOL must be true or "
                           "false")
        return {"BOOL": raw}
    if kind == "NULL":
        if raw is not True:
            raise _invalid("One or more parameter values were invalid: Null attribute value "
                           "types must have the value of true")
        return {"NULL": True}
    if kind in _SETS:
        return {kind: _set_of(kind, raw)}
    if kind == "L":
        if not isinstance(raw, (list, tuple)):
            raise _invalid("One or more parameter values were invalid: L must be a list")
        return {"L": [canonical(v) for v in raw]}
    if kind == "M":
        if not isinstance(raw, dict):
            raise _invalid("One or more parameter values were invalid: M must be a map")
        return {"M": {str(k): canonical(v) for k, v in raw.items()}}
    raise _invalid(f"Supplied AttributeValue has an unknown data type: {kind}; supported: "
                   "S, N, B, BOOL, NULL, L, M, SS, NS, BS")


def _canonical_item(item, what: str = "item") -> dict:
    if not isinstance(item, dict):
        raise _invalid(f"One or more parameter values were invalid: the {what} must be a map of "
                       "attribute names to typed values")
    out = {}
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise _invalid("One or more parameter values were invalid: An attribute name cannot "
                           "be empty")
        out[name] = canonical(value)
    return out


def _kind(value: dict) -> str:
    return next(iter(value))


def _shown(value: dict) -> str:
    kind, raw = next(iter(value.items()))
    if kind in ("S", "N", "B"):
        return str(raw)
    return json.dumps(value, separators=_COMPACT)


# --- table schema -------------------------------------------------------------------------


class _Table:
    __slots__ = ("name", "key_schema", "definitions", "keys", "types", "view_type",
                 "stream_name", "created_ms")

    def __init__(self, row):
        name, key_schema, definitions, view_type, stream_name, created_ms = row
        self.name = name
        self.key_schema = json.loads(key_schema)
        self.definitions = json.loads(definitions) if definitions else []
        self.keys = [k["AttributeName"] for k in self.key_schema]
        types = {d["AttributeName"]: d["AttributeType"] for d in self.definitions}
        self.types = [types[k] for k in self.keys]
        self.view_type = view_type
        self.stream_name = stream_name
        self.created_ms = created_ms

    def key_of_item(self, item: dict) -> dict:
        """The key of a PutItem item (validated as PutItem validates it)."""
        keys = {}
        for attr, expected in zip(self.keys, self.types):
            value = item.get(attr)
            if value is None:
                raise _invalid("One or more parameter values were invalid: Missing the key "
                               f"{attr} in the item")
            actual = _kind(value)
            if actual != expected:
                raise _invalid("One or more parameter values were invalid: Type mismatch for "
                               f"key {attr} expected: {expected} actual: {actual}")
            _check_key_value(attr, value, expected)
            keys[attr] = value
        return keys

    def check_key(self, key) -> dict:
        """A Key argument (GetItem, UpdateItem, DeleteItem): exactly the key attributes."""
        key = _canonical_item(key, "key")
        if len(key) != len(self.keys) or any(k not in key for k in self.keys):
            raise _invalid("The provided key element does not match the schema")
        out = {}
        for attr, expected in zip(self.keys, self.types):
            value = key[attr]
            if _kind(value) != expected:
                raise _invalid("The provided key element does not match the schema")
            _check_key_value(attr, value, expected)
            out[attr] = value
        return out


def _check_key_value(attr: str, value: dict, kind: str) -> None:
    if kind in ("S", "B") and value[kind] == "":
        raise _invalid("One or more parameter values are not valid. The AttributeValue for a key "
                       f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                       f"value. Key: {attr}")


def key_text(keys: dict) -> str:
    """Canonical JSON of an item key: the items-table key and the stream partition key."""
    return json.dumps(keys, sort_keys=True, separators=_COMPACT)


def _normalise_key_schema(key_schema) -> list[dict]:
    if not isinstance(key_schema, (list, tuple)) or not key_schema:
        raise _invalid("1 validation error detected: Value '[]' at 'keySchema' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 1")
    if len(key_schema) > 2:
        raise _invalid("1 validation error detected: Value at 'keySchema' failed to satisfy "
                       "constraint: Member must have length less than or equal to 2")
    schema = []
    for n, element in enumerate(key_schema):
        if isinstance(element, str):  # lab shorthand: ["pk", "sk"]
            element = {"AttributeName": element, "KeyType": "HASH" if n == 0 else "RANGE"}
        if not isinstance(element, dict) or not element.get("AttributeName"):
            raise _invalid(f"1 validation error detected: Value null at "
                           f"'keySchema.{n + 1}.member.attributeName' failed to satisfy "
                           "constraint: Member must not be null")
        key_type = element.get("KeyType")
        if key_type not in ("HASH", "RANGE"):
            raise _invalid(f"1 validation error detected: Value '{key_type}' at "
                           f"'keySchema.{n + 1}.member.keyType' failed to satisfy constraint: "
                           "Member must satisfy enum value set: [HASH, RANGE]")
        schema.append({"AttributeName": element["AttributeName"], "KeyType": key_type})
    if schema[0]["KeyType"] != "HASH":
        raise _invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(schema) == 2:
        if schema[1]["KeyType"] != "RANGE":
            raise _invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key "
                           "type")
        if schema[0]["AttributeName"] == schema[1]["AttributeName"]:
            raise _invalid("Both the Hash Key and the Range Key element in the KeySchema have "
                           "the same name")
    return schema


def _normalise_definitions(schema: list[dict], definitions) -> list[dict]:
    if definitions is None:
        # Lab convenience: key attributes without definitions are strings.
        return [{"AttributeName": k["AttributeName"], "AttributeType": "S"} for k in schema]
    if not isinstance(definitions, (list, tuple)) or not definitions:
        raise _invalid("Invalid KeySchema: Some index key attribute have no definition")
    out = []
    seen = set()
    for n, d in enumerate(definitions):
        name = d.get("AttributeName") if isinstance(d, dict) else None
        kind = d.get("AttributeType") if isinstance(d, dict) else None
        if not name:
            raise _invalid(f"1 validation error detected: Value null at "
                           f"'attributeDefinitions.{n + 1}.member.attributeName' failed to "
                           "satisfy constraint: Member must not be null")
        if kind not in KEY_TYPES:
            raise _invalid(f"1 validation error detected: Value '{kind}' at "
                           f"'attributeDefinitions.{n + 1}.member.attributeType' failed to "
                           "satisfy constraint: Member must satisfy enum value set: [B, N, S]")
        if name in seen:
            raise _invalid(f"Attribute Name is duplicated: {name}")
        seen.add(name)
        out.append({"AttributeName": name, "AttributeType": kind})
    for k in schema:
        if k["AttributeName"] not in seen:
            missing = k["AttributeName"]
            raise _invalid("One or more parameter values were invalid: Some index key attributes "
                           f"are not defined in AttributeDefinitions. Keys: [{missing}], "
                           f"AttributeDefinitions: [{', '.join(d['AttributeName'] for d in out)}]")
    if len(out) != len(schema):
        raise _invalid("One or more parameter values were invalid: Number of attributes in "
                       "KeySchema does not exactly match number of attributes defined in "
                       "AttributeDefinitions")
    return out


def _view_type(spec) -> str | None:
    """StreamSpecification -> StreamViewType, or None when no stream is wanted.

    Accepts AWS's {"StreamEnabled": bool, "StreamViewType": ...} or, as a lab shorthand,
    just the view type. UNCERTAIN: AWS's exact message for StreamEnabled=true without a
    view type on CreateTable is undocumented; ours names the missing member.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {"StreamEnabled": True, "StreamViewType": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("StreamEnabled"), bool):
        raise _invalid("1 validation error detected: Value null at "
                       "'streamSpecification.streamEnabled' failed to satisfy constraint: "
                       "Member must not be null")
    view = spec.get("StreamViewType")
    if not spec["StreamEnabled"]:
        return None
    if view is None:
        raise _invalid("One or more parameter values were invalid: StreamViewType is required "
                       "when StreamEnabled is true")
    if view not in VIEW_TYPES:
        raise _invalid(f"1 validation error detected: Value '{view}' at "
                       "'streamSpecification.streamViewType' failed to satisfy constraint: "
                       "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, "
                       "NEW_AND_OLD_IMAGES, KEYS_ONLY]")
    return view


# --- update expressions -------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<num>\d+)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[=+\-,().\[\]]))")
_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


class _Token:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind, text, start, end):
        self.kind, self.text, self.start, self.end = kind, text, start, end


def _syntax(expression: str, tokens: list, i: int) -> AwsError:
    token = tokens[i]
    if token.kind == "end":
        near = expression[tokens[i - 1].start:].strip() if i else ""
        return _invalid(f'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "{near}"')
    lo = tokens[i - 1].start if i else token.start
    hi = tokens[i + 1].end if tokens[i + 1].kind != "end" else token.end
    return _invalid(f'Invalid UpdateExpression: Syntax error; token: "{token.text}", '
                    f'near: "{expression[lo:hi]}"')


def _tokenize(expression: str) -> list[_Token]:
    tokens = []
    pos = 0
    length = len(expression)
    while pos < length:
        if expression[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(expression, pos)
        if m is None:
            bad = expression[pos:].lstrip()[:1]
            raise _invalid(f'Invalid UpdateExpression: Syntax error; token: "{bad}", '
                           f'near: "{expression[max(0, pos - 5):pos + 5].strip()}"')
        kind = m.lastgroup
        tokens.append(_Token(kind, m.group(kind), m.start(kind), m.end(kind)))
        pos = m.end()
    tokens.append(_Token("end", "", length, length))
    return tokens


class _UpdateParser:
    """Parses SET / REMOVE / ADD / DELETE clauses into actions.

    Paths are lists of names (str) and list indexes (int). SET values are
    ("value", v) | ("path", p) | ("if_not_exists", p, operand) |
    ("list_append", a, b) | ("+"/"-", a, b).
    """

    def __init__(self, expression: str, names: dict, values: dict):
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.i = 0
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind=None, text=None) -> _Token:
        token = self.tokens[self.i]
        if (kind and token.kind != kind) or (text and token.text != text):
            raise _syntax(self.expression, self.tokens, self.i)
        self.i += 1
        return token

    def parse(self) -> list[tuple]:
        if self.peek().kind == "end":
            raise _invalid("Invalid UpdateExpression: The expression can not be empty;")
        actions = []
        seen = set()
        while self.peek().kind != "end":
            token = self.peek()
            clause = token.text.upper() if token.kind == "ident" else ""
            if clause not in _CLAUSES:
                raise _syntax(self.expression, self.tokens, self.i)
            if clause in seen:
                raise _invalid(f'Invalid UpdateExpression: The "{clause}" section can only be '
                               "used once in an update expression;")
            seen.add(clause)
            self.i += 1
            while True:
                actions.append(self.action(clause))
                if self.peek().text == ",":
                    self.i += 1
                    continue
                break
        return actions

    def action(self, clause: str) -> tuple:
        path = self.path()
        if clause == "SET":
            self.take("punct", "=")
            return ("SET", path, self.set_value())
        if clause == "REMOVE":
            return ("REMOVE", path)
        return (clause, path, self.value())

    def name_part(self) -> str:
        token = self.peek()
        if token.kind == "ident":
            self.i += 1
            return token.text
        if token.kind == "name":
            self.i += 1
            if token.text not in self.names:
                raise _invalid("Invalid UpdateExpression: An expression attribute name used in "
                               f"the document path is not defined; attribute name: {token.text}")
            self.used_names.add(token.text)
            return self.names[token.text]
        raise _syntax(self.expression, self.tokens, self.i)

    def path(self) -> list:
        path = [self.name_part()]
        while True:
            text = self.peek().text
            if text == "." and self.peek().kind == "punct":
                self.i += 1
                path.append(self.name_part())
            elif text == "[" and self.peek().kind == "punct":
                self.i += 1
                path.append(int(self.take("num").text))
                self.take("punct", "]")
            else:
                return path

    def value(self) -> tuple:
        token = self.take("value") if self.peek().kind == "value" else None
        if token is None:
            raise _syntax(self.expression, self.tokens, self.i)
        if token.text not in self.values:
            raise _invalid("Invalid UpdateExpression: An expression attribute value used in "
                           f"expression is not defined; attribute value: {token.text}")
        self.used_values.add(token.text)
        return ("value", self.values[token.text])

    def set_value(self) -> tuple:
        left = self.operand()
        token = self.peek()
        if token.kind == "punct" and token.text in ("+", "-"):
            self.i += 1
            return (token.text, left, self.operand())
        return left

    def operand(self) -> tuple:
        token = self.peek()
        if token.kind == "value":
            return self.value()
        if token.kind == "ident" and self.tokens[self.i + 1].text == "(":
            function = token.text
            self.i += 2
            if function == "if_not_exists":
                path = self.path()
                self.take("punct", ",")
                fallback = self.operand()
                self.take("punct", ")")
                return ("if_not_exists", path, fallback)
            if function == "list_append":
                first = self.operand()
                self.take("punct", ",")
                second = self.operand()
                self.take("punct", ")")
                return ("list_append", first, second)
            raise _invalid(f"Invalid UpdateExpression: Invalid function name; function: "
                           f"{function}")
        if token.kind in ("ident", "name"):
            return ("path", self.path())
        raise _syntax(self.expression, self.tokens, self.i)


def _path_text(path: list) -> str:
    return ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path)


def _missing() -> AwsError:
    return _invalid("The provided expression refers to an attribute that does not exist in the "
                    "item")


def _bad_path() -> AwsError:
    return _invalid("The document path provided in the update expression is invalid for update")


def _get(item: dict, path: list):
    value = item.get(path[0])
    for part in path[1:]:
        if value is None:
            return None
        if isinstance(part, int):
            items = value.get("L")
            value = items[part] if items is not None and part < len(items) else None
        else:
            members = value.get("M")
            value = members.get(part) if members is not None else None
    return value


def _parent(item: dict, path: list):
    """The container (dict of attributes / map members, or list) holding path[-1]."""
    if len(path) == 1:
        return item
    holder = _get(item, path[:-1])
    if holder is None:
        raise _bad_path()
    last = path[-1]
    if isinstance(last, int):
        if "L" not in holder:
            raise _bad_path()
        return holder["L"]
    if "M" not in holder:
        raise _bad_path()
    return holder["M"]


def _set(item: dict, path: list, value: dict) -> None:
    holder = _parent(item, path)
    last = path[-1]
    if isinstance(last, int):
        if last < len(holder):
            holder[last] = value
        else:
            holder.append(value)  # DynamoDB appends when the index is past the end
    else:
        holder[last] = value


def _operand_error(operator: str, value: dict) -> AwsError:
    return _invalid("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                    f"operator or function: {operator}, operand type: {_kind(value)}")


def _evaluate(node: tuple, item: dict) -> dict:
    op = node[0]
    if op == "value":
        return node[1]
    if op == "path":
        found = _get(item, node[1])
        if found is None:
            raise _missing()
        return found
    if op == "if_not_exists":
        found = _get(item, node[1])
        return found if found is not None else _evaluate(node[2], item)
    if op == "list_append":
        first, second = _evaluate(node[1], item), _evaluate(node[2], item)
        for v in (first, second):
            if "L" not in v:
                raise _operand_error("list_append", v)
        return {"L": first["L"] + second["L"]}
    left, right = _evaluate(node[1], item), _evaluate(node[2], item)
    for v in (left, right):
        if "N" not in v:
            raise _operand_error(op, v)
    a, b = Decimal(left["N"]), Decimal(right["N"])
    result = _NUM.add(a, b) if op == "+" else _NUM.subtract(a, b)
    return {"N": normalise_number(str(result))}


def _apply(actions: list[tuple], item: dict, original: dict) -> None:
    """Apply parsed actions to `item` (a copy of `original`); every value is read from
    `original`, as DynamoDB evaluates the whole expression against the item before it."""
    computed = [(a, _evaluate(a[2], original)) for a in actions if a[0] == "SET"]
    for action, value in computed:
        _set(item, action[1], value)
    removals = [a[1] for a in actions if a[0] == "REMOVE"]
    # Remove list elements from the highest index down so the others keep their places.
    removals.sort(key=lambda p: p[-1] if isinstance(p[-1], int) else -1, reverse=True)
    for path in removals:
        if len(path) == 1:
            item.pop(path[0], None)
            continue
        holder = _parent(item, path)
        last = path[-1]
        if isinstance(last, int):
            if last < len(holder):
                del holder[last]
        else:
            holder.pop(last, None)
    for action in actions:
        if action[0] not in ("ADD", "DELETE"):
            continue
        verb, path, (_, value) = action
        kind = _kind(value)
        current = _get(item, path)
        if verb == "ADD":
            if kind not in ("N",) + _SETS:
                raise _invalid("Invalid UpdateExpression: Incorrect operand type for operator or "
                               f"function; operator: ADD, operand type: {_TYPE_WORDS[kind]}")
            if current is None:
                _set(item, path, value)
            elif _kind(current) != kind:
                raise _invalid("An operand in the update expression has an incorrect data type")
            elif kind == "N":
                total = _NUM.add(Decimal(current["N"]), Decimal(value["N"]))
                _set(item, path, {"N": normalise_number(str(total))})
            else:
                merged = set(current[kind]) | set(value[kind])
                _set(item, path, {kind: _sorted_set(kind, merged)})
        else:
            if kind not in _SETS:
                raise _invalid("Invalid UpdateExpression: Incorrect operand type for operator or "
                               f"function; operator: DELETE, operand type: {_TYPE_WORDS[kind]}")
            if current is None:
                continue
            if _kind(current) != kind:
                raise _invalid("An operand in the update expression has an incorrect data type")
            left = set(current[kind]) - set(value[kind])
            if left:
                _set(item, path, {kind: _sorted_set(kind, left)})
            elif len(path) == 1:
                item.pop(path[0], None)
            else:
                holder = _parent(item, path)
                if isinstance(path[-1], int):
                    del holder[path[-1]]
                else:
                    holder.pop(path[-1], None)


def _sorted_set(kind: str, values) -> list:
    return sorted(values, key=Decimal) if kind == "NS" else sorted(values)


# --- the service --------------------------------------------------------------------------


class Tables:
    """DynamoDB tables with optional streams (Tables(engine))."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        self._cache: dict[tuple, _Table] = {}

    def _table(self, name) -> _Table:
        row = self.conn.execute(
            "SELECT name, key_schema, attribute_definitions, stream_view_type, stream_name, "
            "created_ms FROM tables WHERE name=?", (name,)).fetchone()
        if row is None:
            raise _not_found()
        table = self._cache.get(row)
        if table is None:
            if len(self._cache) > 256:
                self._cache.clear()
            table = self._cache[row] = _Table(row)
        return table

    def create(self, name, key_schema: list, attribute_definitions=None,
               stream_specification=None) -> dict:
        """CreateTable. key_schema is AWS's [{"AttributeName", "KeyType"}] (or, as a lab
        shorthand, ["pk"] / ["pk", "sk"]); attribute_definitions default to type S for every
        key attribute; stream_specification is {"StreamEnabled", "StreamViewType"} or just a
        view type. Returns info()."""
        if not isinstance(name, str) or len(name) < 3:
            raise _invalid(f"1 validation error detected: Value '{name}' at 'tableName' failed to "
                           "satisfy constraint: Member must have length greater than or equal "
                           "to 3")
        if len(name) > 255:
            raise _invalid(f"1 validation error detected: Value '{name}' at 'tableName' failed to "
                           "satisfy constraint: Member must have length less than or equal to "
                           "255")
        if not _TABLE_NAME_RE.match(name):
            raise _invalid(f"1 validation error detected: Value '{name}' at 'tableName' failed to "
                           "satisfy constraint: Member must satisfy regular expression pattern: "
                           "[a-zA-Z0-9_.-]+")
        schema = _normalise_key_schema(key_schema)
        definitions = _normalise_definitions(schema, attribute_definitions)
        view_type = _view_type(stream_specification)
        if self.conn.execute("SELECT 1 FROM tables WHERE name=?", (name,)).fetchone():
            raise AwsError("ResourceInUseException", f"Table already exists: {name}")
        stream_name = (self.engine.streams.create_table_stream(name, view_type)
                       if view_type else None)
        self.conn.execute(
            "INSERT INTO tables (name, key_schema, attribute_definitions, stream_view_type, "
            "stream_name, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (name, json.dumps(schema), json.dumps(definitions), view_type, stream_name,
             self.engine.now_ms))
        keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in schema)
        self.engine.log(
            "dynamodb.table_created", name,
            f"table {name} created with key {keys}; "
            + (f"its stream records every change with StreamViewType {view_type}"
               if view_type else "no stream, so writes produce no stream records"),
            data={"key_schema": schema, "view_type": view_type, "stream": stream_name})
        return self.info(name)

    def delete_table(self, name) -> dict:
        """DeleteTable: the table, its items and its stream go; mappings on
        the stream stay Enabled (as on AWS) and find no stream."""
        if self.conn.execute("SELECT 1 FROM tables WHERE name=?", (name,)).fetchone() is None:
            # DeleteTable names the table (recorded); item calls do not.
            raise AwsError("ResourceNotFoundException",
                           f"Requested resource not found: Table: {name} not found")
        info = self.info(name)
        self.conn.execute("DELETE FROM items WHERE table_name=?", (name,))
        self.conn.execute("DELETE FROM tables WHERE name=?", (name,))
        self._cache.clear()
        if info["stream_name"]:
            self.engine.streams.drop(info["stream_name"])
        self.engine.log("dynamodb.table_deleted", name,
                        f"table {name} deleted with its items"
                        + (" and its stream" if info["stream_name"] else ""))
        return info

    # --- reads -------------------------------------------------------------------------

    def info(self, name) -> dict:
        table = self._table(name)
        stream_arn = None
        if table.stream_name:
            row = self.conn.execute("SELECT arn FROM streams WHERE name=?",
                                    (table.stream_name,)).fetchone()
            stream_arn = row[0] if row else None
        count = self.conn.execute("SELECT count(*) FROM items WHERE table_name=?",
                                  (name,)).fetchone()[0]
        return {"name": table.name, "arn": table_arn(table.name), "key_schema": table.key_schema,
                "attribute_definitions": table.definitions, "stream_name": table.stream_name,
                "stream_arn": stream_arn, "view_type": table.view_type, "item_count": count,
                "created_ms": table.created_ms}

    def name_for_stream_arn(self, arn) -> str | None:
        row = self.conn.execute(
            "SELECT tables.name FROM streams JOIN tables ON tables.stream_name = streams.name "
            "WHERE streams.arn=? AND streams.kind='dynamodb'", (arn,)).fetchone()
        return row[0] if row else None

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM tables ORDER BY name")]

    def get_item(self, name, key) -> dict | None:
        table = self._table(name)
        keys = table.check_key(key)
        return self._load(name, key_text(keys))

    def scan(self, name, offset=0, limit=50) -> list[dict]:
        """Items in key order (the lab's order; DynamoDB scans in hash order), for panels."""
        self._table(name)
        rows = self.conn.execute(
            "SELECT item FROM items WHERE table_name=? ORDER BY key LIMIT ? OFFSET ?",
            (name, limit, offset))
        return [json.loads(r[0]) for r in rows]

    def _load(self, name: str, text: str) -> dict | None:
        row = self.conn.execute("SELECT item FROM items WHERE table_name=? AND key=?",
                                (name, text)).fetchone()
        return json.loads(row[0]) if row else None

    # --- writes ------------------------------------------------------------------------

    def put_item(self, name, item: dict) -> dict:
        """PutItem (replaces the whole item). Returns the lab's outcome:
        {"event": "INSERT"|"MODIFY"|None, "seq": stream sequence number or None,
         "old": previous item or None, "new": stored item}."""
        table = self._table(name)
        new = _canonical_item(item)
        keys = table.key_of_item(new)
        text = key_text(keys)
        old = self._load(name, text)
        if old == new:
            return self._no_change(table, "put_item", keys, old,
                                   "the new item is identical to the stored one")
        self._store(name, text, new)
        return self._changed(table, "put_item", "MODIFY" if old else "INSERT", keys, text,
                             new, old)

    def update_item(self, name, key: dict, update_expression: str, names=None,
                    values=None) -> dict:
        """UpdateItem with an UpdateExpression: SET a = :v, b = b + :n,
        c = if_not_exists(c, :z), d = list_append(d, :l); REMOVE e, f[0]; ADD n :one, s :set;
        DELETE s :set. Paths may use #names, nested map members (a.b) and list indexes (a[0]).
        Values are read from the item as it was before the update, as in DynamoDB.

        A missing item is created (INSERT), except by an update that only removes or deletes:
        then nothing is created (DynamoDB does not create an item that would hold only its
        key; observed behaviour, e.g. scylladb/scylladb#5862, UNCERTAIN in AWS's docs).
        Returns the same outcome dict as put_item.
        """
        table = self._table(name)
        keys = table.check_key(key)
        if not isinstance(update_expression, str):
            raise _invalid("Invalid UpdateExpression: The expression can not be empty;")
        names = dict(names or {})
        values = {k: canonical(v) for k, v in (values or {}).items()}
        parser = _UpdateParser(update_expression, names, values)
        actions = parser.parse()
        unused = sorted(set(names) - parser.used_names)
        if unused:
            raise _invalid("Value provided in ExpressionAttributeNames unused in expressions: "
                           f"keys: {{{', '.join(unused)}}}")
        unused = sorted(set(values) - parser.used_values)
        if unused:
            raise _invalid("Value provided in ExpressionAttributeValues unused in expressions: "
                           f"keys: {{{', '.join(unused)}}}")
        paths = [a[1] for a in actions]
        for n, p in enumerate(paths):
            if p[0] in table.keys:
                raise _invalid("One or more parameter values were invalid: Cannot update "
                               f"attribute {p[0]}. This attribute is part of the key")
            for q in paths[n + 1:]:
                shorter = min(len(p), len(q))
                if p[:shorter] == q[:shorter]:
                    raise _invalid("Invalid UpdateExpression: Two document paths overlap with "
                                   "each other; must remove or rewrite one of these paths; path "
                                   f"one: [{_path_text(p)}], path two: [{_path_text(q)}]")
        text = key_text(keys)
        old = self._load(name, text)
        original = old if old is not None else dict(keys)
        new = json.loads(json.dumps(original))
        _apply(actions, new, original)
        if old is None and new == keys:
            return self._no_change(table, "update_item", keys, None,
                                   "the item does not exist and the update only removes "
                                   "attributes, so no item is created")
        if old == new:
            return self._no_change(table, "update_item", keys, old,
                                   "the update leaves every attribute as it was")
        self._store(name, text, new)
        return self._changed(table, "update_item", "MODIFY" if old else "INSERT", keys, text,
                             new, old)

    def delete_item(self, name, key) -> dict:
        """DeleteItem. Returns the outcome dict ("event" REMOVE, or None for a missing item)."""
        table = self._table(name)
        keys = table.check_key(key)
        text = key_text(keys)
        old = self._load(name, text)
        if old is None:
            return self._no_change(table, "delete_item", keys, None, "there is no such item")
        self.conn.execute("DELETE FROM items WHERE table_name=? AND key=?", (name, text))
        return self._changed(table, "delete_item", "REMOVE", keys, text, None, old)

    def _store(self, name: str, text: str, item: dict) -> None:
        self.conn.execute(
            "INSERT INTO items (table_name, key, item) VALUES (?, ?, ?) "
            "ON CONFLICT(table_name, key) DO UPDATE SET item=excluded.item",
            (name, text, json.dumps(item, separators=_COMPACT)))

    def _no_change(self, table: _Table, op: str, keys: dict, old, why: str) -> dict:
        shown = _key_shown(keys)
        if table.stream_name:
            tail = ("so DynamoDB Streams writes no record (a stream record appears only when "
                    "an item actually changes)")
        else:
            tail = "so nothing changed"
        self.engine.log("dynamodb.no_change", table.name, f"{op} on {table.name} {shown}: {why}, "
                        f"{tail}", subject=shown, data={"op": op, "keys": keys})
        return {"event": None, "seq": None, "old": old, "new": old}

    def _changed(self, table: _Table, op: str, event: str, keys: dict, text: str, new, old) -> dict:
        shown = _key_shown(keys)
        seq = shard_id = None
        if table.stream_name:
            view = table.view_type
            detail = {"eventID": self.engine.rng.token(16), "eventName": event, "Keys": keys}
            if event != "REMOVE" and view in _NEW_VIEWS:
                detail["NewImage"] = new
            if event != "INSERT" and view in _OLD_VIEWS:
                detail["OldImage"] = old
            size = (item_size(keys) + item_size(detail.get("NewImage"))
                    + item_size(detail.get("OldImage")))
            detail["SizeBytes"] = size
            detail["StreamViewType"] = view
            detail["ApproximateCreationDateTime"] = self.engine.now_ms // 1000
            out = self.engine.streams.append(table.stream_name, text, b"", detail, size)
            seq, shard_id = out["SequenceNumber"], out["ShardId"]
            carried = [k for k in ("NewImage", "OldImage") if k in detail]
            reason = (f"{op} on {table.name} {shown}: {event} stream record {seq} on {shard_id} "
                      f"(StreamViewType {view} carries "
                      f"{' and '.join(carried) if carried else 'only the keys'})")
        else:
            reason = (f"{op} on {table.name} {shown}: {event}; the table has no stream, so no "
                      "stream record")
        self.engine.log("dynamodb.write", table.name, reason, subject=shown,
                        data={"op": op, "eventName": event, "keys": keys, "seq": seq,
                              "shard_id": shard_id})
        return {"event": event, "seq": seq, "old": old, "new": new}


def _key_shown(keys: dict) -> str:
    return "{" + ", ".join(f"{k}={_shown(v)}" for k, v in keys.items()) + "}"
