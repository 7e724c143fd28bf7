"""The demo shop page: its products and prices are the shop's own, in the visitor's language."""

from __future__ import annotations

import re


def test_the_page_shows_the_products_at_the_prices_the_orders_hold(client, demo_shop):
    page = client.get("/").text
    assert re.search(r"Mechanical keyboard</h2><p>¥899\.00<", page)  # order A1023 was placed at 899.00
    assert "¥499" not in page


def test_the_page_in_chinese_keeps_its_language_when_switching_customers(client, demo_shop):
    page = client.get("/?lang=zh&customer=c1002").text
    assert '<html lang="zh">' in page and "切换" in page and "订单、退款或发票有疑问" in page
    assert '<input type="hidden" name="lang" value="zh">' in page  # the Switch form carries it
    assert 'data-locale="zh"' in page
    english = client.get("/?customer=c1002").text
    assert "Switch" in english and 'name="lang"' not in english


def test_the_favicon_is_served(client):
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
