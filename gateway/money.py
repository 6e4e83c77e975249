"""Prices as exact decimals: the driver is paid what the meter shows, to the agora."""

from decimal import Decimal

CENT = Decimal("0.01")
MINOR_UNITS_PER_MAJOR = 100


def price_from_float(value: float) -> Decimal:
    """A float from JSON or BSON, taken by its shortest decimal spelling (42.24, not 42.2399…)."""
    return Decimal(repr(float(value)))


def to_minor_units(price: Decimal) -> int:
    """42.24 → 4224, exactly; prices with more than two decimals are refused before this point."""
    return int((price * MINOR_UNITS_PER_MAJOR).to_integral_value())


def from_minor_units(minor: int | float | Decimal) -> Decimal:
    exact = price_from_float(minor) if isinstance(minor, float) else Decimal(minor)
    return (exact / MINOR_UNITS_PER_MAJOR).quantize(CENT)
