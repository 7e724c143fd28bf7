"""Policy retrieval: BM25 over article passages, zh and en."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.grounding.facts import PolicyFact
from app.grounding.intents import ASKS_WINDOW, detect_intents, expand_query
from app.grounding.text import tokenize
from app.models import PolicyArticle
from app.shop import repository

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+")
_DURATION = re.compile(
    r"\d+\s*(?:business |working |calendar )?(?:days?|weeks?|months?|hours?)"
    r"|\d+\s*(?:个)?(?:工作日|天|周|小时|个月)|[一二三四五六七八九十]+\s*(?:天|日|周|个月)",
    re.IGNORECASE,
)
WINDOW_BOOST = 1.5
TOPIC_BOOST = 1.5


@dataclass(frozen=True)
class Passage:
    article_id: str
    title: str
    locale: str
    index: int
    text: str


def split_passages(article: PolicyArticle) -> list[Passage]:
    """One passage per sentence; a passage is what a reply can quote and the verifier can check."""
    passages: list[Passage] = []
    for line in article.body.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if sentence:
                passages.append(Passage(article.id, article.title, article.locale, len(passages), sentence))
    return passages


class BM25:
    """Okapi BM25 over bags of terms."""

    def __init__(self, docs: list[list[str]], k1: float = 1.4, b: float = 0.6) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, index: int, terms: set[str]) -> float:
        doc, length = self.docs[index], self.lengths[index]
        total = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                norm = tf + self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1))
                total += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / norm
        return total


class PolicyIndex:
    """Two levels: which article is about the question, then which of its passages answers it."""

    def __init__(self, articles: list[PolicyArticle]) -> None:
        self.passages = [p for a in articles for p in split_passages(a)]
        self.article_ids = [a.id for a in articles]
        self.articles = BM25([tokenize(f"{a.title} {a.title} {a.body}") for a in articles])
        # What each article is about, read from its title with the same intents as customers' questions.
        self.topics = {a.id: set(detect_intents(a.title)) for a in articles}
        self.sentences = BM25([tokenize(p.text) for p in self.passages])

    def search(
        self,
        query: str,
        top_k: int = 3,
        locale: str | None = None,
        wants_window: bool = False,
        intents: list[str] | None = None,
    ) -> list[tuple[Passage, float]]:
        """The passages that answer the query; wants_window favours those that state a time limit, and an
        article whose title is about the question's leading intent is preferred."""
        terms = set(tokenize(query))
        if not terms:
            return []
        article_score = {a: self.articles.score(i, terms) for i, a in enumerate(self.article_ids)}
        if intents:
            for article_id, topics in self.topics.items():
                if intents[0] in topics:
                    article_score[article_id] *= TOPIC_BOOST
        scored: list[tuple[Passage, float]] = []
        for i, passage in enumerate(self.passages):
            if locale and passage.locale != locale:
                continue
            sentence = self.sentences.score(i, terms)
            if sentence > 0:
                if wants_window and _DURATION.search(passage.text):
                    sentence *= WINDOW_BOOST  # within the article about the question, the passage with the limit
                scored.append((passage, sentence + article_score[passage.article_id]))
        scored.sort(key=lambda ps: (-ps[1], ps[0].article_id, ps[0].index))
        return scored[:top_k]


_cache_lock = threading.Lock()
_cache: tuple[str, PolicyIndex] | None = None


def get_index(session: Session) -> PolicyIndex:
    """The index over the current articles, rebuilt only when an article changes."""
    global _cache
    fingerprint = repository.articles_fingerprint(session)
    cached = _cache
    if cached and cached[0] == fingerprint:
        return cached[1]
    with _cache_lock:
        if _cache and _cache[0] == fingerprint:
            return _cache[1]
        index = PolicyIndex(repository.all_articles(session))
        _cache = (fingerprint, index)
        return index


def retrieve(session: Session, query: str, locale: str, top_k: int = 3) -> list[PolicyFact]:
    """The passages that best answer the query, in the customer's language when the shop has them.

    The query is widened with the words policies use for what it asks about (a change of mind, a fault,
    an exclusion), and a question about a time limit favours passages that state one.
    """
    index = get_index(session)
    expanded, window, intents = expand_query(query), bool(ASKS_WINDOW.search(query)), detect_intents(query)
    hits = index.search(expanded, top_k, locale, window, intents)
    hits = hits or index.search(expanded, top_k, None, window, intents)  # the shop has no passage in this language
    return [
        PolicyFact(
            article_id=p.article_id,
            title=p.title,
            text=p.text,
            passage=p.index,
            score=round(s, 3),
            locale=p.locale,
        )
        for p, s in hits
    ]
