"""The engine README's operator table, generated from the engine and the conformance table.

Every stage, query operator, expression operator and accumulator the engine supports is listed
with the manual pages its conformance cases come from; every name it refuses, with the reason.
test_operator_table.py checks that the README holds exactly this table. To regenerate it:

    .venv/bin/python -m tests.unit.filters.operator_table --write
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from services.filters.engine import (
    REFUSED,
    SUPPORTED_ACCUMULATORS,
    SUPPORTED_EXPRESSION_OPERATORS,
    SUPPORTED_QUERY_OPERATORS,
    SUPPORTED_STAGES,
)
from tests.unit.filters.conformance_cases import CASES, MANUAL
from tests.unit.filters.operators_used import Used

README = Path(__file__).resolve().parents[3] / "services" / "filters" / "engine" / "README.md"
START = "<!-- operator-table:start (generated: python -m tests.unit.filters.operator_table) -->"
END = "<!-- operator-table:end -->"
KINDS = ("stage", "query", "expression", "accumulator")


def sources_by_operator() -> dict[tuple[str, str], set[str]]:
    """(kind, name) -> the manual pages of the cases that use it."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case in CASES:
        used = Used()
        used.pipeline(case.pipeline)
        for kind, names in used.by_kind().items():
            for name in names:
                found[(kind, name)].add(case.source)
    return found


def _label(url: str) -> str:
    return url.removeprefix(MANUAL).strip("/").split("/")[-1] or url


def _page(url: str) -> str:
    return f"[{_label(url)}]({url})"


def own_pages(name: str, urls: set[str]) -> list[str]:
    """The operator's own manual page(s) among the pages its cases cite ($first has
    first-array-element and first, $count count and count-accumulator); when it is only
    exercised by other pages' examples, those pages."""
    bare = name.lstrip("$")
    own = [url for url in urls if _label(url).split("-")[0] == bare]
    return sorted(own or urls)


def rows() -> list[tuple[str, str, str, str]]:
    supported = {
        "stage": SUPPORTED_STAGES,
        "query": SUPPORTED_QUERY_OPERATORS,
        "expression": SUPPORTED_EXPRESSION_OPERATORS,
        "accumulator": SUPPORTED_ACCUMULATORS,
    }
    sources = sources_by_operator()
    table = []
    for kind in KINDS:
        for name in sorted(supported[kind], key=str.lower):
            urls = own_pages(name, sources.get((kind, name), set()))
            pages = ", ".join(_page(url) for url in urls)
            table.append((f"`{name}`", kind, "supported", pages))
    for (kind, name), reason in sorted(REFUSED.items(), key=lambda item: item[0][1].lower()):
        table.append((f"`{name}`", kind, f"refused: {reason}", ""))
    return table


def render() -> str:
    lines = [
        START,
        "| name | kind | status | manual pages of its conformance cases |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {kind} | {status} | {pages} |" for name, kind, status, pages in rows()]
    lines.append(END)
    return "\n".join(lines)


def readme_table(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def main(argv: list[str]) -> int:
    table = render()
    if argv[1:] == ["--write"]:
        text = README.read_text()
        README.write_text(text.replace(readme_table(text), table))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
