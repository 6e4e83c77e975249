"""A start-ride task's arguments judged as start-ride's body is (docs/design.md §6), for entries
that did not come through our endpoint: another producer's, or one added by hand.

The endpoint refuses a bad ``order_id`` or ``task_id`` with 400; an entry in the stream holding
one is dead-lettered before it runs (``ReliableStreamBroker``), since running it could only
fail, on every delivery, at the first call or log line that meets the value.
"""

import json

from taskiq import TaskiqMessage

from gateway.http.request_validation import InvalidRequest, parse_body

START_RIDE = "startRide"


def malformed_arguments(message: TaskiqMessage) -> str | None:
    """What is wrong with the task's order and task ids, in the endpoint's 400 words; or None."""
    arguments = {"order_id": message.kwargs.get("order_id"), "task_id": message.task_id}
    try:
        # The stdlib writes any str, a lone surrogate included, as an ASCII escape the body
        # parser refuses as it would the caller's.
        parse_body(START_RIDE, json.dumps(arguments).encode())
    except InvalidRequest as refused:
        return refused.message
    return None
