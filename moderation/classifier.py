"""The semantic layer beside the lexicon: a character n-gram linear model over labelled zh/en messages.

Words the lexicon never listed (an insult without a swear word, a scam in new wording, pinyin and masked
letters) still share character sequences with the examples the model was trained on. It is trained at
`shopdesk prepare-models` time (in `make`) from corpora in the repository, nothing downloaded:
- moderation/data/corpus/train.jsonl: customer-service messages and draft replies, zh and en, labelled
  clean | abuse | threat | sexual | fraud | social_engineering (hard negatives among the clean ones);
- moderation/data/cold/{train,dev}.csv: COLD (thu-coai/COLDataset, Apache-2.0), 32k Chinese comments
  labelled offensive or not; offensive ones count as abuse. Its test split is never trained on.
Two scorers (TF-IDF features + logistic regression each): one over the customer-service corpus (its six
labels; character 1–4-grams, words (jieba's for Chinese) and character 2–5-grams of the folded spelling
(moderation/folding.py: leet, spread letters, look-alikes, Chinese as pinyin and initials), with balanced
class weights), one over COLD for offensive Chinese (character 1–3-grams). The features are hashed to
64-bit keys in numpy (moderation/features.py), which keeps one message well under a millisecond.
It returns the same verdict objects as the lexicon
(moderation/base.py), one hit per category over the whole text, with the probability in the term so an
agent sees why. Settings were chosen on a held-back fifth of the train split and on COLD's dev split; the
test splits are only measured (bench/moderation_eval.py).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import pickle
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moderation.base import Action, Hit, Verdict, combine
from moderation.features import Views, Vocabulary

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
COLD = DATA / "cold"
MODEL_FILE = "moderation-classifier.pkl"
MODEL_VERSION = 8  # bump when the features or settings change; a change to the corpora is seen by itself
CATEGORIES = ("abuse", "threat", "sexual", "fraud", "social_engineering")
# What each category does when the model is sure enough (an admin can change both per category).
DEFAULT_ACTIONS: dict[str, Action] = {
    "abuse": "block",  # with a question in it, the turn answers the question anyway (app/chat/turn.py)
    "threat": "block",
    "sexual": "block",
    "fraud": "flag",  # never obeyed: model answers held, the grounded composer may still answer
    "social_engineering": "flag",
}
# Of "not clean": the lowest with ≤ 5% false stops in each language in 4-fold cross-validation on the train
# files (bench/moderation_cv.py; 0.7 on the first two files, 0.8 with the hard negatives of the later ones,
# 0.75 with the fifth round's harms and the ordinary messages on the topics scams borrow).
DEFAULT_THRESHOLD = 0.75
OFFENSIVE_THRESHOLD = 0.6  # the lowest with ≤ 2% false stops on the service train split's clean Chinese
SURE = 0.85  # a blocking category blocks only this sure; below it the message is flagged
DEFAULT_THRESHOLDS = {name: DEFAULT_THRESHOLD for name in CATEGORIES}
# The service scorer's features and regression (bench/moderation_cv.py cross-validates them on the train files).
SERVICE_SETTINGS: dict[str, Any] = {
    "ngrams": (1, 4),
    "c": 20.0,
    "min_df": 1,
    "with_words": True,
    "balanced": True,
    "chinese_words": True,  # jieba's words beside the n-grams: 0.6 points fewer false stops in Chinese
    "folded": (2, 5),  # the folded spelling's n-grams: evasions in letters and Chinese homophones, pinyin
}


@dataclass
class Example:
    text: str
    label: str
    lang: str = ""
    direction: str = "inbound"


def load_corpus(path: Path) -> list[Example]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(Example(row["text"], row["label"], row.get("lang", ""), row.get("direction", "inbound")))
    return examples


def load_cold(split: str) -> list[Example]:
    """COLD's comments: label 1 (offensive) as abuse, 0 as clean."""
    with (COLD / f"{split}.csv").open(encoding="utf-8-sig") as f:
        return [Example(r["TEXT"], "abuse" if r["label"] == "1" else "clean", "zh") for r in csv.DictReader(f)]


@dataclass
class Scorer:
    """A message's features (moderation/features.py) and a logistic regression over them."""

    views: Views
    vocabulary: Vocabulary
    classifier: Any  # scikit-learn's LogisticRegression, fitted on vocabulary.matrix()
    labels: list[str]
    _coef: Any = field(default=None, repr=False, compare=False)  # features × classes, contiguous

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_coef": None}  # made again from the classifier after loading

    def features(self, texts: list[str]) -> Any:
        return self.vocabulary.matrix([self.views.keys(t) for t in texts])

    def probabilities(self, texts: list[str]) -> list[dict[str, float]]:
        rows = self.classifier.predict_proba(self.features(texts))
        return [dict(zip(self.labels, (float(p) for p in row), strict=True)) for row in rows]

    def scores(self, text: str) -> dict[str, float]:
        """probabilities() for one message, computed directly from the fitted weights: the same numbers
        (tested), several times faster than scikit-learn's per-call overhead on one short text."""
        if self._coef is None:
            self._coef = np.ascontiguousarray(self.classifier.coef_.T)
        positions, values = self.vocabulary.weights(self.views.keys(text))
        logits = self.classifier.intercept_ + values @ self._coef[positions]
        if logits.shape[0] == 1:  # two labels: scikit-learn fits one logistic, for the second
            positive = float(1.0 / (1.0 + math.exp(-logits[0])))
            return dict(zip(self.labels, (1.0 - positive, positive), strict=True))
        exp = np.exp(logits - logits.max())
        return dict(zip(self.labels, (float(p) for p in exp / exp.sum()), strict=True))


@dataclass
class SemanticModel:
    """Two scorers: customer-service harms (six labels, our corpus) and offensive Chinese (COLD).

    A message is harmful when the service scorer's probability of "not clean" reaches the category's
    threshold (the category is its most likely harmful label), or, for Chinese, when COLD's scorer finds
    it offensive (abuse).
    """

    service: Scorer
    offensive: Scorer | None = None
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    actions: dict[str, Action] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    version: str = ""  # fingerprint(): the code's version and the corpora it was trained on

    def categories(self, text: str) -> dict[str, float]:
        """The harmful categories found, with the probability that the message is harmful."""
        return {c: harm for c, (harm, _) in self._found(text).items()}

    def _found(self, text: str) -> dict[str, tuple[float, float]]:
        """category → (probability the message is harmful, probability it is this category)."""
        if not text.strip():
            return {}
        found: dict[str, tuple[float, float]] = {}
        scores = self.service.scores(text)
        harm = 1.0 - scores.get("clean", 0.0)
        likeliest = max((c for c in scores if c != "clean"), key=scores.__getitem__)
        if harm >= self.thresholds.get(likeliest, DEFAULT_THRESHOLD):
            found[likeliest] = (round(harm, 3), round(scores[likeliest], 3))
        if self.offensive is not None and _CJK.search(text):
            offensive = round(self.offensive.scores(text).get("abuse", 0.0), 3)
            if offensive >= self.thresholds.get("offensive", OFFENSIVE_THRESHOLD):
                found["abuse"] = max(found.get("abuse", (0.0, 0.0)), (offensive, offensive))
        return found

    def check(self, text: str) -> Verdict:
        found = self._found(text)
        # Blocking a customer's message on a guess costs them their answer: a blocking category blocks only
        # when the model is SURE of that very category; otherwise it flags (model answers held for a person,
        # the grounded composer may still answer). The model judges the whole message and locates no words:
        # its hits have an empty span, so they mask nothing (the lexicon masks what it finds).
        hits = [
            Hit(c, self._action(c, specific), 0, 0, f"semantic:{c}:{harm:.2f}") for c, (harm, specific) in found.items()
        ]
        verdict = combine(text, hits)
        verdict.categories = sorted(found)
        return verdict

    def _action(self, category: str, probability: float) -> Action:
        action = self.actions.get(category, "flag")
        return action if action != "block" or probability >= SURE else "flag"


_CJK = re.compile(r"[\u3400-\u9fff]")


def fit(
    examples: list[Example],
    ngrams: tuple[int, int],
    c: float,
    min_df: int,
    with_words: bool = False,
    balanced: bool = False,
    folded: tuple[int, int] | None = None,
    chinese_words: bool = False,
) -> Scorer:
    """Character n-gram TF-IDF features (sublinear tf, l2 per view), words beside them if asked (jieba's for
    Chinese if `chinese_words`), character n-grams of the folded spelling if `folded` (moderation/folding.py:
    leet, spread letters, pinyin), and a logistic regression (classes weighted by their inverse frequency if
    balanced)."""
    from sklearn.linear_model import LogisticRegression

    views = Views(ngrams, folded, with_words, chinese_words)
    rows = [views.keys(e.text) for e in examples]
    vocabulary = Vocabulary.fit(rows, min_df)
    classifier = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    classifier.fit(vocabulary.matrix(rows), [e.label for e in examples])
    return Scorer(views, vocabulary, classifier, [str(label) for label in classifier.classes_])


def service_corpus(split: str = "train") -> list[Example]:
    """The customer-service corpus: test.jsonl, or every train*.jsonl (written by different hands)."""
    if split == "test":
        return load_corpus(CORPUS / "test.jsonl")
    return [e for path in sorted(CORPUS.glob("train*.jsonl")) for e in load_corpus(path)]


def fingerprint() -> str:
    """MODEL_VERSION and a hash of every training file: a model trained on other data is trained again."""
    import hashlib

    digest = hashlib.sha256(str(MODEL_VERSION).encode())
    for path in [*sorted(CORPUS.glob("train*.jsonl")), COLD / "train.csv", COLD / "dev.csv"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{MODEL_VERSION}-{digest.hexdigest()[:16]}"


def train() -> SemanticModel:
    """Both scorers from the repository's training splits (settings chosen by cross-validation on the
    service corpus's train files, and on COLD's dev split: bench/moderation_eval.py says how)."""
    service = fit(service_corpus("train"), **SERVICE_SETTINGS)
    offensive = fit(load_cold("train") + load_cold("dev"), (1, 3), 4.0, 2)
    return SemanticModel(service, offensive, version=fingerprint())


def prepare(models_dir: Path) -> Path:
    """Train the model from the repository's corpora once and keep it under the models dir."""
    target = models_dir / MODEL_FILE
    if target.exists():
        try:
            if _read(target).version == fingerprint():
                return target
        except Exception:  # noqa: BLE001 - an unreadable file is retrained
            log.warning("retraining the moderation model: %s is unreadable", target)
    started = time.perf_counter()
    model = train()
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
    with tmp.open("wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(target)
    log.info("moderation model trained in %.0f s", time.perf_counter() - started)
    return target


def _read(path: Path) -> SemanticModel:
    with path.open("rb") as f:
        model: SemanticModel = pickle.load(f)  # our own file, written by prepare() under the models dir
    return model


_lock = threading.Lock()
_loaded: dict[str, SemanticModel] = {}


def get_model(models_dir: Path) -> SemanticModel:
    """The trained model, loaded once per process (trained first if `make` has not done it)."""
    key = str(models_dir)
    if key not in _loaded:
        with _lock:
            if key not in _loaded:
                _loaded[key] = _read(prepare(models_dir))
    return _loaded[key]
