"""All ORM models, importable from one place (training/ reuses them)."""

from app.models.chat import Attachment, Conversation, Feedback, Message, ReplyCandidate
from app.models.ops import ApiKey, AuditLog, ModelVersion, Review, RuntimeSetting, TrainingRun, User, UserSession
from app.models.shop import (
    Customer,
    Invoice,
    Order,
    OrderItem,
    PolicyArticle,
    PolicyArticleVersion,
    ShopRule,
)

__all__ = [
    "ApiKey",
    "Attachment",
    "AuditLog",
    "Conversation",
    "Customer",
    "Feedback",
    "Invoice",
    "Message",
    "ModelVersion",
    "Order",
    "OrderItem",
    "PolicyArticle",
    "PolicyArticleVersion",
    "ReplyCandidate",
    "Review",
    "RuntimeSetting",
    "ShopRule",
    "TrainingRun",
    "User",
    "UserSession",
]
