"""The classifier: hard cases by category, explanations, the review threshold, eval and reproducible training."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import responders  # noqa: F401  (registers the routing conditions and actions rules.yaml names)
from classifiers import CATEGORIES, model
from classifiers.categorize import Categorizer
from classifiers.evalsets import eval_dir_texts, held_out_texts
from classifiers.model import MODEL_DIR, TextcatClassifier, load_corpus
from classifiers.newest_text import newest_text
from foundation.rules import load_rules

ROOT = Path(__file__).parent.parent
RULES = load_rules(ROOT / "rules.yaml")


@pytest.fixture(scope="module")
def categorizer() -> Categorizer:
    assert TextcatClassifier.available(), "the trained model ships with the project"
    return Categorizer(RULES)


def category(categorizer: Categorizer, subject: str, body: str) -> str:
    return categorizer.judge(subject, newest_text(body)).classification.category


HARD_CASES = [
    # vocabulary shared between classes
    ("Invoice address", "Could you change the invoice address to our new office at 22 Station Road?", "billing_issue"),
    ("Pitch deck", "The budget slide needs changing - show the Q3 figures as a bar chart.", "revision_request"),
    ("Invoice", "When will the invoice be sent? We need it before our year end.", "billing_issue"),
    ("Logo", "Is the revised logo ready? We need it for the printer.", "progress_query"),
    ("Thursday", "Can we change the meeting to Friday at 2pm instead?", "other"),
    # a misleading subject loses to the body
    ("Invoice 4471", "Sorry, wrong subject: please change the headline on the flyer to 'Fresh every day'.",
     "revision_request"),
    # one-liners
    ("", "logo bigger pls", "revision_request"),
    ("", "eta on the banners?", "progress_query"),
    ("", "PO is 4500123987, please add it to the invoice", "billing_issue"),
    # quoted thread of another class under the new text
    ("Re: Banner", "Thanks, all approved!\n\nOn Mon, 9 Nov 2026 at 10:02, Anna <a@agency.example> wrote:\n"
     "> Please find invoice 2231 attached. Payment is due in 30 days.\n> Anna", "other"),
    # a signature full of trigger words
    ("Re: brochure", "Please swap the cover photo for the team shot.\n\nBest regards,\nSam\nSam Lee\n"
     "Finance & Billing | Invoices: ap@client.example | Payment status line: 0800 123", "revision_request"),
    # a legal disclaimer full of trigger words
    ("Video", "Any news on the video? The board meets Monday.\n\nThis email and any attachments are confidential. "
     "Invoices and payment instructions received by email must be verified.", "progress_query"),
    # other languages
    ("Facture en double", "Bonjour, nous avons reçu deux fois la facture F-2026-118, merci d'annuler le doublon.",
     "billing_issue"),
    ("Plakate", "Hallo, wie ist der Stand bei den Plakaten? Wann sehen wir die ersten Entwürfe?", "progress_query"),
    ("Banner", "Hola, ¿podéis cambiar el titular del banner y poner el logo más grande?", "revision_request"),
    ("Afspraak", "Kunnen we de afspraak van donderdag verzetten naar vrijdag?", "other"),
    # non-native English and typos
    ("", "hello, the invoce have wrong ammount, please send new one", "billing_issue"),
    ("", "wen will the video be redy? need it friday", "progress_query"),
]


@pytest.mark.parametrize("subject,body,expected", HARD_CASES,
                         ids=[c[2] + ":" + (c[0] or c[1][:20]) for c in HARD_CASES])
def test_hard_cases(categorizer, subject, body, expected):
    assert category(categorizer, subject, body) == expected


def test_phrase_rule_forces_a_category_and_says_so(categorizer):
    verdict = categorizer.judge("Banner", "We were invoiced twice for this, and also please change the banner.")
    assert verdict.classification.category == "billing_issue"
    assert verdict.classification.source == "rule:duplicate-invoice"
    assert "forced" in verdict.classification.reasons[0]


def test_low_confidence_is_needs_review(tmp_path):
    text, count = re.subn(r"review_below: [0-9.]+", "review_below: 0.9999", (ROOT / "rules.yaml").read_text())
    assert count == 1
    (tmp_path / "rules.yaml").write_text(text)
    strict = Categorizer(load_rules(tmp_path / "rules.yaml"))
    verdict = strict.judge("hello", "Could we maybe look at the thing from last week?")
    assert verdict.needs_review


def test_automatic_mail_is_other_without_asking_the_model(categorizer):
    verdict = categorizer.judge("Invoice", "please pay", automatic="Auto-Submitted: auto-replied")
    assert (verdict.classification.category, verdict.classification.source) == ("other", "automatic")


def test_eval_reports_every_score_and_uses_no_user_database(tmp_path):
    demo = ROOT / "inbox" / "data" / "demo"
    (tmp_path / "mail").mkdir()
    with (demo / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        shutil.copy(demo / "mailbox" / "cur" / row["file"], tmp_path / "mail" / row["file"])
    shutil.copy(demo / "labels.csv", tmp_path / "labels.csv")
    shutil.copy(demo / "accounts.csv", tmp_path / "accounts.csv")
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "eval", str(tmp_path), "--json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"macro_f1", "accuracy", "per_class", "confusion", "link_accuracy"} <= set(report)
    assert report["count"] == len(rows)
    assert report["macro_f1"] > report["baseline_macro_f1"]
    assert report["link_accuracy"] >= 0.95
    assert not list(tmp_path.glob("*.db")), "eval never creates or touches a user database"


@pytest.mark.slow
def test_training_reproduces_the_shipped_model():
    """Retraining gives members that behave like the shipped ones, on any machine.

    Not the same bytes, nor the same scores to the third decimal: float summation order differs across CPUs and
    BLAS builds, and twelve epochs of SGD carry the difference on. Measured on the shipped model's machine and on
    another (2026-12-07): the first member within 0.0006 everywhere; the second mean 0.0013, 2% of answers more
    than 0.01 apart, at most 0.053, and 9 of 7,010 answers a different class, each a near-tie (the two best
    within 0.03). So: the same class wherever the shipped member is not near a tie, scores close on average and
    never far apart; a changed recipe moves far more. One member is retrained, the one that moved most (every
    member is the same recipe on other writers; two side by side held both cores for 150 s of CI's 15 minutes);
    `liaison train --folds 0` retrains all four."""
    from classifiers.training import ensemble_jobs, fit_models

    train, _ = model.split(load_corpus())
    retrained = fit_models(ensemble_jobs(train)[2:3])
    texts = held_out_texts() + eval_dir_texts(ROOT / "tests" / "data" / "eval")
    shipped = TextcatClassifier(MODEL_DIR, calibrated=False)
    docs = list(shipped.nlp.tokenizer.pipe(model.model_text(t.subject, t.text) for t in texts))
    for member, nlp in zip(shipped.members[2:3], retrained, strict=True):
        again = nlp.get_pipe("textcat")
        differences = []
        for text, old, new in zip(texts, member.predict(docs), again.predict(docs), strict=True):
            before = {label: float(old[list(member.labels).index(label)]) for label in CATEGORIES}
            after = {label: float(new[list(again.labels).index(label)]) for label in CATEGORIES}
            first, second = sorted(before.values())[-1], sorted(before.values())[-2]
            if first - second >= 0.05:
                assert max(after, key=after.__getitem__) == max(before, key=before.__getitem__), text.id
            differences.append(max(abs(after[label] - before[label]) for label in CATEGORIES))
        assert sum(differences) / len(differences) <= 0.005
        assert max(differences) <= 0.1


def test_independent_eval_set(tmp_path):
    """90 messages written apart from the corpus, eight accounts, every way of linking."""
    eval_dir = ROOT / "tests" / "data" / "eval"
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "eval", str(eval_dir), "--json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["count"] == 90
    assert report["link_accuracy"] >= 0.99
    assert report["macro_f1"] >= 0.85 and report["macro_f1"] > report["baseline_macro_f1"] + 0.1


# -- corpus, augmentation, calibration, measurement (issue 11) ------------------------------------------------


def test_corpus_files_are_one_per_writer_clean_and_apart_from_the_eval_sets():
    from classifiers.corpus_check import EVAL_DIRS, body_key, eval_bodies, read_jsonl

    corpus = ROOT / "classifiers" / "data" / "corpus"
    ids, bodies = set(), set()
    forbidden = eval_bodies(d for d in EVAL_DIRS if (d / "mail").is_dir())
    files = sorted(corpus.glob("*.jsonl"))
    assert files and all(f.name.startswith("writer-") for f in files)
    for path in files:
        items, problems = read_jsonl(path)
        assert not problems
        for item in items:
            key = body_key(item["body"])
            assert item["id"] not in ids and key not in bodies and key not in forbidden, (path.name, item["id"])
            ids.add(item["id"])
            bodies.add(key)


def test_fold_refuses_bad_lines_duplicates_and_eval_messages(tmp_path):
    from classifiers.corpus_check import fold

    corpus, evals = tmp_path / "corpus", tmp_path / "eval"
    corpus.mkdir()
    (corpus / "writer-a.jsonl").write_text(json.dumps(
        {"id": "a-1", "label": "other", "subject": "", "body": "Lunch on Friday?"}) + "\n")
    shutil.copytree(ROOT / "tests" / "data" / "eval", evals)
    eval_body = (ROOT / "tests" / "data" / "eval" / "mail" / "m001.eml").read_bytes()
    from foundation.message import parse_message

    copied = parse_message(eval_body).text
    source = tmp_path / "batch.jsonl"
    rows = [{"id": "b-1", "label": "billing_issue", "subject": "", "body": "Please resend invoice 12."},
            {"id": "b-2", "label": "other", "subject": "", "body": "lunch on friday"},
            {"id": "b-3", "label": "urgent", "subject": "", "body": "Something else"},
            {"id": "b-4", "label": "revision_request", "subject": "", "body": copied}]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    count, problems = fold([source], writer="b", corpus=corpus, eval_dirs=[evals])
    assert count == 1
    assert [json.loads(line)["id"] for line in (corpus / "writer-b.jsonl").read_text().splitlines()] == ["b-1"]
    assert len(problems) == 4
    assert any("duplicate body" in p for p in problems) and any("eval message" in p for p in problems)
    assert any("unknown label" in p for p in problems) and any("not JSON" in p for p in problems)


def test_augmentation_is_reproducible_and_what_newest_text_leaves_is_measured():
    from classifiers.augment import kept_share, variants

    items = [(e.subject, e.body, e.label) for e in load_corpus()[:300]]
    assert variants(items, seed=7) == variants(items, seed=7)
    assert variants(items, seed=7) != variants(items, seed=8)
    shares = kept_share([body for _, body, _ in items], seed=7)
    # some of every kind survive newest_text (what the model must learn to look past), not all
    assert all(0 < share < 1 for share in shares.values()), shares


def test_calibration_sets_the_threshold_from_the_precision_target():
    from classifiers.calibration import Calibration, acknowledgement_figures, fit

    # 200 confident right answers, 10 unsure wrong ones, 100 requests at mid confidence half right
    scores, truth = [], []
    for _ in range(200):
        scores.append({"revision_request": 0.97, "billing_issue": 0.01, "progress_query": 0.01, "other": 0.01})
        truth.append("revision_request")
    for number in range(100):
        scores.append({"revision_request": 0.02, "billing_issue": 0.7, "progress_query": 0.2, "other": 0.08})
        truth.append("billing_issue" if number % 2 else "progress_query")
    calibration = fit(scores, truth, target=0.995)
    answers = [calibration.apply(s) for s in scores]
    assert all(abs(sum(a.values()) - 1) < 1e-9 for a in answers)
    precision, coverage = acknowledgement_figures(answers, truth, threshold=calibration.ack_threshold)
    assert precision >= 0.995 and coverage == pytest.approx(200 / 300)
    assert calibration == fit(scores, truth, target=0.995)  # reproducible
    assert Calibration().apply(scores[0]) == scores[0]


def test_the_shipped_model_carries_its_calibration_and_eval_reports_it():
    from classifiers.calibration import Calibration

    calibration = Calibration.load(MODEL_DIR)
    assert calibration.fold_count > 1000 and calibration.target >= 0.995
    assert calibration.fold_precision >= calibration.target and 0 < calibration.ack_threshold < 1
    assert TextcatClassifier().calibration == calibration


def test_a_classification_says_how_likely_it_is_a_request_at_all(categorizer):
    verdict = categorizer.judge("Banner", "Can you make the logo bigger on the banner?")
    assert verdict.classification.request_probability > 0.9
    assert "a client request" in verdict.classification.reasons[0]
    chat = categorizer.judge("Friday", "Thanks for lunch yesterday, great to see you all!")
    assert chat.classification.request_probability < 0.5


def test_eval_without_a_folder_reports_every_set_side_by_side(tmp_path):
    # two sets, not all nine and the held-out split written as mail: the same code for each, in a tenth of the time
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "eval", "--json", "--sets", "eval,eval-independent-6"],
                            cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["shipped"]
    assert set(report) == {"eval", "eval-independent-6"}
    for scores in report.values():
        assert {"macro_f1", "per_class", "tiers"} <= set(scores)
        tiers = scores["tiers"]
        assert {"specific", "neutral", "none", "ack_precision", "coverage"} <= set(tiers)
        assert tiers["thresholds"]["specific_at_least"] == RULES.spec.classifier.acknowledge.specific_at_least
    assert report["eval"]["count"] == 90
    # one way to score a set: the side-by-side figure is the one `liaison eval DIR` gives (they differed: 0.9609
    # against 0.9790 on eval-independent, the table reading texts without the pipeline)
    alone = subprocess.run([sys.executable, "-m", "inbox.cli", "eval", str(ROOT / "tests" / "data" / "eval"), "--json"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert json.loads(alone.stdout)["macro_f1"] == report["eval"]["macro_f1"]
    assert json.loads(alone.stdout)["tiers"]["ack_precision"] == report["eval"]["tiers"]["ack_precision"]


def test_show_mistakes_gives_the_text_read_the_deciding_sentence_and_features(tmp_path):
    eval_dir = ROOT / "tests" / "data" / "eval"
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "eval", str(eval_dir), "--json", "--show-mistakes"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"specific", "neutral", "none", "ack_precision", "coverage"} <= set(report["tiers"])
    assert report["mistakes"]
    for mistake in report["mistakes"]:
        assert mistake["newest_text"] and mistake["deciding_sentence"] in mistake["newest_text"]
        assert mistake["features"] and all(f["weight"] > 0 for f in mistake["features"])
    # Each mistake says whether it reached the client as an acknowledgement, and the tiers count them.
    wrong_acks = [m for m in report["mistakes"]
                  if m["tier"] == "specific" or (m["tier"] == "neutral" and m["truth"] == "other")]
    assert {m["tier"] for m in report["mistakes"]} <= {"specific", "neutral", "none"}
    assert len(wrong_acks) == report["tiers"]["wrong_acknowledgements"]


def test_the_deciding_sentence_of_a_mixed_message(categorizer):
    from classifiers.explain import explain

    found = explain(categorizer.base, "Re: brochure",
                    "Thanks, the invoice is fine now. Where are we with the brochure? We need it by Friday.")
    assert found["category"] == "progress_query"
    assert found["deciding_sentence"] == "Where are we with the brochure?"
    assert found["features"]


@pytest.mark.slow
def test_cross_writer_scores_each_writer_with_a_model_that_never_saw_it():
    from classifiers.measure import cross_writer
    from classifiers.phrases import KeywordClassifier

    examples = load_corpus()
    seen: list[set[str]] = []

    def train(subset):
        seen.append({e.writer for e in subset})
        return KeywordClassifier()

    result = cross_writer(examples, train)
    writers = {e.writer for e in examples}
    assert set(result) == writers and len(writers) >= 4
    for writer, trained_on in zip(sorted(writers), seen, strict=True):
        assert trained_on == writers - {writer}
        assert result[writer]["count"] == sum(e.writer == writer for e in examples)
        assert set(result[writer]["per_class"]) == {"revision_request", "billing_issue", "progress_query", "other"}


def test_thresholds_can_be_fitted_on_other_writers_answers_and_neutral_keeps_every_ack_right():
    from classifiers.calibration import Calibration, fit

    sure = {"revision_request": 0.97, "billing_issue": 0.01, "progress_query": 0.01, "other": 0.01}
    unsure = {"revision_request": 0.5, "billing_issue": 0.45, "progress_query": 0.03, "other": 0.02}
    maybe = {"revision_request": 0.3, "billing_issue": 0.05, "progress_query": 0.05, "other": 0.6}
    # random folds: every sure answer right; another writer's answers: 2 in 100 sure ones wrong
    folds = ([sure] * 200 + [unsure] * 50, ["revision_request"] * 200 + ["billing_issue"] * 50)
    writers = ([sure] * 100 + [unsure] * 100 + [maybe] * 20,
               ["revision_request"] * 98 + ["billing_issue"] * 2 + ["billing_issue"] * 100 + ["other"] * 20)
    by_folds = fit(*folds)
    by_writers = fit(*folds, thresholds_on=writers)
    assert by_writers.temperature == by_folds.temperature  # the temperature stays the folds'
    assert by_folds.thresholds_from == "folds" and by_writers.thresholds_from == "writers"
    answers = [Calibration(temperature=by_writers.temperature).apply(s) for s in writers[0]]
    confidence_of_sure = max(answers[0].values())
    assert by_folds.ack_threshold <= confidence_of_sure < by_writers.ack_threshold  # 98% right: not specific
    # neutral: the unsure requests (all requests) are taken; the 'maybe' ones (other) would cost precision
    request_of_unsure = 1 - answers[100]["other"]
    assert 0.5 < by_writers.neutral_threshold <= request_of_unsure
    assert by_writers == fit(*folds, thresholds_on=writers)  # reproducible


def test_the_shipped_model_averages_members_that_each_missed_some_writers():
    """One textcat trained on every writer and ENSEMBLE_GROUPS trained without a group each; the answer
    is the mean of their calibrated answers."""
    from classifiers.training import ENSEMBLE_GROUPS, writer_groups

    classifier = TextcatClassifier()
    members = classifier.members
    assert len(members) == ENSEMBLE_GROUPS + 1
    groups = writer_groups(model.split(load_corpus())[0])
    assert sorted(w for group in groups for w in group) == sorted({e.writer for e in load_corpus()})
    text = "hi, any news on the video? we need it by friday"
    doc = classifier.nlp.make_doc(model.model_text("Re: video", text))
    alone = []
    for member in members:
        row = member.predict([doc])[0]
        alone.append(classifier.calibration.apply({label: float(row[list(member.labels).index(label)])
                                                   for label in CATEGORIES}))
    found = classifier.classify("Re: video", text)
    for label in CATEGORIES:
        assert found.scores[label] == pytest.approx(sum(a[label] for a in alone) / len(alone), abs=1e-9)
    assert "4 models averaged" in found.reasons[0]


def test_models_trained_in_worker_processes_answer_as_one_trained_here():
    from classifiers.model import Example_
    from classifiers.training import ensemble_jobs, fit_model, fit_models

    corpus = load_corpus()
    small = [e for e in corpus if e.writer in ("core", "w1", "w2", "w3", "w5")][::40]
    jobs = ensemble_jobs(small)
    assert len(jobs) == 4 and all(isinstance(e, Example_) for e in jobs[1])
    assert jobs[0] == small and all(len(job) < len(small) for job in jobs[1:])
    items = [(e.subject, e.body) for e in corpus[:50]]
    parallel = fit_models(jobs[:2], epochs=2)
    here = [fit_model(job, epochs=2) for job in jobs[:2]]
    for a, b in zip(parallel, here, strict=True):
        for x, y in zip(TextcatClassifier.from_nlp(a).classify_many(items),
                        TextcatClassifier.from_nlp(b).classify_many(items), strict=True):
            assert x.category == y.category
            assert all(x.scores[k] == pytest.approx(y.scores[k], abs=1e-6) for k in CATEGORIES)


def test_eval_sets_not_here_are_said_not_left_out(tmp_path, monkeypatch):
    """Round 22c: after a plain install (no checkout) `liaison eval --sets eval` printed an empty table, exit 0."""
    from classifiers import evalsets
    from foundation.errors import LiaisonError
    from foundation.settings import load_settings
    from inbox import evaluation

    monkeypatch.setattr(evaluation, "EVAL_SETS", {name: tmp_path / name for name in evalsets.EVAL_SETS})
    settings = load_settings({"LIAISON_ADDRESS": "accounts@agency.example", "LIAISON_AGENCY_DOMAINS": "agency.example"})
    with pytest.raises(LiaisonError, match="set eval is not here: the eval sets come with a checkout"):
        evaluation.every_set(settings, RULES, {}, only=["eval"])
