"""Invoice extraction on generated screenshots (real OCR), and the parsers and cross-checks behind it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.perception.invoice import extract, parse_chinese_amount, parse_date
from app.perception.ocr import OcrBox, read_image
from tests.support.invoices import chinese_amount, generate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("seed", "layout", "how"),
    [
        (11, "zh_digital", "clean"),
        (12, "zh_vat", "clean"),
        (13, "en_invoice", "clean"),
        (14, "receipt", "clean"),
        (15, "zh_digital", "rotate"),
        (16, "en_invoice", "jpeg"),
        (17, "receipt", "blur"),
        (18, "zh_vat", "downscale"),
        (19, "en_invoice", "phone"),
    ],
)
def test_fields_from_generated_invoices(seed, layout, how):
    made = generate(seed, layout, how)
    got = extract(read_image(made.image))
    for field in ("number", "total", "currency", "date"):
        assert got[field] == made.truth[field], (field, got, made.truth)
    if layout.startswith("zh"):
        for field in ("buyer", "buyer_tax_id", "seller", "seller_tax_id", "tax", "code"):
            assert got[field] == made.truth[field], field
        assert "total matches the uppercase amount" in got["checks"]
    assert got["confidence"]["total"] >= 0.9


@pytest.mark.parametrize("value", ["1356.00", "10005.30", "20067.44", "0.05", "100000.00", "3240.64"])
def test_chinese_uppercase_amounts_round_trip(value):
    assert parse_chinese_amount(chinese_amount(Decimal(value))) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("开票日期：2026年07月25日", "2026-07-25"),
        ("Date: Nov 13, 2026", "2026-11-13"),
        ("Date: 11/20/2026", "2026-11-20"),
        ("13 Nov 2026", "2026-11-13"),
        ("2026-02-30", None),
    ],
)
def test_dates(text, iso):
    assert parse_date(text) == iso


def _box(text: str, x: float, y: float, w: float = 200, h: float = 30) -> OcrBox:
    return OcrBox(text, 0.99, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_disagreeing_checks_lower_the_confidence_instead_of_guessing():
    boxes = [
        _box("电子发票（增值税专用发票）", 300, 20),
        _box("发票号码：12345678901234567890", 900, 20),
        _box("合计", 50, 300, 80),
        _box("¥1000.00", 600, 300),
        _box("¥130.00", 1000, 300),
        _box("价税合计（大写）", 50, 400),
        _box("壹仟贰佰叁拾圆整", 300, 400),
        _box("（小写）¥1130.00", 900, 400),
    ]
    got = extract(boxes)
    assert got["total"] == "1130.00"  # the printed figure is kept …
    assert got["confidence"]["total"] <= 0.5  # … but flagged: the uppercase says 1230.00
    assert any("disagrees with the uppercase amount 1230.00" in c for c in got["checks"])
