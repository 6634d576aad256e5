"""Admit new labelled examples into the corpus only after checking them.

Each check is one a careless fold would miss: a line that does not parse or has an unknown
label, an id or a body already in the corpus (duplicates inflate the held-out score), and a body
copied from an eval set (which would make every eval figure a lie).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from classifiers import CATEGORIES
from classifiers.evalsets import EVAL_SETS


def body_key(text: str) -> str:
    """Two bodies are duplicates when they differ only in case, spacing and punctuation."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def read_jsonl(path: Path) -> tuple[list[dict], list[str]]:
    """Every well-formed example of a file, and a FILE:LINE problem for every other line."""
    items, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not JSON: {exc.msg}")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("body"), str) or not item.get("id"):
            problems.append(f"{path}:{number}: needs an id and a body")
        elif item.get("label") not in CATEGORIES:
            problems.append(f"{path}:{number}: unknown label {item.get('label')!r}")
        elif not item["body"].strip():
            problems.append(f"{path}:{number}: empty body")
        else:
            items.append(item)
    return items, problems


def eval_bodies(directories: Iterable[Path]) -> set[str]:
    """The bodies of every message of the eval folders, by body_key, never to be trained on."""
    from foundation.message import parse_message

    keys = set()
    for directory in directories:
        for path in sorted((directory / "mail").glob("*")):
            parsed = parse_message(path.read_bytes())
            keys.add(body_key(parsed.text or ""))
    keys.discard("")
    return keys


def admit(new: list[dict], *, known_ids: set[str], known_bodies: set[str],
          forbidden: set[str]) -> tuple[list[dict], list[str]]:
    """The examples that pass, and why each other one was refused. Updates the known sets."""
    kept, refused = [], []
    for item in new:
        key = body_key(item["body"])
        if item["id"] in known_ids:
            refused.append(f"{item['id']}: id already in the corpus")
        elif key in known_bodies:
            refused.append(f"{item['id']}: duplicate body")
        elif key in forbidden or any(len(key) > 80 and key in other for other in forbidden):
            refused.append(f"{item['id']}: body of an eval message")
        else:
            kept.append(item)
            known_ids.add(item["id"])
            known_bodies.add(key)
    return kept, refused


CORPUS = Path(__file__).parent / "data" / "corpus"
EVAL_DIRS = tuple(EVAL_SETS.values())


def fold(sources: list[Path], *, writer: str, corpus: Path = CORPUS,
         eval_dirs: Iterable[Path] = EVAL_DIRS) -> tuple[int, list[str]]:
    """Check `sources` against the corpus and the eval sets; write what passes to writer-NAME.jsonl.

    The file is rewritten whole from the sources every time, so folding again after more batches
    arrive is safe. Returns how many examples it holds, and the problems found.
    """
    target = corpus / f"writer-{writer}.jsonl"
    known_ids: set[str] = set()
    known_bodies: set[str] = set()
    for path in sorted(corpus.glob("*.jsonl")):
        if path != target:
            items, _ = read_jsonl(path)
            known_ids |= {i["id"] for i in items}
            known_bodies |= {body_key(i["body"]) for i in items}
    forbidden = eval_bodies(d for d in eval_dirs if (d / "mail").is_dir())
    kept, problems = [], []
    for source in sources:
        items, bad = read_jsonl(source)
        passed, refused = admit(items, known_ids=known_ids, known_bodies=known_bodies, forbidden=forbidden)
        kept += passed
        problems += bad + [f"{source}: {r}" for r in refused]
    fields = ("id", "label", "lang", "subject", "body", "tags")
    lines = [json.dumps({f: item.get(f, "" if f != "tags" else []) for f in fields}, ensure_ascii=False)
             for item in kept]
    target.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(kept), problems


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="check and fold one writer's examples into the corpus")
    parser.add_argument("writer")
    parser.add_argument("sources", type=Path, nargs="+")
    args = parser.parse_args()
    count, found = fold(args.sources, writer=args.writer)
    for problem in found:
        print(problem)
    print(f"writer-{args.writer}.jsonl: {count} examples, {len(found)} refused or malformed")
