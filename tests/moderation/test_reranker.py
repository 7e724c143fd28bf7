"""The reranker's decision on candidate replies: wrong facts, others' data and unsafe text never go out."""

from __future__ import annotations

from moderation.lexicon import DEFAULT_PATH, Lexicon
from moderation.reranker import choose, score_candidate

LEXICON = Lexicon.from_file(DEFAULT_PATH)
QUESTION = "Where is my order A1023 and how much was it?"
FACTS = [
    "order A1023: status shipped; total 1356.00 CNY; placed 2026-11-20; carrier SF Express; "
    "tracking number SF1234567890"
]
THRESHOLD = 0.7


def score(source: str, text: str, **kw):  # type: ignore[no-untyped-def]
    return score_candidate(
        source,
        text,
        question=QUESTION,
        fact_texts=FACTS,
        policy_texts=[],
        lexicon=LEXICON,
        allowed_values=["A1023", "SF1234567890"],
        **kw,
    )


def test_grounded_reply_is_sent():
    status, index, reasons = choose([score("llm", "Order A1023 has shipped; it cost 1356.00 CNY.")], THRESHOLD)
    assert (status, index, reasons) == ("sent", 0, [])


def test_wrong_amount_is_never_sent_even_alone():
    scored = [score("llm", "Order A1023 has shipped; it cost 1365.00 CNY.")]
    status, index, reasons = choose(scored, THRESHOLD)
    assert status == "pending_review" and index == 0
    assert "1365.00" in reasons[0]


def test_another_customers_tracking_number_is_never_sent():
    scored = [score("llm", "Order A1023 is on its way, tracking number 1Z999AA10123456784.")]
    assert choose(scored, 0.0)[0] == "pending_review"  # whatever the threshold


def test_the_grounded_candidate_beats_a_wrong_one():
    scored = [
        score("llm", "Order A1023 cost 99.00 CNY."),
        score("composer", "Order A1023 has shipped with SF Express; the tracking number is SF1234567890."),
    ]
    assert choose(scored, THRESHOLD)[:2] == ("sent", 1)


def test_abusive_candidate_is_not_proposed():
    scored = [score("llm", "Stop asking, you idiot.")]
    status, index, _ = choose(scored, THRESHOLD)
    assert status == "pending_review" and index is None


def test_unauthorised_promise_is_held():
    scored = [score("llm", "Order A1023 has shipped. We will give you a coupon as compensation.")]
    status, _, reasons = choose(scored, THRESHOLD)
    assert status == "pending_review" and any("promise" in r for r in reasons)


def test_pii_is_masked_in_what_is_sent():
    result = score("llm", "Order A1023 has shipped; call us on 13812345678.")
    assert "138****5678" in result.text and "13812345678" not in result.text


def test_model_answer_to_an_injection_is_held():
    scored = [score("llm", "Order A1023 has shipped.", input_injection=True)]
    assert choose(scored, THRESHOLD)[0] == "pending_review"
    composer = [score("composer", "Order A1023 has shipped.", input_injection=True)]
    assert choose(composer, THRESHOLD)[0] == "sent"


def test_irrelevant_reply_under_threshold_is_held():
    scored = [score("llm", "We sell keyboards and mice.")]
    status, _, reasons = choose(scored, THRESHOLD)
    assert status == "pending_review" and "under the threshold" in reasons[-1]


def test_an_echo_sharing_every_word_with_the_question_is_not_sent():
    """Shared words once scored as relevance; an echo is not an answer however high it scores."""
    echo = score("llm", "Where is my order A1023 and how much was it?")
    assert echo.relevance == 1.0 and not echo.eligible
    status, _, reasons = choose([echo], THRESHOLD)
    assert status == "pending_review" and any("repeats the question" in r for r in reasons)


def test_a_reply_without_what_the_question_needs_is_not_sent():
    from moderation.eligibility import AnswerKey

    key = AnswerKey(needs=["order"], order_ids=["A1023"])
    vague = score("llm", "Thanks for waiting, we are checking on that for you.", answer_key=key)
    status, _, reasons = choose([vague], THRESHOLD)
    assert status == "pending_review" and any("doesn't say the order" in r for r in reasons)


def test_a_carrier_named_like_a_competitor_in_the_facts_is_the_shops_own_word():
    facts = ["order 2026: status shipped; carrier 京东物流; tracking number JDVA28370921586"]
    kw = dict(question="到哪了", fact_texts=facts, policy_texts=[], lexicon=LEXICON)
    own = score_candidate("composer", "您的订单 2026 已发货，承运商：京东物流，快递单号：JDVA28370921586。", **kw)
    assert own.eligible, own.reasons
    elsewhere = score_candidate("llm", "您可以去京东买，更便宜。", **kw)
    assert not elsewhere.eligible  # a competitor no fact names still needs a person
