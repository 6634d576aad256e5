"""The labelled texts the classifier is measured on, as the model sees them (subject, newest text).

Three sources: the corpus's held-out split, an eval folder (DIR/mail/*.eml + DIR/labels.csv, the
`liaison eval` format) and one writer's corpus file. Reading them here, without the pipeline, lets
training, calibration and reproducibility checks score thousands of texts in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from classifiers.model import Example_, load_corpus, split
from classifiers.newest_text import newest_of

_DATA = Path(__file__).parent.parent / "tests" / "data"
# The project's eval folders, by the name `liaison eval` reports them under; the independent ones were
# written blind, never trained or tuned on, and the corpus may hold none of their bodies (corpus_check).
EVAL_SETS = {name: _DATA / name for name in ("eval", "eval-independent", "eval-independent-2", "eval-independent-3",
                                             "eval-independent-4", "eval-independent-5", "eval-independent-6",
                                             "eval-independent-7", "eval-independent-8",
                                             "eval-independent-9", "eval-independent-10", "eval-independent-11",
                                             "eval-independent-12")}


@dataclass(frozen=True)
class LabelledText:
    id: str
    subject: str
    text: str  # the newest text, as the pipeline hands it to the classifier
    label: str


def held_out_texts(examples: list[Example_] | None = None) -> list[LabelledText]:
    held = split(examples if examples is not None else load_corpus())[1]
    return corpus_texts(held)


def corpus_texts(examples: list[Example_]) -> list[LabelledText]:
    return [LabelledText(e.id, *e.as_read(), e.label) for e in examples]


def eval_dir_texts(directory: Path) -> list[LabelledText]:
    """Every labelled message of an eval folder, parsed the way the pipeline parses it."""
    from classifiers.evaluate import read_labels
    from foundation.message import parse_message

    items = []
    for item in read_labels(directory):
        parsed = parse_message((directory / "mail" / item.file).read_bytes())
        newest = newest_of(parsed)
        items.append(LabelledText(item.file, parsed.subject, newest, item.category))
    return items
