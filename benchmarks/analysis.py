"""Analysis benchmark (issue 14): tokenising, classifying and entity extraction per message, and parsing.

    python3 benchmarks/analysis.py [--count 640] [--distinct 20000]

Reports, for realistic messages (benchmarks/mailgen.py) parsed and cut to their newest text:
`make_doc` calls per message, spaCy lexemes created per message (each one a `Vocab._new_lexeme`),
analysis msgs/s (classification + phrase rules + entities), parse msgs/s (both per CPU second); then the RSS growth and
vocabulary size through N distinct messages full of words never seen before (must stay bounded),
and the peak RSS of parse + analysis of one big message (in a fresh process).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

import responders  # noqa: E402, F401  (registers the routing conditions and actions rules.yaml names)
from benchmarks.mailgen import messages  # noqa: E402
from classifiers import entities  # noqa: E402
from classifiers.categorize import Categorizer  # noqa: E402
from classifiers.newest_text import newest_text  # noqa: E402
from foundation.message import parse_message  # noqa: E402
from foundation.rules import default_rules_path, load_rules  # noqa: E402

TODAY = date(2026, 11, 23)


def analyse(categorizer: Categorizer, subject: str, text: str) -> Any:
    """The pipeline's call: one `analyse` now, `judge` + `extract` before it existed."""
    if hasattr(categorizer, "analyse"):
        return categorizer.analyse(subject, text, today=TODAY)
    return categorizer.judge(subject, text), entities.extract(subject, text, today=TODAY)


def vocabularies(categorizer: Categorizer) -> list[Any]:
    """Every spaCy vocabulary the analysis may grow (the model's, the phrase rules', the entity matcher's)."""
    found = [getattr(categorizer.base, "nlp", None), categorizer.phrase_rules.phrases.nlp,
             getattr(entities, "_nlp", None)]
    unique: dict[int, Any] = {}
    for nlp in found:
        if nlp is not None:
            unique[id(nlp.vocab)] = nlp.vocab
    return list(unique.values())


def lexemes_created(vocabs: list[Any]) -> int:
    # Vocab.length counts every _new_lexeme, transient ones included (a zone's exit does not lower it).
    return sum(len(v) for v in vocabs)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def throughput(count: int) -> dict[str, Any]:
    raw = messages(count, seed=7)
    started = time.process_time()  # CPU seconds: the machine may be shared, and this is one thread's work
    parsed = [parse_message(r) for r in raw]
    parse_seconds = time.process_time() - started
    items = [(p.subject, newest_text(p.text, html=p.html or None, subject=p.subject)) for p in parsed]
    categorizer = Categorizer(load_rules(default_rules_path()))
    analyse(categorizer, "warm up", "warm up the model")
    vocabs = vocabularies(categorizer)
    before = lexemes_created(vocabs)
    profile = cProfile.Profile()
    profile.enable()
    for subject, text in items:
        analyse(categorizer, subject, text)
    profile.disable()
    make_doc = sum(stat[1] for func, stat in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
                   if func[2] == "make_doc")
    started = time.process_time()
    for subject, text in items:
        analyse(categorizer, subject, text)
    unprofiled = time.process_time() - started
    return {"messages": count, "parse_msgs_per_s": round(count / parse_seconds, 1),
            "make_doc_per_msg": round(make_doc / count, 2),
            "lexemes_created_per_msg": round((lexemes_created(vocabs) - before) / count, 1),
            "analysis_msgs_per_s": round(count / unprofiled, 1)}


def unseen_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(n))


def bounded(distinct: int) -> dict[str, Any]:
    """RSS and vocabulary through `distinct` messages each with 40 words never seen before."""
    categorizer = Categorizer(load_rules(default_rules_path()))
    rng = random.Random(14)
    vocabs = vocabularies(categorizer)
    analyse(categorizer, "warm up", "Please change the invoice INV-4471 by Friday")
    start_rss, start_strings = rss_mb(), sum(len(v.strings) for v in vocabs)
    marks = []
    for number in range(1, distinct + 1):
        analyse(categorizer, f"Job {number}", f"Please change {unseen_words(rng, 40)} by Friday, invoice "
                f"INV-{number} for EUR {number}.00")
        if number % (distinct // 4) == 0:
            marks.append(round(rss_mb() - start_rss, 1))
    vocabs = vocabularies(categorizer)  # the model may have been loaded afresh (model.renew_if_worn)
    return {"distinct_messages": distinct, "rss_growth_mb_at_quarters": marks,
            "strings_growth": sum(len(v.strings) for v in vocabs) - start_strings}


def big_message() -> dict[str, Any]:
    """Peak RSS of a fresh process (VmHWM, reset after loading the model) that reads, parses and analyses one
    30 MB message."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.eml"
        path.write_bytes(messages(0, big=1)[0])
        code = (
            f"import sys, json; sys.path.insert(0, {str(ROOT)!r})\n"
            "from benchmarks.analysis import analyse\n"
            "from classifiers.categorize import Categorizer\n"
            "from classifiers.newest_text import newest_text\n"
            "from foundation.message import parse_message\n"
            "from foundation.rules import default_rules_path, load_rules\n"
            "c = Categorizer(load_rules(default_rules_path())); analyse(c, 'warm', 'up')\n"
            "open('/proc/self/clear_refs', 'w').write('5')\n"  # the peak so far (the fork's included) is forgotten
            "hwm = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
            "base = hwm()\n"
            f"raw = open({str(path)!r}, 'rb').read()\n"
            "p = parse_message(raw); del raw\n"
            "analyse(c, p.subject, newest_text(p.text, html=p.html or None, subject=p.subject))\n"
            "peak = hwm()\n"
            "print(json.dumps({'before_mb': round(base / 1024), 'peak_mb': round(peak / 1024)}))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {"big_message_mb": 30, **json.loads(out)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=640)
    parser.add_argument("--distinct", type=int, default=20000)
    args = parser.parse_args()
    print(json.dumps(throughput(args.count)))
    print(json.dumps(big_message()))
    print(json.dumps(bounded(args.distinct)))


if __name__ == "__main__":
    main()
