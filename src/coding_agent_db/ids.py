"""Row ids: 21 URL-safe characters (126 random bits), the shape of the
nanoid ids the TypeScript app already wrote."""

from __future__ import annotations

import secrets

__all__ = ["new_id"]


def new_id() -> str:
    """A fresh random id such as ``V1StGXR8_Z5jdHi6B-myT``."""
    return secrets.token_urlsafe(16)[:21]
