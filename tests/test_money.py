"""Money never goes through binary floating point on its way to agorot or cents."""

from decimal import Decimal

import pytest

from gateway.money import from_minor_units, price_from_float, to_minor_units


@pytest.mark.parametrize(
    ("price", "minor"),
    [("42.24", 4224), ("0.07", 7), ("1.10", 110), ("0.29", 29), ("1000000", 100000000), ("0", 0)],
)
def test_prices_convert_to_minor_units_exactly(price: str, minor: int) -> None:
    assert to_minor_units(Decimal(price)) == minor
    assert from_minor_units(minor) == Decimal(price)


@pytest.mark.parametrize("value", [0.07, 0.29, 42.24, 1.1, 33.8])
def test_floats_from_json_or_bson_keep_their_decimal_spelling(value: float) -> None:
    # 0.29 * 100 == 28.999999999999996 in binary floating point.
    assert to_minor_units(price_from_float(value)) == int(Decimal(repr(value)) * 100)
    assert str(price_from_float(value)) == repr(value)


def test_meter_prices_in_float_agorot_are_read_exactly() -> None:
    assert from_minor_units(4004.0) == Decimal("40.04")
    assert from_minor_units(4304) == Decimal("43.04")
