"""How start-ride tasks ended, read from the gateway's own metric, as an operator would see it."""

from collections import Counter

from gateway.metrics import RIDES_STARTED

Outcome = tuple[str, str]
"""The task's result and reason labels."""


def counted_outcomes() -> Counter[Outcome]:
    counts: Counter[Outcome] = Counter()
    for metric in RIDES_STARTED.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                counts[(sample.labels["result"], sample.labels["reason"])] += int(sample.value)
    return counts


def outcome_since(before: Counter[Outcome]) -> Outcome:
    """The one outcome counted since ``before`` was read."""
    new = counted_outcomes() - before
    if sum(new.values()) != 1:
        return "unknown", f"{sum(new.values())} task outcomes counted"
    (outcome,) = new
    return outcome
