"""Request bodies of the return path: an agency's answer and a citizen's.

Strict JSON (no coercion, no unknown fields): a wrong type is a 422, never a guess. Lone
surrogates and invalid UTF-8 fail JSON parsing (pydantic's parser refuses them), so every string
that passes is storable. Error lists keep locations and messages only, never the input (a
citizen's text must not come back in an error or a log).
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .status import Status

MAX_TEXT = 10_000  # characters; a request body is also capped in bytes by the app
MAX_ATTACHMENTS = 50


class InvalidBody(Exception):
    """The body does not match its model. ``errors`` hold locations and messages, never values."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"invalid body ({len(errors)} errors)")
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


M = TypeVar("M", bound=_Strict)


class AgencyResponse(_Strict):
    """``POST /v1/complaints/{id}/responses``: one answer, so one message to the citizen."""

    kind: Literal["response", "request_details"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    status: Status | None = None

    @model_validator(mode="after")
    def _request_details_means_needs_details(self) -> AgencyResponse:
        if self.kind == "request_details" and self.status not in (None, "needs_details"):
            raise ValueError("a request_details moves the complaint to needs_details; give no other status")
        return self


class AttachmentRef(_Strict):
    """An attachment's description; its bytes stay with the gateway."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: str = Field(min_length=1, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size: int = Field(ge=0, le=2**53)
    filename: str | None = Field(default=None, max_length=255)


class CitizenResponse(_Strict):
    """``POST /v1/complaints/{id}/citizen-responses``: what the citizen answered, as the gateway received it."""

    text: str = Field(max_length=MAX_TEXT)
    received_at: AwareDatetime
    channel: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @model_validator(mode="after")
    def _not_empty(self) -> CitizenResponse:
        if not self.text.strip() and not self.attachments:
            raise ValueError("a citizen response needs a text or an attachment")
        return self


def parse(model: type[M], body: bytes) -> M:
    """Validate ``body`` as JSON of ``model``; raise :class:`InvalidBody` without echoing any value."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise InvalidBody([{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in errors]) from None
