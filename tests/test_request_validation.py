"""The fast request check never accepts a body the reference validator (jsonschema) refuses.

``parse_body`` accepts what jsonschema-rs accepts and sends everything else to ``jsonschema``,
which decides and words the 400 answer. So the one property that keeps behaviour unchanged is
that the fast check's acceptances are a subset of the reference validator's; checked here on
the edge cases of exact decimals and on many generated bodies.
"""

import json
import random
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest

from gateway.http.request_validation import (
    InvalidRequest,
    _body_validator,
    _fast_check,
    parse_body,
)

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
    "42.245",
    "4.20E1",
    "4224e-2",
    "1E-2",
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
    "1e400",
    "1e-400",
    "0.0100000000000000000001",
    "9007199254740993",
    "9007199254740993.01",
    "0e-999999999",
    "0E+999999999",
    "1e-999999999",
    "1e999999999",
    "0.000000e-999999",
    "42.24000000000000000000000000000000000000000000000000000000000000000",
    "42.240000000000000000000000000000000000000000000000000000000000000001",
]
OTHER_VALUES = ['"42.24"', "true", "false", "null", "[]", "{}", '""', '"a"', "[42.24]"]


def _reference_accepts(operation_id: str, body: Any) -> bool:
    try:
        return bool(_body_validator(operation_id).is_valid(body))
    except InvalidOperation:
        return False  # parse_body answers 400 "a number is out of range"


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
def test_fast_check_accepts_only_what_the_reference_accepts(operation_id: str) -> None:
    rng = random.Random(20240611)
    for raw in _bodies(rng, 3000):
        body = json.loads(raw, parse_float=Decimal)
        if _fast_check(operation_id).is_valid(body):
            assert _reference_accepts(operation_id, body), raw


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
        (b'{"order_id": "a", "user_price": 1}', "body: 'driver_price' is a required property"),
        (
            b'{"order_id": "", "user_price": 1, "driver_price": 1}',
            "order_id: '' should be non-empty",
        ),
    ],
)
def test_refusals_keep_the_reference_validators_words(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_body("finishRide", raw)

    assert str(refused.value) == message


def test_a_valid_body_comes_back_with_exact_decimals() -> None:
    body = parse_body("finishRide", b'{"order_id": "a", "user_price": 0.07, "driver_price": 0.07}')

    assert body == {"order_id": "a", "user_price": Decimal("0.07"), "driver_price": Decimal("0.07")}
