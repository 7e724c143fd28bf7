"""Admin console API for the shop's data: API keys, policy articles (versioned), structured rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field

from app.deps import CurrentAdmin, SessionDep
from app.errors import AppError
from app.grounding.policies import split_passages
from app.models import PolicyArticle
from app.shop import keys, repository, rules, service
from app.shop.schemas import (
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    ArticleDetail,
    ArticleRead,
    ArticleSaved,
    PassagesPreview,
    PoliciesRead,
    RulesRead,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=3)


class ArticleEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=1000)
    body: str = Field(max_length=service.MAX_ARTICLE_CHARS + 1000)
    locale: str | None = None


@router.get("/keys", response_model=ApiKeyList)
def list_keys(admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    return {"keys": [keys.key_read(k) for k in keys.list_keys(session)], "scopes": list(keys.SCOPES)}


@router.post("/keys", status_code=201, response_model=ApiKeyCreated)
def create_key(body: KeyCreate, admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    """A new key; `key` is in this answer only, never again."""
    key, secret = keys.create_key(session, body.name, body.scopes, actor=f"user:{admin.id}")
    return {**keys.key_read(key), "key": secret}


@router.delete("/keys/{key_id}", response_model=ApiKeyRead)
def revoke_key(key_id: int, admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    return keys.key_read(keys.revoke_key(session, key_id, actor=f"user:{admin.id}"))


@router.get("/policies", response_model=PoliciesRead)
def list_policies(admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    """Every article, retired ones too, and the rules an article contradicts."""
    articles = repository.all_articles(session, retired=True)
    return {
        "articles": [service.article_read(a) for a in articles],
        "conflicts": rules.conflicts(session, rules.current(session)),
    }


@router.get("/policies/{article_id}", response_model=ArticleDetail)
def get_policy(article_id: str, admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    article = session.get(PolicyArticle, article_id)
    if article is None:
        raise AppError(404, "not_found", "no such article")
    return {
        **service.article_read(article, body=True),
        "versions": service.article_versions(session, article_id),
        "passages": _passages(article),
    }


@router.put("/policies/{article_id}", response_model=ArticleSaved)
def put_policy(
    article_id: str, body: ArticleEdit, response: Response, admin: CurrentAdmin, session: SessionDep
) -> dict[str, Any]:
    """Add or edit an article: a new version, retrieved from the next turn on."""
    article, result = service.edit_article(session, article_id, body.title, body.body, body.locale, f"user:{admin.id}")
    if result == "created":
        response.status_code = 201
    return {**service.article_read(article, body=True), "result": result, "passages": _passages(article)}


@router.post("/policies/{article_id}/retire", response_model=ArticleRead)
def retire_policy(article_id: str, admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    return service.article_read(service.retire(session, article_id, f"user:{admin.id}"))


@router.post("/policies:preview", response_model=PassagesPreview)
def preview_policy(body: ArticleEdit, admin: CurrentAdmin) -> dict[str, Any]:
    """The passages retrieval would quote from this text, before it is saved."""
    try:
        text = service.article_text("preview", body.title, body.body, body.locale)
    except service.SeedError as exc:
        raise AppError(422, "invalid_article", str(exc)) from None
    return {"locale": text.locale, "passages": _passages(text)}


@router.get("/rules", response_model=RulesRead)
def get_rules(admin: CurrentAdmin, session: SessionDep) -> dict[str, Any]:
    return rules.read(session)


@router.put("/rules", response_model=RulesRead)
def put_rules(admin: CurrentAdmin, session: SessionDep, body: Annotated[Any, Body()]) -> dict[str, Any]:
    return rules.update(session, body, author=f"user:{admin.id}")


def _passages(article: PolicyArticle | service.ArticleText) -> list[dict[str, Any]]:
    return [{"index": p.index, "heading": p.heading, "text": p.text} for p in split_passages(article)]
