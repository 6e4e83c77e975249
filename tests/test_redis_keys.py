"""The coordination stores' Redis keys (docs/design.md §3a, §4 Retries; docs/operations.md
"Untidy state: money safety"): outside ids holding the separator or the escape character never
make two keys one, and ordinary ids keep the key they always had."""

from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.coordination.finish_replay import replay_redis_key
from gateway.coordination.order_lease import KEY_NAMESPACE as LEASE
from gateway.coordination.redis_keys import redis_key
from gateway.coordination.ride_ledger import KEY_NAMESPACE as LEDGER
from gateway.rides.ports import ReplayKey

PRICE = Decimal("42.24")
# Order X (alias col, park pk:1) and order Y (alias col:pk, park 1) of driver drv: joined bare,
# both began meters:finish_replay:monitex:col:pk:1:drv, and Y was answered X's price.
ORDER_X = ReplayKey(
    vendor="monitex",
    order_id="col",
    park_id="pk:1",
    driver_profile_id="drv",
    car_id="car1",
    car_number="12-345-67",
    price=PRICE,
)
ORDER_Y = replace(ORDER_X, order_id="col:pk", park_id="1")


def test_two_orders_whose_ids_joined_bare_were_one_replay_key_have_two() -> None:
    car_and_price = "car1:12-345-67:42.24"
    assert (
        replay_redis_key(ORDER_X) == f"meters:finish_replay:monitex:col:pk%3A1:drv:{car_and_price}"
    )
    assert (
        replay_redis_key(ORDER_Y) == f"meters:finish_replay:monitex:col%3Apk:1:drv:{car_and_price}"
    )


def test_one_amount_spelled_two_ways_is_one_replay_key() -> None:
    # The in-process replay compares amounts as numbers; its Redis key must agree.
    forty = replace(ORDER_X, price=Decimal(40))
    for spelled in (replace(forty, price=Decimal(spelling)) for spelling in ("40.00", "4E+1")):
        assert forty == spelled
        assert replay_redis_key(forty) == replay_redis_key(spelled)
    assert replay_redis_key(forty).endswith(":12-345-67:40")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(("monitex", "r:1"), ("monitex:r", "1"), id="separator-moves-between-parts"),
        pytest.param(("monitex", "r:1"), ("monitex", "r%3A1"), id="escape-spelled-out"),
        pytest.param(("monitex", "r%"), ("monitex", "r%25"), id="escape-char-itself"),
    ],
)
def test_ride_ledger_keys_of_different_rides_differ(
    one: tuple[str, str], other: tuple[str, str]
) -> None:
    assert redis_key(LEDGER, *one) != redis_key(LEDGER, *other)


def test_an_order_id_holding_the_separator_has_a_lease_key_of_its_own() -> None:
    assert redis_key(LEASE, "col:pk") == "meters:order_lease:col%3Apk"
    assert redis_key(LEASE, "col%3Apk") == "meters:order_lease:col%253Apk"


def test_ids_without_separator_or_escape_keep_their_keys_across_the_upgrade() -> None:
    # The formats docs/operations.md gives, as they were before the parts were encoded.
    assert redis_key(LEDGER, "monitex", "0b6f-4e2a") == "meters:ride_ledger:monitex:0b6f-4e2a"
    assert redis_key(LEASE, "order-il-1") == "meters:order_lease:order-il-1"
