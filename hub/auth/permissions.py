"""Who may call which service: one table of service classes, one of role grants, ownership by control centre.

Every service call passes the hub's permission hook (REST, websocket, automations and scripts
acting for a user alike: their contexts carry the user id). A call without a user id is the hub
itself (an automation on a timer, an integration) and is allowed. For a user's call the hook
finds the user's role and centre, the class of the service (SERVICE_CLASSES, first match wins),
refuses classes the role is not granted (ROLE_GRANTS) and, for owned classes (actuation, alarm
handling), refuses targets owned by another control centre. An entity belongs to the centre of
its area (area registry `centre`, else the `hub:` control centre that lists the area, else the
default centre).
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..const import ATTR_AREA_ID
from ..core import CALLBACK_TYPE, Context, Hub, HubKey, ServiceCall, callback
from ..exceptions import Unauthorized
from ..helpers.device_registry import DATA_REGISTRY as DEVICES
from ..helpers.entity_registry import DATA_REGISTRY as ENTITIES
from .users import Role, UserRecord, UserStore, async_get_users

if TYPE_CHECKING:
    from .models import User

__all__ = [
    "EVENT_PERMISSION_DENIED",
    "OWNED_CLASSES",
    "ROLE_GRANTS",
    "SERVICE_CLASSES",
    "WEBHOOK_PATH_PREFIX",
    "PermissionPolicy",
    "Principal",
    "ServiceClass",
    "TargetResolver",
    "area_centre",
    "async_register_target_resolver",
    "async_setup_permissions",
    "classify_service",
    "entity_area",
    "entity_centre",
    "get_permissions",
    "route_allowed",
]

_LOGGER = logging.getLogger(__name__)

EVENT_PERMISSION_DENIED: Final = "permission_denied"
WEBHOOK_PATH_PREFIX: Final = "/api/webhook/"


class ServiceClass(enum.StrEnum):
    """What a service does, as far as permissions go."""

    ACTUATION = "actuation"  # moves or shows something in the city; checked against the targets' centre
    RAW_ACTUATION = "raw_actuation"  # writes to a device with no entity to own it: admins only
    SIMULATION = "simulation"  # makes simulated devices see something (a fire, a vehicle, a gale): admins only
    ALARM = "alarm"  # handling an alarm; checked against the alarm's owning centre
    ALARM_RAISE = "alarm_raise"  # reporting a new alarm (or a drill)
    WATCHLIST = "watchlist"  # changing police watchlists (ANPR hotlists) and reviewing their hits
    BIOMETRIC = "biometric"  # entering and confirming authorisations for face identification, their watchlists
    AUTOMATION_CONTROL = "automation_control"  # automations on/off/trigger, scripts
    CONFIG = "config"  # reloading configuration
    SYSTEM = "system"  # stopping the hub, purging history, users
    DELIVERY_CONTROL = "delivery_control"  # replaying and re-enabling deliveries to agencies, evidence exports
    READ = "read"  # services that only answer
    GENERAL = "general"  # everything else (helpers, notifications)


# The one table: `domain.service` patterns (fnmatch), first match wins. A new device domain that
# moves or shows something belongs here as ACTUATION.
SERVICE_CLASSES: Final[tuple[tuple[str, ServiceClass], ...]] = (
    ("bollard.*", ServiceClass.ACTUATION),
    ("panel.*", ServiceClass.ACTUATION),
    ("switch.*", ServiceClass.ACTUATION),
    ("siren.*", ServiceClass.ACTUATION),
    ("light.*", ServiceClass.ACTUATION),
    ("lock.*", ServiceClass.ACTUATION),
    ("cover.*", ServiceClass.ACTUATION),
    ("valve.*", ServiceClass.ACTUATION),
    ("camera.purge_recordings", ServiceClass.SYSTEM),  # deleting recorded video: admins only
    ("camera.unlock_recording", ServiceClass.DELIVERY_CONTROL),  # releasing evidence: supervisors
    ("camera.*", ServiceClass.ACTUATION),
    ("button.*", ServiceClass.ACTUATION),
    ("number.*", ServiceClass.ACTUATION),
    ("select.*", ServiceClass.ACTUATION),
    ("*.simulate_*", ServiceClass.SIMULATION),  # they make owned events (a tower's fire) happen
    ("simulator.*", ServiceClass.SIMULATION),
    ("modbus.write_*", ServiceClass.RAW_ACTUATION),
    ("mqtt.publish", ServiceClass.RAW_ACTUATION),
    ("alarm.raise", ServiceClass.ALARM_RAISE),
    ("thermal_fire.drill", ServiceClass.ALARM_RAISE),
    ("anpr.hotlist_*", ServiceClass.WATCHLIST),
    ("anpr.hit_accept", ServiceClass.WATCHLIST),
    ("anpr.hit_reject", ServiceClass.WATCHLIST),
    ("anpr.read_correct", ServiceClass.WATCHLIST),  # "this plate reads X": police roles, audited
    ("anpr.model_*", ServiceClass.CONFIG),  # promoting or rolling back the plate reader's model
    ("anpr.plate_search_export", ServiceClass.DELIVERY_CONTROL),  # an evidence export (supervisors, admins)
    ("anpr.plate_search", ServiceClass.WATCHLIST),  # investigators (not engineers); audited with its purpose
    ("face.authorisation_*", ServiceClass.BIOMETRIC),  # docs/face.md: supervisors and admins only
    ("face.watchlist_*", ServiceClass.BIOMETRIC),
    ("face.check_authorisations", ServiceClass.BIOMETRIC),
    ("face.identify", ServiceClass.WATCHLIST),  # refused anyway unless an authorisation covers the camera
    ("face.match_*", ServiceClass.WATCHLIST),  # two distinct operators verify a candidate
    ("face.report", ServiceClass.READ),
    ("face.blur", ServiceClass.DELIVERY_CONTROL),  # blurring files for exports
    ("alarm.stats", ServiceClass.READ),
    ("incident.create", ServiceClass.ALARM_RAISE),  # opening an incident, like reporting an alarm
    ("incident.*", ServiceClass.ALARM),  # working on one: checked against the incident's owning centre
    ("shift_log.*", ServiceClass.ALARM),  # a centre's shift log: its own operators and supervisors
    ("alarm.*", ServiceClass.ALARM),
    ("automation.reload", ServiceClass.CONFIG),
    ("script.reload", ServiceClass.CONFIG),
    ("hub.reload_integration", ServiceClass.CONFIG),
    ("zeroconf.*", ServiceClass.CONFIG),  # adopting discovered devices is an engineer's job
    ("automation.*", ServiceClass.AUTOMATION_CONTROL),
    ("script.*", ServiceClass.AUTOMATION_CONTROL),
    ("agency.replay*", ServiceClass.DELIVERY_CONTROL),
    ("agency.enable", ServiceClass.DELIVERY_CONTROL),
    ("evidence.*", ServiceClass.DELIVERY_CONTROL),
    ("hub.check_config", ServiceClass.READ),
    ("hub.integrations", ServiceClass.READ),
    ("hub.*", ServiceClass.SYSTEM),
    ("recorder.*", ServiceClass.SYSTEM),
    ("auth.*", ServiceClass.SYSTEM),
    ("audit.*", ServiceClass.SYSTEM),
    ("*", ServiceClass.GENERAL),
)

_ALL_CLASSES: Final = frozenset(ServiceClass)
ROLE_GRANTS: Final[Mapping[Role, frozenset[ServiceClass]]] = {
    Role.ADMIN: _ALL_CLASSES,
    Role.SUPERVISOR: frozenset({ServiceClass.ACTUATION, ServiceClass.ALARM, ServiceClass.ALARM_RAISE,
                                ServiceClass.WATCHLIST, ServiceClass.BIOMETRIC, ServiceClass.AUTOMATION_CONTROL,
                                ServiceClass.DELIVERY_CONTROL, ServiceClass.READ, ServiceClass.GENERAL}),
    Role.OPERATOR: frozenset({ServiceClass.ACTUATION, ServiceClass.ALARM, ServiceClass.ALARM_RAISE,
                              ServiceClass.WATCHLIST, ServiceClass.READ, ServiceClass.GENERAL}),
    Role.ENGINEER: frozenset({ServiceClass.AUTOMATION_CONTROL, ServiceClass.CONFIG, ServiceClass.READ,
                              ServiceClass.GENERAL}),
    Role.AGENCY: frozenset(),  # agencies reach their webhook routes only
}
# Classes a non-admin may only use on what their own centre owns.
OWNED_CLASSES: Final = frozenset({ServiceClass.ACTUATION, ServiceClass.ALARM})

DATA_PERMISSIONS: HubKey[PermissionPolicy] = HubKey("auth_permissions")
_DATA_RESOLVERS: HubKey[dict[str, TargetResolver]] = HubKey("auth_target_resolvers")

# A resolver names the targets of a call with their owning centre (None: unknown owner);
# None instead of a dict means the call names no target at all.
TargetResolver = Callable[[Hub, ServiceCall], "Mapping[str, str | None] | None"]


@functools.lru_cache(maxsize=1024)
def classify_service(domain: str, service: str) -> ServiceClass:
    """The class of `domain.service` from SERVICE_CLASSES."""
    name = f"{domain}.{service}".lower()
    for pattern, service_class in SERVICE_CLASSES:
        if fnmatch.fnmatchcase(name, pattern):
            return service_class
    return ServiceClass.GENERAL


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a user's id, role and the one control centre it belongs to."""

    user_id: str
    role: Role
    centre: str
    name: str = ""
    webhooks: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: UserRecord) -> Principal:
        """The principal of a stored user."""
        return cls(record.id, record.role, record.centre, record.name, record.webhooks)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (for the frontend: what to show)."""
        return {"user_id": self.user_id, "role": self.role.value, "centre": self.centre, "name": self.name}


# --------------------------------------------------------------------------- ownership


@callback
def area_centre(hub: Hub, area_id: str | None) -> str | None:
    """The control centre owning an area: the area registry's `centre`, else the `hub:` centre that
    lists the area, else the default centre. None without a hub configuration to ask."""
    if area_id is not None:
        from ..helpers.area_registry import DATA_REGISTRY as AREAS

        registry = hub.data.get(AREAS)
        area = registry.async_get_area(area_id) if registry is not None else None
        if area is not None and area.centre is not None:
            return area.centre
    if hub.config is None:
        return None
    return hub.config.centre_for_area(area_id).id


@callback
def entity_area(hub: Hub, entity_id: str) -> str | None:
    """The area of an entity: its state's `area_id`, else its registry entry's, else its device's."""
    state = hub.states.get(entity_id)
    if state is not None and isinstance(area := state.attributes.get(ATTR_AREA_ID), str):
        return area

    entities = hub.data.get(ENTITIES)
    entry = entities.async_get(entity_id) if entities is not None else None
    if entry is None:
        return None
    if entry.area_id is not None:
        return entry.area_id
    devices = hub.data.get(DEVICES)
    if entry.device_id is not None and devices is not None:
        device = devices.devices.get(entry.device_id)
        if device is not None:
            return device.area_id
    return None


@callback
def entity_centre(hub: Hub, entity_id: str) -> str | None:
    """The control centre that owns an entity, through its area (default centre when it has none)."""
    return area_centre(hub, entity_area(hub, entity_id))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    return [str(value)]


def _entity_targets(hub: Hub, call: ServiceCall) -> dict[str, str | None] | None:
    """Owners of `entity_id`, `area_id` and `device_id` targets in the call data."""
    targets: dict[str, str | None] = {}
    for entity_id in _as_list(call.data.get("entity_id")):
        targets[entity_id] = entity_centre(hub, entity_id)
    for area_id in _as_list(call.data.get("area_id")):
        targets[f"area {area_id}"] = area_centre(hub, area_id)
    device_ids = _as_list(call.data.get("device_id"))
    if device_ids:
        from ..helpers.device_registry import DATA_REGISTRY as DEVICES

        devices = hub.data.get(DEVICES)
        for device_id in device_ids:
            device = devices.devices.get(device_id) if devices is not None else None
            targets[f"device {device_id}"] = area_centre(hub, device.area_id) if device is not None else None
    return targets or None


@callback
def async_register_target_resolver(hub: Hub, domain: str, resolver: TargetResolver) -> CALLBACK_TYPE:
    """Let a domain say what its services target and who owns it (the alarm integration: alarms).

    Without one, targets are the call's `entity_id`/`area_id`/`device_id`. Returns the remover.
    """
    resolvers = hub.data.setdefault(_DATA_RESOLVERS, {})
    resolvers[domain] = resolver

    @callback
    def remove() -> None:
        if resolvers.get(domain) is resolver:
            del resolvers[domain]

    return remove


# --------------------------------------------------------------------------- the policy


class PermissionPolicy:
    """Applies the tables to service calls; installed as the service registry's permission hook.

    While no user exists at all (a fresh site) nothing is enforced and a warning says so; once
    one does, a call for an unknown or disabled user id is refused. An unreadable user file
    refuses every call made for a user.
    """

    def __init__(self, hub: Hub, users: UserStore) -> None:
        self.hub = hub
        self.users = users
        self._warned_open = False

    @property
    def enforced(self) -> bool:
        """Whether calls for users are checked (some user exists, or the user file is broken)."""
        return self.users.broken or bool(self.users.users)

    @callback
    def principal(self, user_id: str | None) -> Principal | None:
        """The principal of a user id (memory only), or None for unknown ids."""
        record = self.users.get(user_id)
        if record is None or record.disabled:
            return None
        return Principal.from_record(record)

    @callback
    def principal_for(self, user: User | None) -> Principal | None:
        """The principal of a request's user (hub.auth.models.User), or None."""
        return self.principal(user.id) if user is not None else None

    async def async_check_call(self, call: ServiceCall) -> None:
        """The permission hook: raise Unauthorized (and fire `permission_denied`) for a refused call."""
        if call.context.user_id is None:
            return
        await self.users.async_maybe_reload()
        if not self.enforced:
            if not self._warned_open:
                self._warned_open = True
                _LOGGER.warning("No users are defined: role and centre permissions are not enforced "
                                "(add users with `hacho user add`)")
            return
        try:
            self.check(call)
        except Unauthorized as err:
            self.hub.bus.async_fire(EVENT_PERMISSION_DENIED, {
                "domain": call.domain, "service": call.service, "user_id": call.context.user_id,
                "centre": call.context.centre, "service_class": err.permission, "reason": str(err),
            }, context=call.context)
            _LOGGER.debug("Refused %s.%s for %s: %s", call.domain, call.service, call.context.user_id, err)
            raise

    @callback
    def check(self, call: ServiceCall) -> None:
        """Raise Unauthorized when the call's user may not make it (the message says why)."""
        user_id = call.context.user_id
        if user_id is None:
            return
        name = f"{call.domain}.{call.service}"
        if self.users.broken:
            raise Unauthorized(f"{name} refused: the user file cannot be read", user_id=user_id)
        record = self.users.get(user_id)
        if record is None:
            raise Unauthorized(f"{name} refused: {user_id!r} is not a registered user", user_id=user_id)
        if record.disabled:
            raise Unauthorized(f"{name} refused: user {user_id!r} is disabled", user_id=user_id)
        principal = Principal.from_record(record)
        centre = call.context.centre
        if centre is not None and centre != principal.centre and principal.role is not Role.ADMIN:
            raise Unauthorized(f"{name} refused: user {user_id!r} belongs to centre {principal.centre!r} "
                               f"but the call acts from {centre!r}", user_id=user_id)
        self.check_principal(principal, call)

    @callback
    def check_principal(self, principal: Principal, call: ServiceCall) -> None:
        """The role and ownership checks for a known principal."""
        name = f"{call.domain}.{call.service}"
        service_class = classify_service(call.domain, call.service)
        if service_class not in ROLE_GRANTS[principal.role]:
            raise Unauthorized(
                f"{name} refused: a {principal.role.value} may not call {service_class.value} services",
                user_id=principal.user_id, permission=service_class.value,
            )
        if principal.role is Role.ADMIN or service_class not in OWNED_CLASSES:
            return
        targets = self.targets(call)
        if targets is None:
            raise Unauthorized(f"{name} refused: the call names no target whose control centre could be "
                               "checked", user_id=principal.user_id, permission=service_class.value)
        foreign = {target: owner for target, owner in targets.items() if owner != principal.centre}
        if foreign:
            listed = ", ".join(f"{target} ({owner or 'no centre'})" for target, owner in sorted(foreign.items(),
                               key=lambda item: item[0]))
            raise Unauthorized(
                f"{name} refused: {listed} not owned by {principal.centre!r}, the centre of "
                f"{principal.user_id!r}", user_id=principal.user_id, permission=service_class.value,
            )

    @callback
    def targets(self, call: ServiceCall) -> dict[str, str | None] | None:
        """What the call acts on, with the owning centre of each (None: names no target)."""
        resolver = self.hub.data.get(_DATA_RESOLVERS, {}).get(call.domain)
        if resolver is not None:
            result = resolver(self.hub, call)
            return dict(result) if result is not None else None
        return _entity_targets(self.hub, call)

    @callback
    def can_call(self, principal: Principal, domain: str, service: str,
                 data: Mapping[str, Any] | None = None) -> bool:
        """Whether `principal` may call `domain.service` with `data` (the frontend hides what it may not)."""

        call = ServiceCall(self.hub, domain, service, data or {},
                           Context(user_id=principal.user_id, centre=principal.centre))
        try:
            self.check_principal(principal, call)
        except Unauthorized:
            return False
        return True

    @callback
    def can_actuate(self, principal: Principal, entity_id: str) -> bool:
        """Whether `principal` may command this entity (its centre owns it, or an admin)."""
        if principal.role is Role.ADMIN:
            return True
        if ServiceClass.ACTUATION not in ROLE_GRANTS[principal.role]:
            return False
        return entity_centre(self.hub, entity_id) == principal.centre


async def async_setup_permissions(hub: Hub, users: UserStore | None = None) -> PermissionPolicy:
    """Load the users (if not given) and install the permission hook for the hub's lifetime.

    Returns the policy; calling it again returns the one already installed.
    """
    policy = hub.data.get(DATA_PERMISSIONS)
    if policy is not None:
        return policy
    if users is None:
        users = await async_get_users(hub)
    policy = PermissionPolicy(hub, users)
    hub.data[DATA_PERMISSIONS] = policy
    hub.services.async_add_permission_hook(policy.async_check_call)
    return policy


@callback
def get_permissions(hub: Hub) -> PermissionPolicy | None:
    """The installed policy, or None."""
    return hub.data.get(DATA_PERMISSIONS)


# --------------------------------------------------------------------------- HTTP routes


def route_allowed(principal: Principal | None, path: str) -> bool:
    """Whether a principal may reach an HTTP path: agencies only their own webhooks, others anything."""
    if principal is None or principal.role is not Role.AGENCY:
        return True
    if not path.startswith(WEBHOOK_PATH_PREFIX):
        return False
    webhook_id = path[len(WEBHOOK_PATH_PREFIX):].split("/", 1)[0]
    return webhook_id in principal.webhooks

