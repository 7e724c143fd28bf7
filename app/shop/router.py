"""The shop's sync API: its own systems keep orders, customers, policies and rules current.

Authenticated by shop API keys (`Authorization: Bearer sdk_…`, scoped), rate-limited per key. Orders use
the `shopdesk seed` schema, one validator and one repository; an order's own `updated_at` orders its
updates, so a late delivery never overwrites a newer state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.deps import SessionDep, SettingsDep, bearer_token
from app.errors import AppError
from app.models import ApiKey
from app.ops import ratelimit
from app.shop import keys, repository, rules, service
from app.shop.schemas import (
    ArticleEdited,
    ArticleList,
    CustomerBatchRead,
    CustomerSeed,
    CustomerUpserted,
    OrderBatchRead,
    OrderRead,
    OrderSeed,
    OrderUpserted,
    RulesRead,
    describe_error,
)
from app.shop.service import SeedError

router = APIRouter(prefix="/api/v1/shop", tags=["shop sync"])
MAX_BATCH = 1000


def _key_with(scope: str) -> Callable[..., ApiKey]:
    def dependency(session: SessionDep, settings: SettingsDep, token: Annotated[str, Depends(bearer_token)]) -> ApiKey:
        key = keys.authenticate(session, token, scope)
        ratelimit.check(settings, "key", key.key_hash[:16], settings.rate_limit_shop_key)
        return key

    return dependency


OrdersKey = Annotated[ApiKey, Depends(_key_with("orders:write"))]
PoliciesKey = Annotated[ApiKey, Depends(_key_with("policies:write"))]
ReadKey = Annotated[ApiKey, Depends(_key_with("read"))]


class CustomerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class ArticleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    body: str
    locale: str | None = None


def _order_seed(raw: Any, order_id: str | None = None) -> OrderSeed:
    if not isinstance(raw, dict):
        raise AppError(422, "invalid_order", f"expected an order object, got {type(raw).__name__}")
    if order_id is not None and raw.setdefault("id", order_id) != order_id:
        raise AppError(422, "invalid_order", f"id: the body's id {raw['id']!r} is not the path's {order_id!r}")
    try:
        return OrderSeed.model_validate(raw)
    except ValidationError as exc:
        raise AppError(422, "invalid_order", describe_error(exc)) from None


def _upsert(session: SessionDep, seed: OrderSeed) -> str:
    try:
        return service.upsert_order(session, seed)
    except SeedError as exc:
        raise AppError(422, "invalid_order", str(exc)) from None


@router.put("/orders/{order_id}", response_model=OrderUpserted)
def put_order(
    order_id: str, response: Response, key: OrdersKey, session: SessionDep, body: Annotated[Any, Body()]
) -> dict[str, str]:
    """Create or update one order (the `shopdesk seed` schema). 201 when created; `result` says
    `created`, `updated`, `unchanged` (the same update again) or `stale` (older than the stored one)."""
    result = _upsert(session, _order_seed(body, order_id))
    if result == "created":
        response.status_code = 201
    return {"id": order_id, "result": result}


@router.post("/orders:batch", response_model=OrderBatchRead, response_model_exclude_unset=True)
def batch_orders(key: OrdersKey, session: SessionDep, body: Annotated[Any, Body()]) -> dict[str, Any]:
    """Up to 1,000 orders; each is stored whole or not at all, with a result per order."""
    records = _batch(body, "orders")
    seeds: dict[int, OrderSeed] = {}
    refused: dict[int, AppError] = {}
    for i, raw in enumerate(records):
        try:
            seeds[i] = _order_seed(raw)
        except AppError as exc:
            refused[i] = exc
    stored = dict(zip(seeds, service.upsert_orders(session, list(seeds.values())), strict=True))

    def outcome(i: int) -> str:
        result = stored.get(i, refused.get(i))
        if isinstance(result, SeedError):
            raise AppError(422, "invalid_order", str(result))
        if isinstance(result, AppError):
            raise result
        return str(result)

    return _each(list(range(len(records))), records, "id", outcome)


@router.get("/orders/{order_id}", response_model=OrderRead)
def get_order(order_id: str, key: ReadKey, session: SessionDep) -> dict[str, Any]:
    order = repository.get_order(session, order_id)
    if order is None:
        raise AppError(404, "not_found", "no such order")
    return service.order_read(order)


@router.delete("/orders/{order_id}", status_code=204, response_class=Response)
def delete_order(order_id: str, key: OrdersKey, session: SessionDep) -> Response:
    """Erase an order (items and invoice with it)."""
    if not service.delete_order(session, order_id):
        raise AppError(404, "not_found", "no such order")
    _audit(session, key, "shop.order.delete", f"order:{order_id}")
    return Response(status_code=204)


@router.put("/customers/{ref}", response_model=CustomerUpserted)
def put_customer(
    ref: str, response: Response, key: OrdersKey, session: SessionDep, body: CustomerBody
) -> dict[str, str]:
    _, result = service.upsert_customer(session, _customer_seed({"ref": ref, "name": body.name}))
    if result == "created":
        response.status_code = 201
    return {"ref": ref, "result": result}


@router.post("/customers:batch", response_model=CustomerBatchRead, response_model_exclude_unset=True)
def batch_customers(key: OrdersKey, session: SessionDep, body: Annotated[Any, Body()]) -> dict[str, Any]:

    def store(raw: Any) -> str:
        result = service.upsert_customer(session, _customer_seed(raw))[1]
        session.flush()  # a later record of the batch may name the same ref
        return result

    records = _batch(body, "customers")
    return _each(records, records, "ref", store)


@router.delete("/customers/{ref}", status_code=204, response_class=Response)
def delete_customer(ref: str, key: OrdersKey, session: SessionDep) -> Response:
    """Erase a customer and their orders; their conversations stay, linked to no one."""
    if not service.delete_customer(session, ref):
        raise AppError(404, "not_found", "no such customer")
    _audit(session, key, "shop.customer.delete", f"customer:{ref}")
    return Response(status_code=204)


@router.get("/policies", response_model=ArticleList)
def list_policies(key: ReadKey, session: SessionDep) -> dict[str, Any]:
    return {"articles": [service.article_read(a) for a in repository.all_articles(session, retired=True)]}


@router.put("/policies/{article_id}", response_model=ArticleEdited)
def put_policy(
    article_id: str, response: Response, key: PoliciesKey, session: SessionDep, body: ArticleBody
) -> dict[str, Any]:
    """Add or edit a policy article; every change is a new version, used from the next turn on."""
    article, result = service.edit_article(session, article_id, body.title, body.body, body.locale, f"key:{key.id}")
    if result == "created":
        response.status_code = 201
    return {**service.article_read(article), "result": result}


@router.delete("/policies/{article_id}", status_code=204, response_class=Response)
def retire_policy(article_id: str, key: PoliciesKey, session: SessionDep) -> Response:
    service.retire(session, article_id, f"key:{key.id}")
    return Response(status_code=204)


@router.get("/rules", response_model=RulesRead)
def get_rules(key: ReadKey, session: SessionDep) -> dict[str, Any]:
    return rules.read(session)


@router.put("/rules", response_model=RulesRead)
def put_rules(key: PoliciesKey, session: SessionDep, body: Annotated[Any, Body()]) -> dict[str, Any]:
    """Set some or all of the structured rules (`null` removes one)."""
    return rules.update(session, body, author=f"key:{key.id}")


def _customer_seed(raw: Any) -> CustomerSeed:
    if not isinstance(raw, dict):
        raise AppError(422, "invalid_customer", f"expected a customer object, got {type(raw).__name__}")
    try:
        return CustomerSeed.model_validate(raw)
    except ValidationError as exc:
        raise AppError(422, "invalid_customer", describe_error(exc)) from None


def _batch(body: Any, field: str) -> list[Any]:
    records = body.get(field) if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise AppError(422, "invalid_request", f'expected {{"{field}": [...]}}')
    if len(records) > MAX_BATCH:
        raise AppError(422, "batch_too_large", f"at most {MAX_BATCH} {field} a request (got {len(records)})")
    return records


def _each(items: list[Any], records: list[Any], label: str, store: Callable[[Any], str]) -> dict[str, Any]:
    """A result, or an error, per record (store(item) gives it or raises), and their counts. Every check runs
    before a record is written, so a refused one leaves nothing behind and the others stand."""
    results: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for i, (item, raw) in enumerate(zip(items, records, strict=True)):
        entry = {"index": i, label: raw.get(label) if isinstance(raw, dict) else None}
        try:
            entry["result"] = outcome = store(item)
        except AppError as exc:
            entry["error"], outcome = {"code": exc.code, "message": exc.message}, "error"
        results.append(entry)
        counts[outcome] = counts.get(outcome, 0) + 1
    return {"results": results, "counts": counts}


def _audit(session: SessionDep, key: ApiKey, action: str, target: str) -> None:
    repository.audit(session, f"key:{key.id}", action, target)
