"""Request bodies checked against the OpenAPI document kept in the repo (the source of truth).

One engine does it all: jsonschema-rs, compiled once per operation from the document, accepts
a body and words the 400 answer when it refuses one. It compares the ``Decimal`` numbers the
body is decoded into exactly, so decimals are judged by value (``42.240`` and ``4.224e1`` are
two decimals, ``1e-3`` is three). Before it, the decoder refuses what no schema can state
(docs/design.md §6): JSON nested deeper than ``MAX_JSON_DEPTH`` and numbers further from 1 than
``MAX_NUMBER_EXPONENT`` decimal places, which no JSON library writes from a float.
A well-formed body costs one decode and one validation.
"""

import json
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any, NoReturn

import jsonschema_rs
import yaml

from gateway.http.error_catalog import Refusal
from gateway.http.errors import InputRefused
from gateway.http.limits import MAX_JSON_DEPTH, MAX_NUMBER_EXPONENT

OPENAPI_RESOURCE = "openapi.yaml"
# An integer literal longer than this is decoded as a Decimal: jsonschema-rs 0.60 compares
# integers beyond 64 bits wrongly (-10**308 passes "minimum: 0"), Decimals exactly.
_MAX_INTEGER_DIGITS = 18
# Longer validator messages are cut: they quote the value, which may be anything.
_MAX_MESSAGE = 200
# A number literal this short and without an exponent cannot reach MAX_NUMBER_EXPONENT.
_SHORT_NUMBER = 24


class InvalidRequest(InputRefused):
    """The body does not match the spec; the message says what is wrong, for the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(Refusal.INVALID_REQUEST, message)


class _NumberOutOfRange(ValueError):
    pass


class _DuplicateKey(ValueError):
    pass


def openapi_text() -> str:
    return files("gateway.http").joinpath(OPENAPI_RESOURCE).read_text(encoding="utf-8")


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(openapi_text())
    return spec


@cache
def _request_body(operation_id: str) -> dict[str, Any]:
    for path_item in _spec()["paths"].values():
        for operation in path_item.values():
            if operation.get("operationId") == operation_id:
                body: dict[str, Any] = operation["requestBody"]
                return body
    raise KeyError(operation_id)


@cache
def body_media_types(operation_id: str) -> frozenset[str]:
    """The media types the document lets this operation's body have (parameters aside)."""
    return frozenset(_request_body(operation_id)["content"])


@cache
def _validator(operation_id: str) -> jsonschema_rs.Validator:
    schema = _request_body(operation_id)["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": _spec()["components"]})


def parse_body(operation_id: str, raw: bytes) -> dict[str, Any]:
    """Decode JSON with exact decimals and validate it; InvalidRequest says what is wrong."""
    body = _decode(raw)
    validator = _validator(operation_id)
    if validator.is_valid(body):
        assert isinstance(body, dict)  # the schemas of request bodies are objects
        return body
    problem = next(validator.iter_errors(body))
    where = "/".join(str(part) for part in problem.instance_path) or "body"
    raise InvalidRequest(f"{where}: {_describe(problem)}")


def _decode(raw: bytes) -> Any:
    # Only a body with more than MAX_JSON_DEPTH brackets can be nested that deep: the count is
    # one C pass over at most 64 KiB, and a well-formed body never needs the walk after it.
    may_be_deep = raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    try:
        body = json.loads(
            raw,
            parse_float=_bounded_decimal,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:
        raise InvalidRequest(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except _NumberOutOfRange:
        raise InvalidRequest("a number is out of range") from None
    except _DuplicateKey as duplicate:
        raise InvalidRequest(f"body has the key {duplicate} more than once") from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise InvalidRequest(f"body is not valid JSON: {error}") from None
    if may_be_deep and _depth(body) > MAX_JSON_DEPTH:
        raise InvalidRequest(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    # A lone surrogate can only arrive escaped ("\\udfff"): raw UTF-8 cannot encode one. Such a
    # str is not Unicode text, and every later step (the validator, the task's message, a log
    # line, an upstream's JSON) would choke on it, so it is refused here, whatever field holds it.
    if b"\\u" in raw and not _is_unicode_text(body):
        raise InvalidRequest("body holds a string that is not valid Unicode")
    return body


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key makes the text ambiguous: parsers disagree on which value wins, so the
    # caller and we might not mean the same order.
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            # ASCII-escaped and cut: the key is the caller's, of any length and content.
            raise _DuplicateKey(json.dumps(key)[:_MAX_MESSAGE])
        seen.add(key)
    return dict(pairs)


def _is_unicode_text(body: Any) -> bool:
    try:
        json.dumps(body, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:
        return False
    return True


def _depth(value: Any) -> int:
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _bounded_decimal(literal: str) -> Decimal:
    value = Decimal(literal)
    if (len(literal) > _SHORT_NUMBER or "e" in literal or "E" in literal) and abs(
        value.adjusted()
    ) > MAX_NUMBER_EXPONENT:
        raise _NumberOutOfRange(literal)
    return value


def _bounded_int(literal: str) -> int | Decimal:
    if len(literal) > _MAX_INTEGER_DIGITS:
        return _bounded_decimal(literal)
    return int(literal)


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _describe(error: jsonschema_rs.ValidationError) -> str:
    # Worded without the offending value: it may be 64 KiB long, or not text at all.
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MultipleOf):
        return "at most 2 decimals are allowed"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinLength):
        return "should be non-empty" if kind.limit == 1 else f"is shorter than {kind.limit}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MaxLength):
        return f"is longer than {kind.limit} characters"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        return f"does not match {kind.pattern}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        return f"is not of type {' or '.join(kind.types)}"
    return str(error.message)[:_MAX_MESSAGE]
