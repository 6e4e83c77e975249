"""What a start-ride task's order id and task id may be: the rule start-ride's body states
(``OrderId`` and ``task_id`` in gateway/http/openapi.yaml, docs/design.md §6), for the broker to
judge entries that did not come through the endpoint: another producer's, or one added by hand.

The endpoint refuses a bad id with 400 (it validates the whole body against the document); an
entry in the stream holding one is dead-lettered before it runs, since running it could only
fail, on every delivery, at the first call or log line that meets the value. The words are the
endpoint's, and tests/test_request_validation.py holds the two judgements equal.
"""

import json
import re

ID_MAX_LENGTH = 128
ORDER_ID_PATTERN = "^[ -~]+$"
# Matched whole (fullmatch): Python's "$" would also match before a final newline.
_PRINTABLE_ASCII = re.compile("[ -~]+")


def malformed_ids(order_id: object, task_id: object) -> str | None:
    """What is wrong with the ids, in the endpoint's 400 words; or None."""
    if not _is_unicode_text([order_id, task_id]):
        # Checked first, as the endpoint's decoder does: a lone surrogate anywhere is no text.
        return "body holds a string that is not valid Unicode"
    for name, value, printable in (("order_id", order_id, True), ("task_id", task_id, False)):
        problem = _problem(value, printable)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _problem(value: object, printable: bool) -> str | None:
    if not isinstance(value, str):
        return "is not of type string"
    if not value:
        return "should be non-empty"
    if len(value) > ID_MAX_LENGTH:
        return f"is longer than {ID_MAX_LENGTH} characters"
    if printable and not _PRINTABLE_ASCII.fullmatch(value):
        return f"does not match {ORDER_ID_PATTERN}"
    return None


def _is_unicode_text(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:
        return False
    return True
