"""Money never goes through binary floating point on its way to minor units and back."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.money import (
    AmountOutOfRange,
    UnknownCurrency,
    check_currency,
    currency_of_country,
    from_decimal_string,
    from_minor_units,
    price_from_float,
    to_decimal_string,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("price", "minor"),
    [("42.24", 4224), ("0.07", 7), ("1.10", 110), ("0.29", 29), ("1000000", 100000000), ("0", 0)],
)
def test_prices_convert_to_minor_units_exactly(price: str, minor: int) -> None:
    assert to_minor_units(Decimal(price), "ILS") == minor
    assert from_minor_units(minor, "ILS") == Decimal(price)


@pytest.mark.parametrize(
    ("currency", "price", "minor"),
    [("EUR", "42.24", 4224), ("JPY", "4224", 4224), ("BHD", "4.224", 4224)],
)
def test_the_minor_unit_is_the_currencys(currency: str, price: str, minor: int) -> None:
    assert to_minor_units(Decimal(price), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(price)


def test_an_amount_finer_than_the_minor_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="finer than its minor unit"):
        to_minor_units(Decimal("42.245"), "ILS")


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency, match="'ILX'"):
        to_minor_units(Decimal("1"), "ILX")


@pytest.mark.parametrize(
    ("country", "currency"), [("IL", "ILS"), ("LV", "EUR"), ("DE", "EUR"), ("ZZ", None)]
)
def test_a_country_names_its_currency(country: str, currency: str | None) -> None:
    assert currency_of_country(country) == currency


@pytest.mark.parametrize("value", [0.07, 0.29, 42.24, 1.1, 33.8])
def test_floats_from_json_or_bson_keep_their_decimal_spelling(value: float) -> None:
    # 0.29 * 100 == 28.999999999999996 in binary floating point.
    assert to_minor_units(price_from_float(value), "ILS") == int(Decimal(repr(value)) * 100)
    assert str(price_from_float(value)) == repr(value)


def test_meter_prices_in_float_agorot_are_read_exactly() -> None:
    assert from_minor_units(4004.0, "ILS") == Decimal("40.04")
    assert from_minor_units(4304, "ILS") == Decimal("43.04")


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_never_an_amount(flag: bool) -> None:
    # JSON true is a Python int: read as minor units it would be a price of 0.01.
    with pytest.raises(TypeError, match="is not an amount of minor units"):
        from_minor_units(flag, "ILS")


@pytest.mark.parametrize(
    ("minor", "currency", "price"),
    [(1, "ILS", "0.01"), (4004, "JPY", "4004"), (1, "BHD", "0.001"), (-150, "EUR", "-1.50")],
)
def test_minor_units_keep_the_currencys_places(minor: int, currency: str, price: str) -> None:
    amount = from_minor_units(minor, currency)
    assert (amount, str(amount)) == (Decimal(price), price)


@pytest.mark.parametrize("currency", ["ils", "Ils", "", "ILSX"])
def test_a_currency_not_spelled_as_an_iso_code_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency, match=repr(currency)):
        check_currency(currency)


def test_an_amount_of_minor_units_beyond_a_floats_precision_stays_exact() -> None:
    # 10**17 + 1 has no float of its own: through a float it would lose its last agora.
    assert from_minor_units(10**17 + 1, "ILS") == Decimal("1000000000000000.01")


def test_a_float_amount_of_minor_units_is_read_by_its_decimal_spelling() -> None:
    # The float 1e25 is 10000000000000000905969664 in binary: read as that, a meter's answer
    # of 1e25 agorot would gain 90596966.64 ILS of binary noise.
    assert from_minor_units(1e25, "ILS") == Decimal("100000000000000000000000.00")


@pytest.mark.parametrize("minor", [1e300, 10**40])
def test_an_amount_beyond_the_decimals_is_out_of_range_and_says_which(minor: float) -> None:
    with pytest.raises(AmountOutOfRange) as refused:
        from_minor_units(minor, "ILS")
    assert str(refused.value) == f"{minor!r} minor units of ILS is out of range"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("42.24", "EUR", "42.24"),
        ("42.5", "EUR", "42.50"),
        ("1E+2", "EUR", "100.00"),
        ("-0.5", "ILS", "-0.50"),
        ("1000", "JPY", "1000"),
        ("1.234", "BHD", "1.234"),
    ],
)
def test_an_amount_is_written_as_a_plain_decimal_string(
    amount: str, currency: str, text: str
) -> None:
    assert to_decimal_string(Decimal(amount), currency) == text
    assert from_decimal_string(text, currency) == Decimal(amount)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_a_decimal_string_reads_back_as_the_amount_written(amount: Decimal) -> None:
    text = to_decimal_string(amount, "EUR")

    assert "E" not in text.upper()
    assert from_decimal_string(text, "EUR") == amount


def test_a_float_is_never_written_as_an_amount() -> None:
    with pytest.raises(TypeError, match="float"):
        to_decimal_string(42.24, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finer"):
        to_decimal_string(Decimal("42.245"), "EUR")
    with pytest.raises(ValueError, match="not an amount"):
        to_decimal_string(Decimal("NaN"), "EUR")


@pytest.mark.parametrize(
    "answer", [42.24, 42, None, True, "4.2E1", "42,24", " 42.24", "+42.24", "NaN", "", "042", "42."]
)
def test_an_answer_that_is_not_a_decimal_string_is_refused(answer: object) -> None:
    with pytest.raises(ValueError, match="not a decimal string"):
        from_decimal_string(answer, "EUR")


def test_a_decimal_string_finer_than_the_minor_unit_or_too_long_is_refused() -> None:
    assert from_decimal_string("42.240", "EUR") == Decimal("42.24")
    with pytest.raises(ValueError, match="finer"):
        from_decimal_string("42.245", "EUR")
    with pytest.raises(AmountOutOfRange):
        from_decimal_string("1" + "0" * 40, "EUR")
