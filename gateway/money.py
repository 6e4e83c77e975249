"""Money as exact decimals in the currency's major unit (42.24 ILS), everywhere in the gateway.

Vendors that speak minor units (agorot, cents) convert at their wire with ``to_minor_units``
and ``from_minor_units``; how many minor units make a major one is the currency's as CLDR
gives it (through Babel): 100 for ILS and EUR, 1 for JPY, 1000 for BHD. CLDR follows cash
practice where it differs from ISO 4217 (HUF, IQD, LBP: 0 decimals in CLDR, 2 or 3 in ISO);
a vendor whose wire counts ISO minor units for those converts with its own factor.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import UnknownCurrencyError, get_currency_precision, get_territory_currencies
from babel.numbers import validate_currency as _validate_currency

CENT = Decimal("0.01")


class UnknownCurrency(ValueError):
    pass


class AmountOutOfRange(ValueError):
    """An amount too large to hold to its minor unit in the decimals' 28 digits (1e300)."""


def price_from_float(value: float) -> Decimal:
    """A float from JSON or BSON, taken by its shortest decimal spelling (42.24, not 42.2399…)."""
    return Decimal(repr(float(value)))


@cache
def minor_unit_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit: 2 for ILS and EUR, 0 for JPY."""
    check_currency(currency)
    return int(get_currency_precision(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """42.24 ILS → 4224 agorot, exactly; an amount finer than the minor unit is refused."""
    minor = amount.scaleb(minor_unit_exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is finer than its minor unit")
    return int(minor)


def from_minor_units(minor: int | float | Decimal, currency: str) -> Decimal:
    """4004 agorot → 40.04 ILS; a float is taken by its decimal spelling, never binary.

    An amount with more digits than the decimals hold (1e300, 10**40) is AmountOutOfRange: no
    meter charges it, so a vendor answering it answered nonsense (VendorMalformedResponse).

    A bool is an int to Python but never an amount: JSON ``true`` is refused, not 1 agora.
    """
    if isinstance(minor, bool):
        raise TypeError(f"{minor!r} is not an amount of minor units")
    exact = price_from_float(minor) if isinstance(minor, float) else Decimal(minor)
    exponent = minor_unit_exponent(currency)
    try:
        return exact.scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
    except InvalidOperation:
        raise AmountOutOfRange(f"{minor!r} minor units of {currency} is out of range") from None


DECIMAL_STRING = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
"""An amount as APIs that speak decimal strings spell it: ``"42.24"``, ``"-0.50"``, ``"7"``;
no exponent, no sign but a minus, no spaces, no leading zeros."""


def to_decimal_string(amount: Decimal, currency: str) -> str:
    """42.24 ILS → ``"42.24"``: the amount to the currency's minor unit, never an exponent
    (``Decimal("1E+2")`` is ``"100.00"``). A float is refused (TypeError): money is never
    binary; an amount finer than the minor unit is refused (ValueError)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"{type(amount).__name__} is not a Decimal amount")
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount")
    return f"{_whole_minor_units(amount, currency, str(amount)):f}"


def from_decimal_string(text: object, currency: str) -> Decimal:
    """``"42.24"`` → Decimal("42.24") for a currency whose minor unit it fits, read from an
    answer. Anything else is ValueError (a malformed answer): a JSON number (a float is not
    an amount on a wire that promised strings), an exponent (``"4.2E1"``), ``NaN``, spaces,
    more decimals than the currency's minor unit holds (``"42.245"``; ``"42.240"`` is fine), or
    too many digits (AmountOutOfRange)."""
    if not isinstance(text, str) or not DECIMAL_STRING.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal string amount")
    return _whole_minor_units(Decimal(text), currency, repr(text))


def _whole_minor_units(amount: Decimal, currency: str, spelt: str) -> Decimal:
    """The amount with the currency's places, if it is a whole number of its minor unit."""
    try:
        exact = amount.quantize(Decimal(1).scaleb(-minor_unit_exponent(currency)))
    except InvalidOperation:
        raise AmountOutOfRange(f"{spelt} {currency} is out of range") from None
    if exact != amount:
        raise ValueError(f"{spelt} {currency} is finer than its minor unit")
    return exact


def check_currency(currency: str) -> None:
    """Raise UnknownCurrency unless ``currency`` is an ISO 4217 code (upper case)."""
    try:
        if currency != currency.upper():
            raise UnknownCurrencyError(currency)
        _validate_currency(currency)
    except UnknownCurrencyError:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency code") from None


def currency_of_country(country: str) -> str | None:
    """The one legal tender of an ISO 3166-1 country today (IL → ILS, LV → EUR); None when it
    has none or several (then the configuration has to say)."""
    tenders = get_territory_currencies(country, datetime.date.today(), tender=True)
    return tenders[0] if len(tenders) == 1 else None
