"""The verifier: numbers and ids in a reply must come from the facts."""

from __future__ import annotations

from moderation.verifier import verify

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
    assert verify("Delivery takes 3-7 business days.", facts).unsupported == ["3-7"]
