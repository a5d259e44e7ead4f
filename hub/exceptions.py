"""The hub's one small exception hierarchy; integrations wrap library errors into these."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DependencyError",
    "DeviceUnavailable",
    "HubError",
    "IntegrationNotFound",
    "InvalidEntityId",
    "InvalidStateError",
    "ServiceCallTimeout",
    "ServiceNotFound",
    "ServiceValidationError",
    "TemplateError",
    "Unauthorized",
]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(HubError):
    """Configuration is invalid. `errors` holds one message per problem, each naming file:line."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class IntegrationNotFound(ConfigError):
    """No integration package exists for a configured domain."""


class DependencyError(ConfigError):
    """Integration dependencies are missing or form a cycle."""


class DeviceUnavailable(HubError):
    """A device or peer could not be reached; entities turn unavailable."""


class InvalidEntityId(HubError, ValueError):
    """An entity id is not of the form `domain.object_id`."""


class InvalidStateError(HubError, ValueError):
    """A state value is not acceptable (too long, wrong type)."""


class ServiceNotFound(HubError):
    """A service call named a service that is not registered."""

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"Service {domain}.{service} not found")
        self.domain = domain
        self.service = service


class ServiceValidationError(HubError, ValueError):
    """Service data failed validation, or the service refused the call (a reason users can read)."""

    def __init__(self, message: str, *, path: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.path = path or []


class ServiceCallTimeout(HubError, TimeoutError):
    """A blocking service call did not finish within its timeout (the handler keeps running)."""


class Unauthorized(HubError):
    """The caller may not do this (permission hook, API auth)."""

    def __init__(self, message: str = "Unauthorized", *, user_id: str | None = None,
                 permission: str | None = None) -> None:
        super().__init__(message)
        self.user_id = user_id
        self.permission = permission


class TemplateError(HubError):
    """A template failed to compile or render."""
