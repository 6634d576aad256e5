"""Model versions kept next to the database: which one runs, the candidates, and rollback.

<database folder>/models/VERSION/ holds a trained model; the `models` table says which is `active`,
which were `retired` and which are `candidate`s refused by the gate (with the reason). With no
active version the shipped model runs.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers import MODEL_DIR, Classifier, model_available

if TYPE_CHECKING:  # spaCy only when a model is loaded or trained: `rules check` and doctor only look at files
    from spacy.language import Language

    from classifiers.learning import Verdict
from foundation.errors import LiaisonError
from foundation.rules import Rules
from foundation.store import Store, utcnow

log = logging.getLogger("liaison.models")
SHIPPED = "shipped"


def models_dir(db_path: Path) -> Path:
    return Path(db_path).resolve().parent / "models"


def active_path(store: Store, db_path: Path) -> Path:
    """The folder of the model that runs: the active version, else the shipped one."""
    row = store.one("SELECT version FROM models WHERE status = 'active'")
    if row is None:
        return MODEL_DIR
    path = models_dir(db_path) / row["version"]
    if not model_available(path):
        log.error("active model %s is missing at %s; running the shipped model", row["version"], path)
        return MODEL_DIR
    return path


def load_active(store: Store, db_path: Path) -> Classifier | None:
    """The active version's classifier, or None to use the shipped one."""
    from classifiers.model import TextcatClassifier

    path = active_path(store, db_path)
    return None if path == MODEL_DIR else TextcatClassifier(path)


def running_model_dir(db_path: Path) -> Path:
    """The folder of the model the service runs, found without writing to its database (which may not exist)."""
    active = None
    if Path(db_path).exists():
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            active = conn.execute("SELECT version FROM models WHERE status = 'active'").fetchone()
        except sqlite3.DatabaseError:
            active = None
        finally:
            conn.close()
    path = models_dir(db_path) / active[0] if active else MODEL_DIR
    return path if model_available(path) else MODEL_DIR


@dataclass(frozen=True)
class ThresholdNote:
    lower: bool  # below the calibrated value: acknowledgements right less often than measured (a warning)
    text: str


def threshold_notes(rules: Rules, rules_path: Path, db_path: Path) -> list[ThresholdNote]:
    """The acknowledgement thresholds of rules.yaml against the running model's calibration: a rules.yaml
    copied by `liaison init` keeps its values when an upgrade ships a model calibrated differently. Lower
    ones are a warning, higher ones a note; neither an error, since a stricter value may be chosen on purpose."""
    from classifiers.calibration import FILE, Calibration

    folder = running_model_dir(db_path)
    if not (folder / FILE).exists():
        return []
    calibration = Calibration.load(folder)
    acknowledge = rules.spec.classifier.acknowledge
    notes = []
    for setting, used, name, calibrated in (
            ("specific_at_least", acknowledge.specific_at_least, "ack_threshold", calibration.ack_threshold),
            ("neutral_at_least", acknowledge.neutral_at_least, "neutral_threshold", calibration.neutral_threshold)):
        if calibrated <= 0 or round(used, 4) == round(calibrated, 4):
            continue  # no such threshold in this calibration, or the same
        said = (f"classifier.acknowledge.{setting} is {used} in {rules_path}, "
                f"{'lower' if used < calibrated else 'higher'} than the model's calibrated {name} {calibrated} "
                f"({folder / FILE})")
        if used < calibrated:
            notes.append(ThresholdNote(True, f"{said}: acknowledgements would be right less often than measured; "
                                             f"set {calibrated} unless you mean it"))
        else:
            notes.append(ThresholdNote(False, f"{said}: fewer acknowledgements than the model allows"))
    return notes


def save_candidate(store: Store, db_path: Path, nlp: Language, *, corrections: int) -> str:
    """Write a trained model as a new candidate version (not used until `decide` promotes it)."""
    from classifiers.model import save

    version = datetime.now(UTC).strftime("v%Y%m%d-%H%M%S-%f")
    target = models_dir(db_path) / version
    target.parent.mkdir(parents=True, exist_ok=True)
    save(nlp, target)
    # Temperature scaling keeps each answer's ranking; the running model's calibration (the same recipe)
    # keeps the candidate's confidence on the scale rules.yaml's acknowledgement thresholds were set on.
    calibration = active_path(store, db_path) / "calibration.json"
    if calibration.exists():
        shutil.copyfile(calibration, target / "calibration.json")
    store.insert("models", {"version": version, "created_at": utcnow(), "status": "candidate",
                            "corrections": corrections})
    return version


def decide(store: Store, version: str, *, promote: bool, reason: str, scores: dict[str, Any]) -> None:
    """Promote a candidate to active (retiring the running one), or keep it refused with the reason."""
    with store.transaction():
        if promote:
            store.retire_active_model()
        store.update("models", "version", version, {"status": "active" if promote else "candidate",
                                                    "reason": reason, "scores": json.dumps(scores)})
    log.info("model %s %s: %s", version, "promoted" if promote else "refused", reason)


def use(store: Store, db_path: Path, version: str) -> None:
    """Make VERSION the running model (rollback), or `shipped` for the model that came with Liaison."""
    with store.transaction():
        if version != SHIPPED:
            row = store.one("SELECT version FROM models WHERE version = ?", [version])
            if row is None:
                raise LiaisonError(f"no model version {version!r} (see `liaison model list`)")
            if not model_available(models_dir(db_path) / version):
                raise LiaisonError(f"model version {version!r} has no files at {models_dir(db_path) / version}")
        if version == SHIPPED:
            store.retire_active_model()
        else:
            store.activate_model(version)


def versions(store: Store) -> list[dict[str, Any]]:
    return store.all("SELECT version, created_at, status, corrections, reason FROM models ORDER BY created_at")


def retrain(store: Store, db_path: Path, *, epochs: int | None = None,
            say: Callable[[str], object] = log.info) -> tuple[str, Verdict]:
    """Train a candidate on the corpus plus the corrections, judge it against the running model on the
    held-out corpus split plus a held-out share of the corrections, and promote it only if it is no worse.
    `epochs`: fewer than the recipe's makes a quicker, rougher candidate (the gate judges it all the same)."""
    from classifiers import learning
    from classifiers.model import EPOCHS, load_corpus, split
    from inbox import corrections

    found = corrections.training_examples(store)
    if not found:
        raise LiaisonError("no corrections recorded yet: nothing to learn from")
    train_corrections, held_corrections = learning.split_corrections(found)
    train, held = split(load_corpus())
    say(f"retraining on {len(train)} corpus examples + {len(train_corrections)} corrections "
        f"({len(held_corrections)} corrections held out to judge it)")
    nlp = learning.retrain(train, train_corrections, epochs=epochs or EPOCHS)
    version = save_candidate(store, db_path, nlp, corrections=len(found))
    judged_on = [(*e.as_read(), e.label) for e in held] + held_corrections
    return version, judge_candidate(store, db_path, version, judged_on)


def judge_candidate(store: Store, db_path: Path, version: str, judged_on: list[tuple[str, str, str]]) -> Verdict:
    """Judge a saved candidate against the running model on (subject, newest text, category) items, and
    promote it or keep it refused with the reasons."""
    from classifiers import learning
    from classifiers.model import TextcatClassifier

    running = load_active(store, db_path) or TextcatClassifier()
    verdict = learning.judge(running, TextcatClassifier(models_dir(db_path) / version), judged_on)
    decide(store, version, promote=verdict.promote, reason="; ".join(verdict.reasons),
           scores={"running": verdict.running, "candidate": verdict.candidate})
    return verdict
