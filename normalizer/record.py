"""The canonical complaint record, owned by the normalizer.

Its JSON Schema (``lapor-gateway schema``) is also the central store's request
body. ``forwarder`` imports only this module from the normalizer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.message import Attachment, PrivacySource, ReporterInfo

Language = Literal["id", "en", "other"]


class Privacy(BaseModel):
    anonymous: bool = False
    confidential: bool = False
    source: PrivacySource | None = None


class CategorySuggestion(BaseModel):
    category: str
    confidence: float = Field(ge=0.0, le=1.0)


class Location(BaseModel):
    text: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class OcrInfo(BaseModel):
    engine: str
    mean_confidence: float
    pages: int


class Complaint(BaseModel):
    """One complaint as forwarded to the central store."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="UUIDv7")
    tracking_id: str = Field(pattern=r"^\d{10}$", description="9 random digits + Damm check digit")
    channel: str
    account: str
    external_id: str
    received_at: datetime
    reporter: ReporterInfo | None = Field(
        default=None, description="absent when the reporter asked to stay anonymous"
    )
    reporter_ref: str | None = Field(
        default=None, description="HMAC-SHA256 of the normalized contact; pseudonymous"
    )
    privacy: Privacy = Field(default_factory=Privacy)
    subject: str | None = None
    body: str
    body_public: str | None = Field(
        default=None, description="body with NIK, KK/KKS, phones and emails masked; null when confidential"
    )
    language: Language = "id"
    category_suggestion: list[CategorySuggestion] = Field(default_factory=list)
    location: Location | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    follow_up_of: str | None = None
    possible_duplicate_of: list[str] = Field(default_factory=list)
    ocr: OcrInfo | None = None
    needs_review: list[str] = Field(default_factory=list, description="reasons; empty when none")


def complaint_schema() -> dict:
    return Complaint.model_json_schema()
