"""What a simulator was asked (the call log) and how it should misbehave (the fault book)."""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TypeVar, cast, get_args, overload

import bson
from bson.errors import InvalidBSON

BodyFault = Literal["malformed", "truncated", "empty_fields", "null_fields", "missing_fields"]
"""How an answer's body is spoiled: not JSON/BSON at all, cut in half, or every field of every
object blanked (strings ""), nulled (strings, numbers, booleans alike) or removed (the same
fields, left out; objects and lists stay, emptied)."""
BSON = "application/bson"
# Neither JSON nor BSON (its first four bytes are not a plausible BSON length), so every client's
# decoder rejects it.
GARBAGE = b"<html>\x00\xff this is not the body you are looking for"
# What a proxy answers in place of the upstream's answer (an ``after_effect`` status fault).
PROXY_PAGE = "<html><body><h1>{status}</h1>The upstream did not answer in time.</body></html>"

_T = TypeVar("_T")


class Headers(dict[str, str]):
    """Header names in lower case, found by any case, as HTTP compares them.

    aiohttp re-cases the names it knows (``X-Request-Id`` arrives as ``X-Request-ID``), so the
    case a client sent cannot be relied on.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    @overload
    def get(self, name: str, default: None = None, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...
    def get(self, name: str, default: Any = None, /) -> Any:
        return super().get(name.lower(), default)


@dataclass(slots=True)
class RecordedCall:
    endpoint: str
    """Method and route template, e.g. ``GET /rides/{rideId}``."""
    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: Any
    """JSON or BSON decoded; None when empty; the raw bytes when it decodes as neither."""
    # How the call went, filled in once it is answered; left out of equality so that a test can
    # state what was asked without knowing when.
    received_at: float = field(default=0.0, compare=False)
    """Wall-clock seconds (``time.time()``) when the call arrived."""
    status: int | None = field(default=None, compare=False)
    """The answer's status; None while unanswered, or if the caller gave up first."""
    duration_ms: float | None = field(default=None, compare=False)
    fault: str | None = field(default=None, compare=False)
    """The injected fault that shaped the answer, described, e.g. ``status 500``."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class CallLog:
    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []

    def record(self, call: RecordedCall) -> None:
        self._calls.append(call)

    def all(self) -> list[RecordedCall]:
        return list(self._calls)

    def to(self, endpoint: str) -> list[RecordedCall]:
        return [call for call in self._calls if call.endpoint == endpoint]

    def clear(self) -> None:
        self._calls.clear()

    def __len__(self) -> int:
        return len(self._calls)


@dataclass(slots=True)
class Fault:
    endpoint: str
    status: int | None = None
    delay_ms: int = 0
    body: BodyFault | None = None
    pending_forever: bool = False
    times: int | None = None
    """None: until cleared; N: the next N calls of the endpoint, then the fault expires."""
    after: int = 0
    """Calls of the endpoint to let through first, to fault e.g. only the second read."""
    after_effect: bool = False
    """With ``status``: the handler runs first (its effect lands: a ride started, a field
    written) and its answer is replaced by that status and an HTML page, as a proxy's 5xx page
    in place of a 201; the caller cannot tell what was done."""

    def __post_init__(self) -> None:
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status")
        if self.delay_ms < 0:
            raise ValueError("delay_ms must not be negative")
        if self.body is not None and self.body not in get_args(BodyFault):
            raise ValueError(f"body must be one of {get_args(BodyFault)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for until cleared)")
        if self.after < 0:
            raise ValueError("after must not be negative")
        if self.after_effect and self.status is None:
            raise ValueError("after_effect needs a status to answer after the effect")

    @classmethod
    def from_json(cls, data: Any) -> "Fault":
        """Build a fault from the control API's JSON, refusing wrong types with ValueError."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        endpoint = data.get("endpoint")
        if not isinstance(endpoint, str):
            raise ValueError('"endpoint" must be a string like "POST /ride"')
        return cls(
            endpoint=endpoint,
            status=_optional_int(data, "status"),
            delay_ms=_optional_int(data, "delay_ms") or 0,
            body=cast(BodyFault | None, data.get("body")),
            pending_forever=_flag(data, "pending_forever"),
            times=_optional_int(data, "times"),
            after=_optional_int(data, "after") or 0,
            after_effect=_flag(data, "after_effect"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """What the fault does to a call, e.g. ``delay 800 ms, status 500``."""
        effects = [
            f"delay {self.delay_ms} ms" if self.delay_ms else "",
            f"status {self.status}{' after effect' if self.after_effect else ''}"
            if self.status is not None
            else "",
            f"body {self.body}" if self.body is not None else "",
            "pending forever" if self.pending_forever else "",
        ]
        return ", ".join(effect for effect in effects if effect) or "no effect"


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    # bool is an int subclass, but `true` is never a meaningful status, delay or count.
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f'"{key}" must be an integer or null')


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f'"{key}" must be a boolean')
    return value


class FaultBook:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Arm a copy: the book spends its ``times`` and ``after``, never the caller's object,
        so one ``Fault`` (a test's parameter, say) arms the same fault every time it is added."""
        self._faults.append(replace(fault))

    def clear(self) -> None:
        self._faults.clear()

    def active(self) -> list[Fault]:
        return list(self._faults)

    def take(self, endpoint: str) -> Fault | None:
        """The fault for one call of the endpoint (the newest that is not waiting), spending one
        of its ``times``; every fault still waiting counts the call against its ``after``."""
        chosen: Fault | None = None
        for fault in reversed(self._faults):
            if fault.endpoint != endpoint:
                continue
            if fault.after:
                fault.after -= 1
            elif chosen is None:
                chosen = fault
        if chosen is not None and chosen.times is not None:
            chosen.times -= 1
            if chosen.times == 0:
                self._faults.remove(chosen)
        return chosen


def decode_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    try:
        if content_type == BSON:
            return bson.decode(raw)
        return json.loads(raw)
    except (ValueError, InvalidBSON):
        return raw


def mangle_body(raw: bytes, content_type: str, kind: BodyFault) -> bytes:
    """The answer body as the fault wants it; the status and headers stay the handler's."""
    if kind == "malformed":
        return GARBAGE
    if kind == "truncated":
        return raw[: len(raw) // 2]
    decoded = decode_body(raw, content_type)
    if decoded is None or isinstance(decoded, bytes):
        return raw
    spoiled = _FIELD_FAULTS[kind](decoded)
    if content_type == BSON:
        return bson.encode(spoiled)
    return json.dumps(spoiled).encode()


def _blank_strings(value: Any) -> Any:
    if isinstance(value, str):
        return ""
    if isinstance(value, dict):
        return {key: _blank_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blank_strings(item) for item in value]
    return value


def _null_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _null_fields(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_null_fields(item) for item in value]
    return None


def _remove_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _remove_fields(item)
            for key, item in value.items()
            if isinstance(item, dict | list)
        }
    if isinstance(value, list):
        return [_remove_fields(item) for item in value if isinstance(item, dict | list)]
    return value


_FIELD_FAULTS = {
    "empty_fields": _blank_strings,
    "null_fields": _null_fields,
    "missing_fields": _remove_fields,
}


@dataclass(frozen=True, slots=True)
class FaultRecipe:
    """A fault together with the rides around it that reproduce one untidy-state case."""

    name: str
    section: str
    """The simulator that takes the fault (its settings section name)."""
    fault: Fault
    steps: tuple[str, ...]


# docs/design.md §3a "Never adopt another order's meter ride": order-core fails the order read
# of one finish-ride, so a started ride stays open on the meter; the same driver's next order
# is then answered that ride by the vendor's idempotent start.
STALE_METER_RIDE = FaultRecipe(
    name="stale_meter_ride",
    section="order_core",
    fault=Fault("POST /internal/processing/v1/order-proc/get-fields", status=500, times=1),
    steps=(
        "start order A's meter ride (started)",
        "add the fault, then finish A: 502 order_core_error, A's meter ride stays open",
        "start order B of the same driver and car: the vendor answers A's ride, B falls back "
        "with stale_meter_ride and is not written; A's ride is left alone",
        "finish B: 409 meter_ride_not_found, the vendor not called; finish A: 200 at A's price",
    ),
)
