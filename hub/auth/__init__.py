"""Authentication: long-lived access tokens and the identity they stand for."""

from __future__ import annotations

from .models import User
from .tokens import (
    TokenError,
    TokenInfo,
    TokenStore,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
    tokens_path,
)

__all__ = [
    "TokenError",
    "TokenInfo",
    "TokenStore",
    "User",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "tokens_path",
]
