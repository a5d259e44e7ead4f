"""Authentication: long-lived access tokens, users with roles and centres, sessions and permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import User
from .permissions import (
    PermissionPolicy,
    Principal,
    ServiceClass,
    async_setup_permissions,
    classify_service,
    entity_centre,
    get_permissions,
)
from .sessions import LoginError, Session, SessionConfig, SessionManager, async_setup_sessions, get_sessions
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
from .users import Role, UserError, UserRecord, UserStore, async_get_users, get_users

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "LoginError",
    "PermissionPolicy",
    "Principal",
    "Role",
    "ServiceClass",
    "Session",
    "SessionConfig",
    "SessionManager",
    "TokenError",
    "TokenInfo",
    "TokenStore",
    "User",
    "UserError",
    "UserRecord",
    "UserStore",
    "async_get_users",
    "async_setup_auth",
    "async_setup_permissions",
    "async_setup_sessions",
    "classify_service",
    "create_token",
    "entity_centre",
    "get_permissions",
    "get_sessions",
    "get_users",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "tokens_path",
]


async def async_setup_auth(hub: Hub, *, session_config: SessionConfig | None = None) -> PermissionPolicy:
    """Load the users, install the permission hook and start the session manager; returns the policy."""
    users = await async_get_users(hub)
    policy = await async_setup_permissions(hub, users)
    await async_setup_sessions(hub, session_config)
    return policy
