"""Rewriting one generated block of docs/benchmarks.md, leaving the hand-written text alone."""

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def replace_block(name: str, text: str, path: Path = DOCS) -> None:
    """Put ``text`` between ``<!-- bench:NAME:begin -->`` and ``<!-- bench:NAME:end -->``.

    A document without the markers gets the block appended at its end.
    """
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in document and end in document:
        head, _, rest = document.partition(begin)
        _, _, tail = rest.partition(end)
        document = head + block + tail
    else:
        document = document.rstrip() + ("\n\n" if document else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
