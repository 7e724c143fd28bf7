"""The verifier: numbers and ids in a reply must come from the facts."""

from __future__ import annotations

from moderation.verifier import relevance, verify

FACTS = ["order A1023: status shipped; total 1356.00 CNY; placed 2026-11-20; tracking number SF1234567890"]


def test_backed_claims_pass_in_any_notation():
    result = verify("Order A1023 (SF1234567890) cost 1,356.00 CNY, placed 2026-11-20.", FACTS)
    assert result.score == 1.0 and result.unsupported == []


def test_invented_amount_is_flagged():
    result = verify("Order A1023 cost 1299.00 CNY.", FACTS)
    assert result.unsupported == ["1299.00"] and result.score < 1.0


def test_another_tracking_number_is_flagged():
    assert verify("Your tracking number is 1Z999AA10123456784.", FACTS).unsupported == ["1Z999AA10123456784"]


def test_reply_without_claims_scores_one():
    assert verify("Happy to help!", FACTS).score == 1.0


def test_ranges_and_dates_written_differently():
    facts = ["policy: Standard delivery takes 3 to 5 business days", *FACTS]
    assert verify("Delivery takes 3-5 business days.", facts).score == 1.0
    assert verify("Delivery takes 3-7 business days.", facts).unsupported == ["3-7", "3-7 day"]
    # A range is not its two ends: "2 to 3" is not backed by "1 to 2" and "3 to 5".
    both = [*facts, "policy: Express delivery takes 1 to 2 business days"]
    assert "2-3 day" in verify("Delivery takes 2 to 3 business days.", both).unsupported


POLICY = [
    "You can return most items within 7 days of delivery for any reason, as long as they are unused.",
    "An invoice is accepted for reimbursement only when it shows the buyer title and tax id.",
]


def test_duration_needs_the_same_unit():
    assert verify("You can return it within 7 days.", POLICY, POLICY).score == 1.0
    assert "7 week" in verify("You can return it within 7 weeks.", POLICY, POLICY).unsupported
    assert "30 day" in verify("退货期限是30天。", POLICY, POLICY).unsupported


def test_promise_of_compensation_without_policy_is_unsupported():
    result = verify("We will give you a coupon as compensation.", POLICY, POLICY)
    assert result.unsupported and result.unsupported[0].startswith("promise:")
    assert verify("我们会给您赔偿。", POLICY, POLICY).unsupported


def test_policy_verdict_needs_a_policy_fact():
    assert verify("Yes, you can return unused items within 7 days of delivery.", POLICY, POLICY).score == 1.0
    assert verify("Yes, you can return unused items within 7 days of delivery.", FACTS, []).score < 1.0


def test_relevance():
    assert relevance("Where is my order A1023?", "Order A1023 has shipped.") > 0.5
    assert relevance("Where is my order A1023?", "I like turtles.") == 0.0
    assert relevance("hello", "Hi! How can I help?") == 1.0
