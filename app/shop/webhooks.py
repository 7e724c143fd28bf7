"""Webhook receiver for Shopify's order topics, mapped onto the same order upsert as the sync API.

Point the store at `https://<shopdesk>/api/v1/shop/webhooks/shopify` (Settings → Notifications → Webhooks,
JSON, topics `orders/create`, `orders/updated`, `orders/paid`, `orders/fulfilled`, `orders/cancelled`) and set
`SHOPDESK_SHOPIFY_WEBHOOK_SECRET` to the signing secret the store shows. Each delivery is checked against
its `X-Shopify-Hmac-Sha256` header (base64 HMAC-SHA256 of the raw body); a bad signature is 401 and stores
nothing. Shopify delivers at least once and not in order: the order's `updated_at` keeps the newest state.
No call goes back to Shopify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from app.db import session_scope
from app.deps import SettingsDep
from app.errors import AppError
from app.ops import ratelimit
from app.shop import service
from app.shop.schemas import CustomerSeed, OrderSeed, WebhookIgnored, WebhookStored, describe_error
from app.shop.service import SeedError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/shop/webhooks", tags=["shop sync"])

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/cancelled",
    }
)
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def valid_signature(secret: str, body: bytes, signature: str | None) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return bool(signature) and hmac.compare_digest(expected, signature or "")


@router.post(
    "/shopify",
    response_model=WebhookStored,
    responses={202: {"model": WebhookIgnored, "description": "nothing to store (not an order topic, a guest order)"}},
)
async def shopify(
    request: Request,
    settings: SettingsDep,
    x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
    x_shopify_topic: Annotated[str | None, Header()] = None,
) -> Response:
    """One Shopify webhook delivery: 200 when stored (or already newer), 202 when there is nothing to store."""
    if not settings.shopify_webhook_secret:
        raise AppError(404, "not_configured", "the Shopify receiver is off: set SHOPDESK_SHOPIFY_WEBHOOK_SECRET")
    ratelimit.check(settings, "ip", request.client.host if request.client else "", settings.rate_limit_shop_key)
    body = await request.body()
    if not valid_signature(settings.shopify_webhook_secret, body, x_shopify_hmac_sha256):
        raise AppError(401, "bad_signature", "the X-Shopify-Hmac-Sha256 signature does not match this body")
    if x_shopify_topic not in ORDER_TOPICS:
        return _json({"result": "ignored", "reason": f"topic {x_shopify_topic!r} is not an order topic"}, 202)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AppError(400, "bad_json", "the body is not JSON") from None
    mapped = map_order(payload)
    if mapped is None:
        return _json({"result": "ignored", "reason": "an order without a customer account (guest checkout)"}, 202)
    # The body had to be read raw (the signature is over its bytes); the database work runs off the loop.
    result = await run_in_threadpool(_store, *mapped)
    log.info("shopify %s: order %s %s", x_shopify_topic, mapped[1].id, result)
    return _json({"id": mapped[1].id, "result": result}, 200)


def _store(customer: CustomerSeed, order: OrderSeed) -> str:
    """Upsert the customer and the order in one transaction, committed before the answer."""
    with session_scope() as session:
        service.upsert_customer(session, customer)
        session.flush()
        try:
            return service.upsert_order(session, order)
        except SeedError as exc:
            raise AppError(422, "invalid_order", str(exc)) from None


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        raise AppError(422, "invalid_order", f"not an amount: {value!r}") from None


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in the payload; anything else (a missing key, a number, a string) is none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def map_order(payload: Any) -> tuple[CustomerSeed, OrderSeed] | None:
    """A Shopify order (REST webhook JSON) as a customer and an order in the seed schema; None for a guest."""
    if not isinstance(payload, dict):
        raise AppError(422, "invalid_order", "expected a Shopify order object")
    person = payload.get("customer") or {}
    if not isinstance(person, dict) or person.get("id") is None:
        return None
    name = " ".join(str(person.get(k) or "") for k in ("first_name", "last_name")).strip()
    name = name or str(person.get("email") or "").split("@")[0] or f"Customer {person['id']}"
    fulfillments = _objects(payload.get("fulfillments"))
    refunds = _objects(payload.get("refunds"))
    history = _history(payload, fulfillments, refunds)
    last = fulfillments[-1] if fulfillments else {}
    refunded = sum(
        (
            _money(t.get("amount"))
            for r in refunds
            for t in _objects(r.get("transactions"))
            if t.get("kind") == "refund" and t.get("status", "success") == "success"
        ),
        Decimal("0"),
    )
    gateways = [t.get("gateway") for r in refunds for t in _objects(r.get("transactions"))]
    order_id = _ID_CHARS.sub("", str(payload.get("name") or payload.get("order_number") or payload.get("id") or ""))
    record = {
        "id": order_id,
        "customer_ref": str(person["id"]),
        "status": history[-1]["status"] if history else "pending",
        "carrier": last.get("tracking_company") or None,
        "tracking_no": last.get("tracking_number") or None,
        "total": _money(payload.get("total_price")),
        "currency": payload.get("currency") or "USD",
        "placed_at": payload.get("created_at"),
        "updated_at": payload.get("updated_at"),
        "status_history": history,
        "refund": {"amount": refunded, "destination": next((g for g in gateways if g), None)} if refunds else None,
        "items": [
            {
                "sku": str(item.get("sku") or item.get("variant_id") or item.get("product_id") or item.get("id")),
                "name": item.get("name") or item.get("title") or "item",
                "qty": item.get("quantity") or 1,
                "unit_price": _money(item.get("price")),
            }
            for item in _objects(payload.get("line_items"))
        ],
    }
    try:
        return CustomerSeed(ref=str(person["id"]), name=name[:200]), OrderSeed.model_validate(record)
    except ValidationError as exc:
        raise AppError(422, "invalid_order", describe_error(exc)) from None


def _history(payload: dict[str, Any], fulfillments: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> list[dict]:
    """What happened to the order and when, from the payload's own timestamps, oldest first."""
    events: list[tuple[str, Any]] = []
    if payload.get("financial_status") in ("paid", "partially_refunded", "refunded"):
        events.append(("paid", payload.get("processed_at") or payload.get("created_at")))
    for fulfillment in fulfillments:
        if fulfillment.get("status") in ("cancelled", "failure", "error"):
            continue
        events.append(("shipped", fulfillment.get("created_at")))
        if fulfillment.get("shipment_status") == "delivered":
            events.append(("delivered", fulfillment.get("updated_at") or fulfillment.get("created_at")))
    if payload.get("financial_status") == "refunded" and refunds:
        events.append(("refunded", refunds[-1].get("created_at")))
    if payload.get("cancelled_at"):
        events.append(("cancelled", payload["cancelled_at"]))
    return [{"status": s, "at": at} for s, at in sorted((e for e in events if e[1]), key=lambda e: str(e[1]))]
