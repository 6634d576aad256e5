"""The spaCy text classifier: trained on the project's own corpus, shipped, loaded offline.

Built from `spacy.blank("xx")` (nothing is downloaded); `textcat` components with exclusive
classes: one trained on every writer, and members each trained without a group of writers
(classifiers/training.py). Every member reads the same Doc; their calibrated probabilities are
averaged. One model alone is sure of its mistakes on mail unlike its writers'; models that did not
all see the same writers disagree there, and the average is less sure exactly where it should be.
`liaison train` rebuilds classifiers/model/ from classifiers/data/ reproducibly (fixed seed); the
shipped model is exactly what it produces.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from classifiers import CATEGORIES, MODEL_DIR, Classification, model_available
from classifiers.calibration import Calibration, request_probability
from classifiers.newest_text import newest_text
from classifiers.tokens import blank_nlp, prefix_doc

log = logging.getLogger("liaison.model")

DATA_DIR = Path(__file__).parent / "data" / "corpus"
HELD_OUT_SHARE = 0.2
SEED = 20261123
EPOCHS = 12
MAX_CHARS = 4000  # the newest text of a real request fits; beyond is noise and slows the model
RENEW_AFTER = 1_000_000  # words made and forgotten before the model is loaded afresh (`renew_if_worn`)


@dataclass(frozen=True)
class Example_:
    id: str
    subject: str
    body: str
    label: str
    lang: str
    tags: tuple[str, ...]
    writer: str = ""  # from the file name: writer-NAME.jsonl

    def as_read(self) -> tuple[str, str]:
        """(subject, newest text): what the classifier reads of this example, as the pipeline hands it over."""
        return self.subject, newest_text(self.body, subject=self.subject)


def model_text(subject: str, text: str) -> str:
    """What the model reads: the subject once, then the newest text, lower-cased and bounded."""
    return f"{subject}\n{text}"[:MAX_CHARS].lower()


def analysis_text(subject: str, text: str) -> str:
    """The one text a message is tokenised from (classifiers/categorize.py): the model's, before its bound.

    The phrase rules and entities read the whole of it; the model reads its first MAX_CHARS characters
    (`classifiers.tokens.prefix_doc`), so one tokenisation serves all three."""
    return f"{subject}\n{text}".lower()


def keep_vocabulary(nlp: Language) -> None:
    """Make a lexeme, outside any memory zone, for every string the model was trained with.

    Memory zones forget what is created inside them, which keeps a daemon's vocabulary bounded; but without
    this, the common words of every message would be created again in every zone. The corpus vocabulary
    (about 20,000 strings) stays resident; only words the corpus never had come and go with each message."""
    if nlp.vocab.in_memory_zone:  # type: ignore[attr-defined]
        return
    for string in list(nlp.vocab.strings):
        nlp.vocab[string]  # noqa: B018 - the lookup creates the lexeme


class TextcatClassifier:
    """The shipped spaCy model behind the Classifier interface."""

    name = "spacy-textcat"

    def __init__(self, path: Path = MODEL_DIR, *, calibrated: bool = True, renew_after: int = RENEW_AFTER) -> None:
        self.path: Path | None = path
        self.renew_after = renew_after
        self._load(path)
        self.calibration = Calibration.load(path) if calibrated else Calibration()

    @classmethod
    def from_nlp(cls, nlp: Language, calibration: Calibration | None = None) -> TextcatClassifier:
        """A model trained in this process (calibration folds, cross-writer checks), not loaded."""
        self = cls.__new__(cls)
        self.nlp, self.path, self.calibration = nlp, None, calibration or Calibration()
        self.renew_after, self._resident = RENEW_AFTER, len(nlp.vocab)
        return self

    def _load(self, path: Path) -> None:
        self.nlp = spacy.load(path)
        keep_vocabulary(self.nlp)
        self._resident = len(self.nlp.vocab)  # spaCy counts every lexeme it makes, forgotten ones too

    def renew_if_worn(self) -> None:
        """Load the model afresh once `renew_after` lexemes have been made and forgotten in memory zones.

        A zone forgets its words by marking their cells in spaCy's hash tables deleted; the cells are
        not all reused, and the tables double when full, so they grow with every new word ever seen, slowly
        (about 20 bytes a word). A fresh load starts them small again; its answers are the same."""
        if self.path is not None and len(self.nlp.vocab) - self._resident > self.renew_after:
            self._load(self.path)

    @staticmethod
    def available(path: Path = MODEL_DIR) -> bool:
        return model_available(path)

    # memory_zone: the strings of each message are forgotten afterwards. Without it spaCy's
    # vocabulary keeps every token it has ever seen, and a daemon grows without bound.
    def classify(self, subject: str, text: str) -> Classification:
        with self.nlp.memory_zone():
            return self._answers([self.nlp.make_doc(model_text(subject, text))])[0]

    def classify_many(self, items: list[tuple[str, str]]) -> list[Classification]:
        with self.nlp.memory_zone():
            docs = list(self.nlp.tokenizer.pipe(model_text(s, t) for s, t in items))  # type: ignore[union-attr]
            return [answer for start in range(0, len(docs), 256) for answer in self._answers(docs[start:start + 256])]

    def classify_doc(self, doc: Doc) -> Classification:
        """The answer for a Doc of `analysis_text` made by this model's tokenizer (in the caller's memory zone)."""
        return self._answers([prefix_doc(doc, self.nlp.tokenizer, limit=MAX_CHARS)])[0]

    @property
    def members(self) -> list[Any]:
        """The textcat components whose answers are averaged (one in a model trained outside `liaison train`)."""
        return [pipe for name, pipe in self.nlp.pipeline if name.startswith("textcat")]

    def _answers(self, docs: list[Doc]) -> list[Classification]:
        """Each member's probabilities, calibrated, averaged: the answer for each Doc."""
        totals = [dict.fromkeys(CATEGORIES, 0.0) for _ in docs]
        members = self.members
        for member in members:
            labels = list(member.labels)
            for total, row in zip(totals, member.predict(docs), strict=True):
                calibrated = self.calibration.apply({label: float(row[labels.index(label)]) for label in CATEGORIES})
                for label in CATEGORIES:
                    total[label] += calibrated[label] / len(members)
        return [self._answer(scores, len(members)) for scores in totals]

    @staticmethod
    def _answer(scores: dict[str, float], members: int) -> Classification:
        best = max(scores, key=scores.__getitem__)
        runner_up = sorted(scores.values())[-2]
        averaged = f", {members} models averaged" if members > 1 else ""
        reason = (f"model: {best} {scores[best]:.2f} (next best {runner_up:.2f}; "
                  f"a client request: {request_probability(scores):.2f}{averaged})")
        return Classification(best, scores[best], (reason,), "model", scores)


def load_corpus(data_dir: Path = DATA_DIR) -> list[Example_]:
    """Every labelled example shipped with the project, in a stable order."""
    examples = []
    for path in sorted(data_dir.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            if item["label"] not in CATEGORIES:
                raise ValueError(f"{path}:{number}: unknown label {item['label']!r}")
            examples.append(Example_(item["id"], item.get("subject", ""), item["body"], item["label"],
                                     item.get("lang", "en"), tuple(item.get("tags", ())),
                                     path.stem.removeprefix("writer-")))
    return examples


def is_held_out(example_id: str) -> bool:
    """A stable split by id: the same examples are held out on every machine, forever."""
    digest = hashlib.sha256(example_id.encode()).digest()
    return digest[0] < 256 * HELD_OUT_SHARE


def split(examples: Iterable[Example_]) -> tuple[list[Example_], list[Example_]]:
    train: list[Example_] = []
    held: list[Example_] = []
    for example in examples:
        (held if is_held_out(example.id) else train).append(example)
    return train, held


def build_nlp() -> Language:
    nlp = blank_nlp()
    config = {
        "threshold": 0.0,
        "model": {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": True,
            "ngram_size": 2,
            "no_output_layer": False,
            "length": 262144,
        },
    }
    textcat = nlp.add_pipe("textcat", config=config)
    for label in CATEGORIES:
        textcat.add_label(label)  # type: ignore[attr-defined]
    return nlp


def train(
    examples: list[tuple[str, str]],
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    progress: Callable[[int, int, float], None] | None = None,
) -> Language:
    """Train a fresh textcat on (text, label) pairs; the same input and seed give the same model."""
    random.seed(seed)
    spacy.util.fix_random_seed(seed)
    nlp = build_nlp()
    data = [Example.from_dict(nlp.make_doc(text), {"cats": _cats(label)}) for text, label in examples]
    optimizer = nlp.initialize(lambda: data)
    for epoch in range(epochs):
        random.shuffle(data)
        losses: dict[str, float] = {}
        for batch in spacy.util.minibatch(data, size=spacy.util.compounding(8.0, 64.0, 1.2)):
            nlp.update(batch, sgd=optimizer, losses=losses, drop=0.2)
        if progress:
            progress(epoch + 1, epochs, losses.get("textcat", 0.0))
    return nlp


def combine(models: list[Language]) -> Language:
    """One pipeline holding every model's textcat: the first as `textcat`, the others as `textcat_1`, ...

    Their features are hashes of the token text, which every blank "xx" vocabulary shares, so each
    member reads the Doc the first one's tokenizer makes."""
    first = models[0]
    for number, member in enumerate(models[1:], 1):
        first.add_pipe("textcat", name=f"textcat_{number}", source=member)
    return first


def _cats(label: str) -> dict[str, float]:
    return {category: float(category == label) for category in CATEGORIES}


def save(nlp: Language, out: Path) -> None:
    """Write the model; only what loading needs, so the shipped folder stays small and stable."""
    nlp.meta["name"] = "liaison_textcat"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Liaison message categories; rebuilt by `liaison train`."
    nlp.to_disk(out)
