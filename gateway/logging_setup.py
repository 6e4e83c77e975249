"""JSON log lines on stdout, one event per step, for our events and for the libraries' alike.

Our own (structlog) events are rendered by structlog itself and written straight to the
stream: the stdlib route (a LogRecord, caller lookup, a copied record in ProcessorFormatter)
cost about four times as much per line, and finish-ride logs several lines per request.
Libraries' stdlib records still go through ``ProcessorFormatter``. Both routes run the same
processors, so a line reads the same whichever way it came; both mask the secrets and write
under the handler's lock, so lines never interleave.
"""

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

import structlog

REDACTED = "***"

_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_RENDERING: list[structlog.typing.Processor] = [
    structlog.processors.format_exc_info,
    structlog.processors.JSONRenderer(),
]

Redact = Callable[[str], str]


def _redactor(secrets: Iterable[str]) -> Redact:
    """Masks known secrets in a finished line, whatever put them there.

    Our own code never logs a token, but a third-party vendor plugin's exception
    message or a library's repr of a request might; the last line of defence is
    here, where every line passes.
    """
    # A secret with quotes or non-ASCII characters appears JSON-escaped in the line.
    forms = {form for secret in secrets if secret for form in (secret, _json_escaped(secret))}
    ordered = sorted(forms, key=len, reverse=True)

    def redact(line: str) -> str:
        for form in ordered:
            line = line.replace(form, REDACTED)
        return line

    return redact


class _RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """The stdlib route: libraries' records, rendered like our events and masked."""

    def __init__(
        self,
        redact: Redact,
        processors: Sequence[structlog.typing.Processor],
        foreign_pre_chain: Sequence[structlog.typing.Processor],
    ) -> None:
        super().__init__(processors=processors, foreign_pre_chain=foreign_pre_chain)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def _json_escaped(text: str) -> str:
    return json.dumps(text)[1:-1]


class _LineWriter:
    """structlog's route: writes the rendered line, masked, as one line of the stream."""

    __slots__ = ("_lock", "_redact", "_stream", "name")

    def __init__(self, name: str, stream: TextIO, lock: threading.RLock, redact: Redact) -> None:
        self.name = name  # read by add_logger_name, as a stdlib logger's would be
        self._stream = stream
        self._lock = lock
        self._redact = redact

    def msg(self, line: str) -> None:
        line = self._redact(line) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


class _LineWriterFactory:
    def __init__(self, stream: TextIO, lock: threading.RLock, redact: Redact) -> None:
        self._stream = stream
        self._lock = lock
        self._redact = redact

    def __call__(self, *args: Any) -> _LineWriter:
        # Every logger of ours is named: structlog.get_logger("gateway.<part>").
        name = str(args[0]) if args else ""
        return _LineWriter(name, self._stream, self._lock, self._redact)


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Route structlog and stdlib logging to JSON lines on stdout, masking ``secrets``."""
    redact = _redactor(secrets)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _RedactingFormatter(
            redact,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_RENDERING],
            foreign_pre_chain=_SHARED_PROCESSORS,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access lines repeat what our own finish-ride event already says.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    assert handler.lock is not None  # created by Handler.__init__
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, *_RENDERING],
        logger_factory=_LineWriterFactory(sys.stdout, handler.lock, redact),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
