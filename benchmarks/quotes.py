"""Quoted and forwarded history removal measured on blind writers' labelled sets (issue 11).

    python3 benchmarks/quotes.py                       # every set in tests/data/quotes, per language
    python3 benchmarks/quotes.py --json
    python3 benchmarks/quotes.py tests/data/quotes/writer-2.jsonl

Each item of tests/data/quotes/*.jsonl was written by a helper who never saw our code, from a brief that asked
for replies and forwards as each language's mail clients write them (Gmail, Outlook desktop and web, Apple
Mail, Thunderbird, iPhone, forwards of forwards...), hard cases whose newest text only looks like history
("To: all store managers", "Od:" inside a list, a colon-ended sentence with a date) and controls with no
history at all. ``body`` is the text part as received, ``new`` what the sender wrote now (a prefix of body).

``classifiers.newest_text.newest_text`` is applied to ``body`` and compared with the same function applied to
``new`` alone (so that its signature removal, measured apart in benchmarks/signatures.py, counts the same on
both sides):

* exact = the two are equal;
* leaked = a line of the history (15 characters or more, not also in ``new``) is in the output;
* lost = a line (15 characters or more) of the newest text is missing from the output;
* over-removal = of the items with no history, the share where anything changed;
* read through = items whose new text only points at the forward below ("Ter info, dit kwam binnen van de
  drukker."), read with what it forwards as designed: exact when the output is that text, then the forward.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent))

from classifiers.newest_text import newest_text  # noqa: E402

DATA = Path(__file__).parent.parent / "tests" / "data" / "quotes"
_LONG = 15  # shorter lines ("Thanks", "> ok") are too common in both parts to tell anything


def load(paths: list[Path] | None = None) -> list[dict[str, Any]]:
    """Every item of the given JSONL files (default: every set in tests/data/quotes)."""
    files = paths or sorted(DATA.glob("*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text(encoding="utf-8").splitlines() if line]


def judge(item: dict[str, Any]) -> dict[str, bool]:
    """exact / leaked / lost / has_history for one item."""
    body, new = item["body"], item["new"]
    history = body.strip()[len(new.strip()):]
    got, wanted = newest_text(body), newest_text(new)
    history_lines = [line.strip() for line in history.split("\n") if len(line.strip()) >= _LONG]
    history_lines = [line for line in history_lines if line not in new]
    new_lines = [line.strip() for line in wanted.split("\n") if len(line.strip()) >= _LONG]
    # read through: the new text, then only what the history holds (a forward under a pointer, by design)
    through = bool(history.strip()) and got.startswith(f"{wanted}\n\n") and all(
        line.strip() in history for line in got[len(wanted):].split("\n"))
    seen = got[len(wanted):] if through else got
    return {"exact": got == wanted or through, "leaked": any(line in seen for line in history_lines) and not through,
            "lost": any(line not in got for line in new_lines), "has_history": bool(history.strip()),
            "through": through}


def measure(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-language figures."""
    groups: dict[str, list[dict[str, bool]]] = defaultdict(list)
    for item in items:
        verdict = judge(item)
        groups["all"].append(verdict)
        groups[item.get("language", "?")].append(verdict)
    return {name: _figures(verdicts) for name, verdicts in groups.items()}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(verdicts: list[dict[str, bool]]) -> dict[str, Any]:
    with_history = [v for v in verdicts if v["has_history"]]
    controls = [v for v in verdicts if not v["has_history"]]
    return {
        "items": len(verdicts),
        "with_history": len(with_history),
        "exact": share(sum(v["exact"] for v in with_history), len(with_history)),
        "leaked": share(sum(v["leaked"] for v in with_history), len(with_history)),
        "lost": share(sum(v["lost"] for v in verdicts), len(verdicts)),
        "controls": len(controls),
        "over_removal": share(sum(not v["exact"] for v in controls), len(controls)),
        "read_through": sum(v["through"] for v in with_history),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(load(args.files or None))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{'language':10} {'items':>5} {'history':>7} {'exact':>6} {'leaked':>6} {'lost':>6} "
          f"{'controls':>8} {'over-removal':>12} {'read through':>12}")
    for name in ["all"] + sorted(name for name in figures if name != "all"):
        row = figures[name]
        cells = [row[key] if row[key] is not None else "-" for key in
                 ("items", "with_history", "exact", "leaked", "lost", "controls", "over_removal", "read_through")]
        print(f"{name:10} {cells[0]:>5} {cells[1]:>7} {cells[2]:>6} {cells[3]:>6} {cells[4]:>6} {cells[5]:>8} "
              f"{cells[6]:>12} {cells[7]:>12}")


if __name__ == "__main__":
    main()
