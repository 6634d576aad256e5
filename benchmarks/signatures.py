"""Signature and disclaimer removal measured on its own labelled set (issue 11).

    python3 benchmarks/signatures.py                 # the dev half (tune on this one only)
    python3 benchmarks/signatures.py --set test      # the test half (figures only, never its items)
    python3 benchmarks/signatures.py --set all --json
    python3 benchmarks/signatures.py --split /work/blind/sigs/signatures.jsonl   # (re)make dev/test

Each item of tests/data/signatures/*.jsonl has ``text`` (the newest text as received) and ``keep`` (the same
text with the signature, sign-off, mobile footer, disclaimers... deleted by a person who never saw our code).
``classifiers.newest_text.newest_text`` (what the pipeline runs) is applied to ``text`` and compared with
``keep``:

* lines: every non-blank line of ``text`` is "removed" by the gold (by us) when it is not found, unchanged,
  in ``keep`` (in our output), lines matched in order; a line cut in the middle ("Thanks, Anna" after a
  sentence) counts as removed;
* characters: the same over the non-space characters, aligned by difflib;
* precision of removal = of what we removed, the share that should have gone; recall of removal = of what
  should have gone, the share we removed; exact = output equals ``keep`` (trailing spaces and blank-line
  runs aside); over-removal = share of the items with nothing to remove where we removed anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from classifiers.newest_text import newest_text  # noqa: E402

DATA = Path(__file__).parent.parent / "tests" / "data" / "signatures"
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass
class Counts:
    """Removal counts over some items, in lines and in non-space characters."""

    items: int = 0
    exact: int = 0
    untouched_items: int = 0  # items where nothing should be removed
    over_removed: int = 0  # of those, the items where something was
    lines: list[int] = field(default_factory=lambda: [0, 0, 0])  # [removed by both, by us, by the gold]
    chars: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, other: Counts) -> None:
        self.items += other.items
        self.exact += other.exact
        self.untouched_items += other.untouched_items
        self.over_removed += other.over_removed
        self.lines = [a + b for a, b in zip(self.lines, other.lines, strict=True)]
        self.chars = [a + b for a, b in zip(self.chars, other.chars, strict=True)]

    def figures(self) -> dict[str, float | int | None]:
        def ratio(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "items": self.items,
            "line_precision": ratio(self.lines[0], self.lines[1]),
            "line_recall": ratio(self.lines[0], self.lines[2]),
            "char_precision": ratio(self.chars[0], self.chars[1]),
            "char_recall": ratio(self.chars[0], self.chars[2]),
            "exact": ratio(self.exact, self.items),
            "over_removal": ratio(self.over_removed, self.untouched_items),
            "lines_removed_wrongly": self.lines[1] - self.lines[0],
            "lines_left_in": self.lines[2] - self.lines[0],
        }


def load(name: str) -> list[dict]:
    names = ["dev", "test"] if name == "all" else [name]
    return [json.loads(line) for part in names for line in (DATA / f"{part}.jsonl").read_text().splitlines()
            if line.strip()]


def _tidy(text: str) -> str:
    return _BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


def _kept_lines(source: list[str], result: list[str]) -> set[int]:
    """Indices of ``source`` lines found, unchanged and in order, in ``result``."""
    matcher = SequenceMatcher(None, source, result, autojunk=False)
    return {block.a + offset for block in matcher.get_matching_blocks() for offset in range(block.size)}


def _kept_chars(source: str, result: str) -> set[int]:
    matcher = SequenceMatcher(None, source, result, autojunk=False)
    return {block.a + offset for block in matcher.get_matching_blocks() for offset in range(block.size)}


def score(item: dict, output: str) -> Counts:
    """The removal counts of one item."""
    text, keep = item["text"], item["keep"]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    gold = set(range(len(lines))) - _kept_lines(lines, [line.strip() for line in keep.split("\n") if line.strip()])
    ours = set(range(len(lines))) - _kept_lines(lines, [line.strip() for line in output.split("\n") if line.strip()])
    squeezed = "".join(text.split())
    positions = set(range(len(squeezed)))
    gold_chars = positions - _kept_chars(squeezed, "".join(keep.split()))
    our_chars = positions - _kept_chars(squeezed, "".join(output.split()))
    untouched = _tidy(keep) == _tidy(text)
    return Counts(
        items=1,
        exact=int(_tidy(output) == _tidy(keep)),
        untouched_items=int(untouched),
        over_removed=int(untouched and bool(ours or our_chars)),
        lines=[len(gold & ours), len(ours), len(gold)],
        chars=[len(gold_chars & our_chars), len(our_chars), len(gold_chars)],
    )


def measure(items: list[dict]) -> dict:
    """Overall and per-kind figures, and the ids of the items not matched exactly."""
    overall = Counts()
    per_kind: dict[str, Counts] = defaultdict(Counts)
    wrong: list[str] = []
    for item in items:
        counts = score(item, newest_text(item["text"]))
        overall.add(counts)
        for kind in item["kinds"] or ["(none)"]:
            per_kind[kind].add(counts)
        if not counts.exact:
            wrong.append(item["id"])
    return {
        "overall": overall.figures(),
        "kinds": {kind: per_kind[kind].figures() for kind in sorted(per_kind, key=lambda k: -per_kind[k].items)},
        "not_exact": wrong,
    }


def _cell(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(result: dict) -> str:
    columns = ["items", "line_precision", "line_recall", "char_precision", "char_recall", "exact", "over_removal"]
    heads = ["items", "line P", "line R", "char P", "char R", "exact", "over-removal"]
    rows = [["all", *(_cell(result["overall"][c]) for c in columns)]]
    rows += [[kind, *(_cell(figures[c]) for c in columns)] for kind, figures in result["kinds"].items()]
    widths = [max(len(row[i]) for row in [["kind", *heads], *rows]) for i in range(len(heads) + 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(["kind", *heads], widths, strict=True))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def split(source: Path) -> None:
    """Write dev.jsonl and test.jsonl (half each), stratified by kind and ordered by a fixed hash of the id:
    items are grouped by their rarest kind ("(none)" when nothing is removed), each group ordered by the
    SHA-256 of the id, and the concatenation dealt alternately to dev and test."""
    items = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    frequency: dict[str, int] = defaultdict(int)
    for item in items:
        for kind in item["kinds"]:
            frequency[kind] += 1

    def stratum(item: dict) -> str:
        return min(item["kinds"], key=lambda kind: (frequency[kind], kind)) if item["kinds"] else "(none)"

    ordered = sorted(items, key=lambda item: (stratum(item), hashlib.sha256(item["id"].encode()).hexdigest()))
    DATA.mkdir(parents=True, exist_ok=True)
    for name, part in (("dev", ordered[0::2]), ("test", ordered[1::2])):
        part = sorted(part, key=lambda item: item["id"])
        (DATA / f"{name}.jsonl").write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in part))
        print(f"{name}: {len(part)} items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--split", type=Path, metavar="JSONL", help="write dev.jsonl and test.jsonl from this file")
    parser.add_argument("--show", action="store_true", help="list the items not matched exactly (dev only)")
    args = parser.parse_args()
    if args.split:
        split(args.split)
        return
    result = measure(load(args.set))
    if args.json:
        print(json.dumps({"set": args.set, **result}, indent=2))
        return
    print(f"newest_text on tests/data/signatures/{args.set} ({result['overall']['items']} items)")
    print(table(result))
    if args.show and args.set == "dev":
        print("not exact:", " ".join(result["not_exact"]))


if __name__ == "__main__":
    main()
