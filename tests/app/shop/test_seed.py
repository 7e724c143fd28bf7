"""`shopdesk seed`: idempotent loading, and malformed files that change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Customer, Invoice, Order, OrderItem, PolicyArticle
from app.shop import repository
from app.shop.service import DEMO_DIR, SeedError, seed_articles, seed_orders

DEMO = json.loads((DEMO_DIR / "orders.json").read_text())


def _counts() -> tuple[int, ...]:
    with session_scope() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Customer, Order, OrderItem, Invoice, PolicyArticle)
        )


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_seeding_twice_changes_nothing_the_second_time(tmp_path):
    path = _write(tmp_path, DEMO)
    for _ in range(2):
        with session_scope() as s:
            seed_orders(s, path)
            seed_articles(s, DEMO_DIR / "kb")
    assert _counts() == (3, 5, 7, 2, 10)


def test_reseeding_updates_rows_in_place(tmp_path):
    with session_scope() as s:
        seed_orders(s, _write(tmp_path, DEMO))
    changed = json.loads(json.dumps(DEMO))
    changed["orders"][1]["status"] = "shipped"
    changed["orders"][1]["tracking_no"] = "SF5550001"
    changed["orders"][1]["items"] = changed["orders"][1]["items"][:1]
    with session_scope() as s:
        seed_orders(s, _write(tmp_path, changed))
    with session_scope() as s:
        order = s.get(Order, "A1024")
        assert (order.status, order.tracking_no, len(order.items)) == ("shipped", "SF5550001", 1)


def _bad(mutate) -> dict:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(DEMO))
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "expected an object"),
        (_bad(lambda d: d["orders"][2].pop("total")), "orders[2] (id 'B4712'): total"),
        (_bad(lambda d: d["orders"][3].update(total="ninety")), "orders[3] (id 'B4735'): total"),
        (_bad(lambda d: d["orders"][0].update(customer_ref="nobody")), "unknown customer_ref 'nobody'"),
        (_bad(lambda d: d["orders"][0]["items"][0].update(qty=0)), "orders[0] (id 'A1023'): items.0.qty"),
        (_bad(lambda d: d["orders"].append(dict(d["orders"][0]))), "duplicate id 'A1023'"),
        (_bad(lambda d: d["customers"][1].pop("name")), "customers[1]: name"),
        (_bad(lambda d: d["orders"][4].update(placed_at="yesterday")), "orders[4] (id 'C2001'): placed_at"),
        (_bad(lambda d: d.update(extra=1)), "extra"),
        (_bad(lambda d: d["orders"][0].update(id="A/1023")), "orders[0] (id 'A/1023'): id"),  # not in a URL path
        (_bad(lambda d: d["orders"][0].update(id=".1023")), "orders[0] (id '.1023'): id"),
    ],
)
def test_malformed_file_names_the_record_and_changes_nothing(tmp_path, data, names):
    with session_scope() as s:
        seed_orders(s, _write(tmp_path, DEMO))
    before = _counts()
    with pytest.raises(SeedError) as error, session_scope() as s:
        seed_orders(s, _write(tmp_path, data))
    assert names in str(error.value)
    assert _counts() == before


def test_ids_with_dots_are_seeded(tmp_path):
    data = _bad(lambda d: d["orders"][0].update(id="CV.26.118042"))
    with session_scope() as s:
        seed_orders(s, _write(tmp_path, data))
    with session_scope() as s:
        assert repository.get_order(s, "CV.26.118042") is not None


def test_half_valid_file_writes_nothing(tmp_path):
    data = _bad(lambda d: d["orders"][-1].update(currency="EURO"))  # the last record is bad
    with pytest.raises(SeedError), session_scope() as s:
        seed_orders(s, _write(tmp_path, data))
    assert _counts() == (0, 0, 0, 0, 0)


def test_article_needs_a_title_line(tmp_path):
    (tmp_path / "a.md").write_text("no title here\nbody")
    with pytest.raises(SeedError, match="first line must be '# Title'"), session_scope() as s:
        seed_articles(s, tmp_path)


def test_article_locale_is_read_from_its_text():
    with session_scope() as s:
        seed_articles(s, DEMO_DIR / "kb")
    with session_scope() as s:
        assert s.get(PolicyArticle, "returns-zh").locale == "zh"
        assert s.get(PolicyArticle, "returns-en").locale == "en"


def test_cli_reports_a_bad_file_and_exits_non_zero(tmp_path):
    path = _write(tmp_path, _bad(lambda d: d["orders"][0].update(total=-5)))
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", "--orders", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_seed" and "orders[0] (id 'A1023'): total" in error["message"]
    assert "Traceback" not in result.stderr


def test_cli_seeds_orders_and_articles(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "seed",
            "--orders",
            str(DEMO_DIR / "orders.json"),
            "--kb",
            str(DEMO_DIR / "kb"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"seeded": {"customers": 3, "orders": 5, "articles": 10}}
