"""Services: ServiceCall, and the ServiceRegistry with schemas, responses and a permission hook."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .const import (
    EVENT_CALL_SERVICE,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
)
from .events import Context, ReadOnlyDict
from .exceptions import (
    HubError,
    ServiceCallTimeout,
    ServiceNotFound,
    ServiceValidationError,
)
from .humanize import humanize_invalid
from .jobs import CALLBACK_TYPE, HubJob, JobType, callback
from .states import valid_domain

if TYPE_CHECKING:
    from .core import Hub

__all__ = [
    "CallBarrier",
    "PermissionHook",
    "Service",
    "ServiceCall",
    "ServiceRegistry",
    "ServiceResponse",
    "SupportsResponse",
]

_LOGGER = logging.getLogger(__name__)


# --------------------------------------------------------------------------- services


class SupportsResponse(enum.Enum):
    """Whether a service returns response data."""

    NONE = "none"
    OPTIONAL = "optional"
    ONLY = "only"


class ServiceCall:
    """One call of a service: who called it (context), with what data."""

    __slots__ = ("context", "data", "domain", "hub", "return_response", "service")

    def __init__(self, hub: Hub, domain: str, service: str, data: Mapping[str, Any] | None,
                 context: Context, return_response: bool = False) -> None:
        self.hub = hub
        self.domain = domain
        self.service = service
        self.data: ReadOnlyDict = ReadOnlyDict(data or {})
        self.context = context
        self.return_response = return_response

    def __repr__(self) -> str:
        return f"<ServiceCall {self.domain}.{self.service} context={self.context.id}: {dict(self.data)}>"


ServiceResponse = dict[str, Any] | None
ServiceHandler = Callable[[ServiceCall], Any]
PermissionHook = Callable[[ServiceCall], Awaitable[None] | None]
# awaited after a blocking call's handler returned, before its caller gets the answer
CallBarrier = Callable[[ServiceCall], Awaitable[None] | None]


@dataclass(slots=True)
class Service:
    """A registered service: its handler, schema and whether it answers."""

    job: HubJob[Any]
    schema: vol.Schema | Callable[[Any], Any] | None  # a vol.Schema or any validator
    domain: str
    service: str
    supports_response: SupportsResponse
    description: str = ""


class ServiceRegistry:
    """Register and call `domain.service`. Bad data raises ServiceValidationError naming the key."""

    __slots__ = ("_barriers", "_hub", "_permission_hooks", "_services")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}
        self._permission_hooks: list[PermissionHook] = []
        self._barriers: list[CallBarrier] = []

    @callback
    def async_services(self) -> dict[str, dict[str, Service]]:
        """A copy of the registered services by domain."""
        return {domain: dict(services) for domain, services in self._services.items()}

    @callback
    def has_service(self, domain: str, service: str) -> bool:
        """Whether `domain.service` is registered."""
        return service.lower() in self._services.get(domain.lower(), {})

    @callback
    def async_register(self, domain: str, service: str, handler: ServiceHandler,
                       schema: vol.Schema | Callable[[Any], Any] | None = None,
                       supports_response: SupportsResponse = SupportsResponse.NONE,
                       description: str = "") -> CALLBACK_TYPE:
        """Register a service; returns its remover. Re-registering replaces the handler."""
        domain = domain.lower()
        service = service.lower()
        if not valid_domain(domain) or not valid_domain(service):
            raise HubError(f"Invalid service name {domain}.{service}")
        entry = Service(HubJob(handler, f"{domain}.{service}"), schema, domain, service,
                        supports_response, description)
        self._services.setdefault(domain, {})[service] = entry
        self._hub.bus.async_fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})

        @callback
        def remove() -> None:
            self.async_remove(domain, service, entry)

        return remove

    @callback
    def async_remove(self, domain: str, service: str, entry: Service | None = None) -> None:
        """Remove a service (only `entry` if given, so an old remover cannot remove a newer one)."""
        services = self._services.get(domain)
        if not services or service not in services:
            return
        if entry is not None and services[service] is not entry:
            return
        del services[service]
        if not services:
            del self._services[domain]
        self._hub.bus.async_fire(EVENT_SERVICE_REMOVED, {"domain": domain, "service": service})

    @callback
    def async_add_permission_hook(self, hook: PermissionHook) -> CALLBACK_TYPE:
        """Add a hook that sees every call before its handler and may raise Unauthorized."""
        self._permission_hooks.append(hook)

        @callback
        def remove() -> None:
            if hook in self._permission_hooks:
                self._permission_hooks.remove(hook)

        return remove

    @callback
    def async_add_call_barrier(self, barrier: CallBarrier) -> CALLBACK_TYPE:
        """Add a barrier awaited after every blocking call's handler, before the caller is answered
        (the audit log waits there until the call's entry is committed); returns its remover."""
        self._barriers.append(barrier)

        @callback
        def remove() -> None:
            if barrier in self._barriers:
                self._barriers.remove(barrier)

        return remove

    @callback
    def async_get(self, domain: str, service: str) -> Service:
        """The registered Service (handler, schema, response support); raises ServiceNotFound."""
        return self._lookup(domain, service)

    def _lookup(self, domain: str, service: str) -> Service:
        try:
            return self._services[domain][service]
        except KeyError:
            domain_l, service_l = domain.lower(), service.lower()
            try:
                return self._services[domain_l][service_l]
            except KeyError:
                raise ServiceNotFound(domain, service) from None

    @callback
    def async_validate(self, domain: str, service: str,
                       service_data: Mapping[str, Any] | None) -> tuple[Service, dict[str, Any]]:
        """Look up a service and validate data against its schema without calling it."""
        handler = self._lookup(domain, service)
        data = dict(service_data) if service_data else {}
        if handler.schema is not None:
            try:
                data = handler.schema(data)
            except vol.MultipleInvalid as err:
                raise _humanize_service_error(domain, service, err) from err
            except vol.Invalid as err:
                raise _humanize_service_error(domain, service, vol.MultipleInvalid([err])) from err
        return handler, data

    async def async_call(self, domain: str, service: str,
                         service_data: Mapping[str, Any] | None = None, blocking: bool = True,
                         context: Context | None = None, timeout: float | None = None,
                         return_response: bool = False) -> ServiceResponse:
        """Call a service. Raises ServiceNotFound, ServiceValidationError, Unauthorized, ServiceCallTimeout.

        blocking=False returns as soon as the handler is scheduled. return_response needs blocking.
        """
        handler, data = self.async_validate(domain, service, service_data)
        if return_response:
            if not blocking:
                raise ServiceValidationError("A service call that returns a response must be blocking")
            if handler.supports_response is SupportsResponse.NONE:
                raise ServiceValidationError(f"Service {domain}.{service} does not return a response")
        elif handler.supports_response is SupportsResponse.ONLY:
            raise ServiceValidationError(f"Service {domain}.{service} must be called with return_response")
        if context is None:
            context = Context()
        call = ServiceCall(self._hub, handler.domain, handler.service, data, context, return_response)
        for hook in self._permission_hooks:
            result = hook(call)
            if result is not None:
                await result
        self._hub.bus.async_fire(
            EVENT_CALL_SERVICE,
            {"domain": handler.domain, "service": handler.service, "service_data": data},
            context=context,
        )
        coro = self._execute(handler, call)
        if not blocking:
            self._hub.async_create_task(coro, f"service {domain}.{service}")
            return None
        if timeout is None:
            response = await coro
        else:
            task = self._hub.async_create_task(coro, f"service {domain}.{service}", log_exceptions=False)
            try:
                response = await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                # The caller stops waiting, so nobody else will see what the handler raises later.
                task.add_done_callback(_log_late_failure)
                raise ServiceCallTimeout(
                    f"Service {domain}.{service} did not finish within {timeout} s (it keeps running)"
                ) from None
        for barrier in list(self._barriers):
            waiting = barrier(call)
            if waiting is not None:
                await waiting
        if not return_response:
            return None
        if response is not None and not isinstance(response, dict):
            raise HubError(f"Service {domain}.{service} returned {type(response).__name__}, expected a dict")
        return response

    async def _execute(self, handler: Service, call: ServiceCall) -> Any:
        job = handler.job
        if job.job_type is JobType.Callback:
            return job.target(call)
        if job.job_type is JobType.Coroutinefunction:
            return await job.target(call)
        return await self._hub.async_add_executor_job(job.target, call)


def _log_late_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        _LOGGER.error("%s failed after its caller timed out: %s", task.get_name(), exc)


def _humanize_service_error(domain: str, service: str, err: vol.MultipleInvalid) -> ServiceValidationError:
    first_path: list[str | int] = (
        [p if isinstance(p, int) else str(p) for p in err.errors[0].path] if err.errors else []
    )
    return ServiceValidationError(f"Invalid data for {domain}.{service}: {humanize_invalid(err)}", path=first_path)


