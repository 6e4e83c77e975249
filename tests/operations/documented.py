"""What the README and docs/ write for a person to run: the code spans and code-block lines
that are PromQL queries, jq log filters or ``meters-integration-api`` commands, each with the
document and the section it is written in (so a failing one is found where it is read)."""

import re
from dataclasses import dataclass
from pathlib import Path

from gateway.broker.redis_streams import CONSUMER_GROUP
from tests.operations.artifacts import ROOT

PROGRAM = "meters-integration-api"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A fenced block, indented inside a list item or not.
_FENCE = re.compile(r"^[ \t]*```[a-z]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
# ``a `quoted` word`` spans: prose that quotes a backtick, never a query.
_DOUBLE_SPAN = re.compile(r"``.+?``", re.DOTALL)
# A span may wrap onto the next line of its paragraph, never across a blank line.
_SPAN = re.compile(r"`((?:[^`\n]|\n(?![ \t]*\n))+)`")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
# A metric name alone (`meters_broker_up`), or an aggregation or function over metrics (an age
# from a timestamp, `time() - max(...)`, included).
_PROMQL = re.compile(
    r"^(meters_[a-z_]+(\{[^}]*\})?$|(sum|max|min|count|histogram_quantile|time)\b.*meters_)"
)
# A Redis command a page writes: through redis-cli, or the command alone (`XLEN <queue>`).
_REDIS = re.compile(r"^(redis-cli |(XLEN|XPENDING) )")
# Spans that read like a metric name and are none: the consumer group (docs/production.md).
NOT_METRICS = {CONSUMER_GROUP}


@dataclass(frozen=True, slots=True)
class Written:
    """One query or command as a document writes it."""

    document: str
    section: str
    text: str

    def __str__(self) -> str:
        return f"{self.document} § {self.section}: {self.text}"


def is_promql(span: str) -> bool:
    return bool(_PROMQL.match(span)) and span not in NOT_METRICS


def is_jq_filter(span: str) -> bool:
    # not the page's illustration of how to run one (`… | jq -c 'select(…)'`)
    return "select(" in span and "| jq" not in span


def spans(document: Path) -> list[Written]:
    """Every inline code span of the document (outside code blocks), its whitespace (a line
    break where it wraps) made single spaces."""
    text = _DOUBLE_SPAN.sub("", _FENCE.sub("", document.read_text()))
    return [
        Written(document.name, section, " ".join(span.split()))
        for section, body in _sections(text)
        for span in _SPAN.findall(body)
    ]


def block_lines(document: Path) -> list[Written]:
    """Every line of the document's code blocks, a line continued by a backslash joined to the
    next."""
    text = document.read_text()
    # A block's `# comment` line is no heading: the headings are those of the text without them.
    headings = [
        (heading.start(), heading.group(1)) for heading in _HEADING.finditer(_blanked(text))
    ]
    return [
        Written(document.name, _section_at(headings, block.start()), line)
        for block in _FENCE.finditer(text)
        for line in block.group(1).replace("\\\n", " ").splitlines()
    ]


def _blanked(text: str) -> str:
    """The text with each code block's characters made spaces, every offset kept."""
    return _FENCE.sub(lambda block: re.sub(r"[^\n]", " ", block.group(0)), text)


def _section_at(headings: list[tuple[int, str]], position: int) -> str:
    return next((title for start, title in reversed(headings) if start < position), "")


def _sections(text: str) -> list[tuple[str, str]]:
    """The text under each heading, by the heading's title ("" before the first)."""
    parts = _HEADING.split(text)
    return [("", parts[0]), *zip(parts[1::2], parts[2::2], strict=True)]


def documented_promql() -> list[Written]:
    return sorted(
        {span for document in DOCUMENTS for span in spans(document) if is_promql(span.text)},
        key=str,
    )


def documented_jq_filters() -> list[Written]:
    return sorted(
        {span for document in DOCUMENTS for span in spans(document) if is_jq_filter(span.text)},
        key=str,
    )


def documented_redis_commands() -> list[Written]:
    """The Redis commands the docs write; not prose that elides its arguments (`XPENDING …
    IDLE`)."""
    return sorted(
        {
            span
            for document in DOCUMENTS
            for span in spans(document)
            if _REDIS.match(span.text) and "…" not in span.text
        },
        key=str,
    )


def documented_commands() -> list[Written]:
    """Every ``meters-integration-api …`` line, in a span or a code block, its trailing comment
    dropped."""
    found = set()
    for document in DOCUMENTS:
        for candidate in [*spans(document), *block_lines(document)]:
            command = candidate.text.split("  #", 1)[0].split(" # ", 1)[0].strip()
            if command.startswith(PROGRAM + " "):
                found.add(Written(candidate.document, candidate.section, command))
    return sorted(found, key=str)
