"""The two tables of the design, as the code holds them: every step and refusal has its row."""

from gateway.rides.fallback_policy import START_RIDE_FALLBACK_POLICY, Reaction, StartStep
from gateway.rides.finish_refusals import REFUSAL_STATUS, Refusal


def test_start_ride_matrix_matches_the_design() -> None:
    assert START_RIDE_FALLBACK_POLICY == {
        StartStep.READ_ORDER: Reaction.END_UNTOUCHED,
        StartStep.DRIVER_NATIONAL_ID: Reaction.FALLBACK,
        StartStep.VEHICLE_PERMIT: Reaction.FALLBACK,
        StartStep.FIXED_PRICE: Reaction.FALLBACK,
        StartStep.VENDOR_START: Reaction.FALLBACK,
        StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.SETCAR: Reaction.END_WITHOUT_PUSH,
        StartStep.PUSH: Reaction.IGNORE,
    }


def test_finish_ride_refusals_match_the_design() -> None:
    assert {refusal.value: status for refusal, status in REFUSAL_STATUS.items()} == {
        "invalid_request": 400,
        "unauthorized": 401,
        "order_not_found": 404,
        "order_core_error": 502,
        "not_enabled": 409,
        "prices_differ": 400,
        "fixed_price_mismatch": 400,
        "meter_ride_not_found": 409,
        "vendor_error": 502,
        "meter_ride_not_completed": 409,
        "meter_price_rejected": 409,
        "dry_run": 409,
        "upstream_timeout": 504,
    }
    assert set(REFUSAL_STATUS) == set(Refusal)
