"""Request bodies against the OpenAPI document: exact decimals, bounded depth and numbers.

``parse_body`` decodes with exact ``Decimal`` numbers, refuses what no schema states (nesting
deeper than 32, huge exponents) and lets jsonschema-rs, its only validator, decide the rest
and word the 400. The reference here is the pure-Python ``jsonschema`` with the document's
``multipleOf`` made a ``Decimal``: on every edge case of exact decimals and on many generated
bodies the two must agree, so decimals are judged by value in any notation.
"""

import json
import random
from decimal import Decimal

import jsonschema
import jsonschema_rs
import pytest
import yaml

from gateway.http.limits import MAX_JSON_DEPTH
from gateway.http.request_validation import InvalidRequest, _describe, openapi_text, parse_body
from gateway.rides.start_arguments import malformed_ids

OPERATIONS = ("finishRide", "startRide")
EDGE_NUMBERS = [
    "0",
    "-0",
    "-0.00",
    "0.07",
    "0.1",
    "0.29",
    "0.3",
    "1.005",
    "2.675",
    "42.24",
    "42.240",
    "4.224e1",
    "42.245",
    "4.20E1",
    "4224e-2",
    "1E-2",
    "1e-3",
    "1.0E-2",
    "100e-2",
    "1e2",
    "1E+2",
    "999999.99",
    "1000000",
    "1000000.00",
    "1000000.01",
    "1000000.0000000000001",
    "1000000e0",
    "-0.01",
    "1e100",
    "1e-100",
    "1e400",
    "-1e-400",
    "1.7976931348623157e+308",
    "5e-324",
    "-" + "9" * 300,
    "12345678901234567890",
    "-12345678901234567890",
    "0.0100000000000000000001",
    "9007199254740993",
    "9007199254740993.01",
    "42.24000000000000000000000000000000000000000000000000000000000000000",
    "42.240000000000000000000000000000000000000000000000000000000000000001",
]
OUT_OF_RANGE = [
    "1e-999999999",
    "1e999999",
    "1e999999999",
    "0e-999999999",
    "0E+999999999",
    "0.000000e-999999",
    "1e401",
    "1e-401",
    "-1e401",
    "1" + "0" * 401,
    "0." + "0" * 401,
]
OTHER_VALUES = ['"42.24"', "true", "false", "null", "[]", "{}", '""', '"a"', "[42.24]"]


def _reference_validator(operation_id: str) -> jsonschema.protocols.Validator:
    spec = yaml.safe_load(openapi_text())
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            if operation.get("operationId") == operation_id:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                exact = json.loads(
                    json.dumps({**schema, "components": spec["components"]}),
                    parse_float=Decimal,
                )
                return jsonschema.Draft202012Validator(exact)
    raise KeyError(operation_id)


def _accepted(operation_id: str, raw: str) -> bool:
    try:
        parse_body(operation_id, raw.encode())
    except InvalidRequest:
        return False
    return True


def _random_number(rng: random.Random) -> str:
    sign = rng.choice(["", "", "-"])
    whole = str(rng.choice([0, 1, 7, 42, 999999, 1000000, 1000001, rng.randrange(10**7)]))
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([0, 1, 2, 2, 3, 5, 30])))
    fraction = f".{digits}" if digits else ""
    exponent = rng.choice(["", "", "", f"e{rng.randint(-30, 30)}", f"E{rng.randint(-9, 9)}"])
    return f"{sign}{whole}{fraction}{exponent}"


def _bodies(rng: random.Random, count: int) -> list[str]:
    values = EDGE_NUMBERS + OTHER_VALUES + [_random_number(rng) for _ in range(count)]
    bodies = []
    for value in values:
        other = rng.choice(values)
        bodies += [
            f'{{"order_id": "alias-1", "user_price": {value}, "driver_price": {other}}}',
            f'{{"order_id": {value}, "user_price": 1, "driver_price": 1}}',
            f'{{"order_id": "alias-1", "user_price": {value}}}',
            f'{{"order_id": "o", "task_id": {value}}}',
            f'{{"order_id": {value}}}',
            f'{{"order_id": "", "user_price": {value}, "driver_price": {value}, "x": {value}}}',
            f"[{value}]",
            value,
        ]
    return bodies


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_the_validator_agrees_with_the_exact_reference(operation_id: str) -> None:
    reference = _reference_validator(operation_id)
    rng = random.Random(20240611)
    for raw in _bodies(rng, 3000):
        expected = reference.is_valid(json.loads(raw, parse_float=Decimal))
        assert _accepted(operation_id, raw) == expected, raw


@pytest.mark.parametrize(
    ("price", "valid"),
    [("42.24", True), ("42.240", True), ("4.224e1", True), ("4224e-2", True), ("1e-3", False)],
)
def test_decimals_are_judged_by_value(price: str, valid: bool) -> None:
    raw = f'{{"order_id": "a", "user_price": {price}, "driver_price": 1}}'

    assert _accepted("finishRide", raw) is valid


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_numbers_with_huge_exponents_or_digit_counts_are_out_of_range(number: str) -> None:
    raw = f'{{"order_id": "a", "user_price": 1, "driver_price": 1, "x": {number}}}'

    with pytest.raises(InvalidRequest) as refused:
        parse_body("finishRide", raw.encode())

    assert str(refused.value) == "a number is out of range"


def _nested(depth: int) -> bytes:
    """A finish-ride body whose deepest value is ``depth`` levels down (the body is level 1)."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return f'{{"order_id": "a", "user_price": 1, "driver_price": 1, "x": {inner}}}'.encode()


def test_nesting_up_to_the_bound_is_accepted() -> None:
    assert parse_body("finishRide", _nested(MAX_JSON_DEPTH))["order_id"] == "a"


def test_nesting_to_the_bound_beside_other_brackets_is_accepted() -> None:
    # More brackets than the bound in all, so the depth is walked: the walk must count exactly.
    raw = _nested(MAX_JSON_DEPTH).replace(b'"x":', b'"y": [[], {}], "x":')

    assert parse_body("finishRide", raw)["y"] == [[], {}]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeper_nesting_is_refused(depth: int) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_body("finishRide", _nested(depth))

    assert str(refused.value) == "body is nested deeper than 32 levels"


def test_brackets_inside_strings_are_not_nesting() -> None:
    raw = json.dumps({"order_id": "[" * 100, "task_id": "{" * 100}).encode()

    assert parse_body("startRide", raw)["order_id"] == "[" * 100


@pytest.mark.parametrize("operation_id", OPERATIONS)
@pytest.mark.parametrize(
    ("order_id", "message"),
    [
        ('""', "order_id: should be non-empty"),
        (json.dumps("a" * 129), "order_id: is longer than 128 characters"),
        ('"caf\\u00e9"', "order_id: does not match ^[ -~]+$"),
        ('"tab\\there"', "order_id: does not match ^[ -~]+$"),
        ('"\\ud800"', "body holds a string that is not valid Unicode"),
    ],
)
def test_order_ids_are_1_to_128_printable_ascii_characters(
    operation_id: str, order_id: str, message: str
) -> None:
    raw = f'{{"order_id": {order_id}, "user_price": 1, "driver_price": 1}}'

    with pytest.raises(InvalidRequest) as refused:
        parse_body(operation_id, raw.encode())

    assert str(refused.value) == message


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_the_longest_order_id_is_accepted(operation_id: str) -> None:
    order_id = "~" * 127 + " "
    raw = json.dumps({"order_id": order_id, "user_price": 1, "driver_price": 1}).encode()

    assert parse_body(operation_id, raw)["order_id"] == order_id


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"order_id": "a", "user_price": 42.245, "driver_price": 42.245}',
            "user_price: at most 2 decimals are allowed",
        ),
        (
            b'{"order_id": "a", "user_price": -1, "driver_price": 1}',
            "user_price: -1 is less than the minimum of 0",
        ),
        (b'{"order_id": "a", "user_price": 1}', 'body: "driver_price" is a required property'),
        (b'{"order_id": 5, "user_price": 1, "driver_price": 1}', "order_id: is not of type string"),
        (b"[1]", "body: is not of type object"),
        (
            b"{",
            "body is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        (
            b'{"order_id": "a", "user_price": NaN, "driver_price": 1}',
            "body is not valid JSON: NaN is not a number",
        ),
    ],
)
def test_refusals_say_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_body("finishRide", raw)

    assert str(refused.value) == message


def test_a_valid_body_comes_back_with_exact_decimals() -> None:
    body = parse_body("finishRide", b'{"order_id": "a", "user_price": 0.07, "driver_price": 0.07}')

    assert body == {"order_id": "a", "user_price": Decimal("0.07"), "driver_price": Decimal("0.07")}


ID_VALUES = [
    None,
    "",
    "a",
    "~" * 127 + " ",
    "a" * 129,
    "é",
    "é" * 129,
    "ok\n",
    "tab\there",
    "\udfff",
    ["\udfff"],
    5,
    10**30,
    1.5,
    True,
    [1],
    {"a": 1},
]


@pytest.mark.parametrize("order_id", ID_VALUES)
@pytest.mark.parametrize("task_id", ID_VALUES)
def test_the_core_judges_a_tasks_ids_as_the_endpoint_judges_the_body(
    order_id: object, task_id: object
) -> None:
    # The broker dead-letters an entry by the core's rule, in the endpoint's words.
    try:
        parse_body("startRide", json.dumps({"order_id": order_id, "task_id": task_id}).encode())
    except InvalidRequest as refused:
        endpoint: str | None = refused.message
    else:
        endpoint = None

    assert malformed_ids(order_id, task_id) == endpoint


def test_a_refusal_words_any_length_or_type_rule_a_spec_may_hold() -> None:
    # Today's spec asks for non-empty strings of one type; a change of it is worded too.
    validator = jsonschema_rs.validator_for({"type": ["string", "null"], "minLength": 3})
    (wrong_type,) = validator.iter_errors(5)
    (too_short,) = validator.iter_errors("ab")
    assert (_describe(wrong_type), _describe(too_short)) == (
        "is not of type null or string",
        "is shorter than 3",
    )
