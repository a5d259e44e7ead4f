"""How the screens show values: names instead of ids (the id in a tooltip), dates in the site's time zone
and the reader's language, numbers and units in the locale, and every other value by its type.

`Names` finds the friendly name of an entity, area, user, centre or alarm type; `Formatter` is the one
filter set the templates use (`when`, `ago`, `number`, `quantity`, `value`, `entity`, `area`, `user`,
`centre`, `alarm_type`). The scripts get the same names (`Names.as_dict`) and format with `Intl`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.numbers import format_decimal
from markupsafe import Markup, escape

from hub.const import ATTR_FRIENDLY_NAME
from hub.core import Hub, split_entity_id, valid_entity_id
from hub.helpers.area_registry import DATA_REGISTRY as AREAS

from .data import to_float

if TYPE_CHECKING:
    from .i18n import Language

__all__ = ["DASH", "Formatter", "Names", "to_datetime"]

DASH: Final = "—"
DATE_FORMAT: Final = "medium"  # "6 dic 2026, 21:34:09" / "Dec 6, 2026, 9:34:09 PM"
_ISO_PREFIX_LEN: Final = 19  # 2026-12-06T21:34:09


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from an epoch, an ISO string or a datetime (naive means UTC); else None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or len(value) < _ISO_PREFIX_LEN or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Names:
    """Friendly names of what the hub knows, by id; an unknown id is shown as it is."""

    def __init__(self, hub: Hub, centre_names: Callable[[], Mapping[str, str]]) -> None:
        self._hub = hub
        self._centre_names = centre_names

    def entity(self, entity_id: str) -> str:
        """An entity's friendly name, else its object id made readable."""
        state = self._hub.states.get(entity_id) if valid_entity_id(entity_id) else None
        name = state.attributes.get(ATTR_FRIENDLY_NAME) if state is not None else None
        if name:
            return str(name)
        return split_entity_id(entity_id)[1].replace("_", " ") if valid_entity_id(entity_id) else entity_id

    def areas(self) -> dict[str, str]:
        """Every area's name by id."""
        registry = self._hub.data.get(AREAS)
        return {area.id: area.name for area in registry.async_list_areas()} if registry is not None else {}

    def area(self, area_id: str) -> str:
        """An area's name."""
        return self.areas().get(area_id, area_id)

    def users(self, centre: str | None = None) -> dict[str, str]:
        """Users' names by id: every user's, or only those of `centre` (a page shows its own centre's
        people by name, not the whole site's)."""
        from hub.auth.users import get_users

        store = get_users(self._hub)
        if store is None:
            return {}
        return {user.id: user.name for user in store.users if centre is None or user.centre == centre}

    def user(self, user_id: str) -> str:
        """A user's name."""
        return self.users().get(user_id, user_id)

    def centre(self, centre_id: str) -> str:
        """A control centre's name."""
        return self._centre_names().get(centre_id, centre_id)

    def alarm_types(self) -> dict[str, str]:
        """Every alarm type's name by id."""
        from .alarms import alarm_manager

        manager = alarm_manager(self._hub)
        return {type_id: alarm_type.name for type_id, alarm_type in manager.types.items()} if manager else {}

    def alarm_type(self, type_id: str) -> str:
        """An alarm type's name."""
        return self.alarm_types().get(type_id, type_id)

    def as_dict(self, entity_ids: Iterable[str] = (), centre: str | None = None) -> dict[str, dict[str, str]]:
        """The names the scripts need to show ids as names (entities: only those asked for; users: those
        of `centre`)."""
        return {"areas": self.areas(), "users": self.users(centre), "centres": dict(self._centre_names()),
                "types": self.alarm_types(), "entities": {e: self.entity(e) for e in entity_ids}}


def _named(name: str, ident: str, css: str) -> Markup:
    """`name` with its id in the tooltip."""
    return Markup('<span class="{}" title="{}">{}</span>').format(css, ident, name)


class Formatter:
    """The template filters for one language and time zone."""

    def __init__(self, language: Language, zone: tzinfo | None, names: Names | None) -> None:
        self.language = language
        self.zone = zone or UTC
        self.names = names

    def filters(self) -> dict[str, Callable[..., Any]]:
        """Filter name to function, for a Jinja environment."""
        return {"when": self.when, "ago": self.ago, "wall_clock": self.wall_clock, "number": self.number,
                "quantity": self.quantity,
                "value": self.value, "entity": self.entity, "area": self.area, "user": self.user,
                "centre": self.centre, "alarm_type": self.alarm_type, "yes_no": self.yes_no,
                "label": self.label}

    def label(self, value: Any, kind: str | None = None) -> str:
        """A stored word (a state, a role, a kind) in the reader's language (frontend/labels.py), as a
        `kind` of device says it when given; other values as they are, none as a dash."""
        from .labels import VOCABULARY

        if value is None or value == "":
            return DASH
        text = str(value)
        as_kind_says = f"{kind}:{text}"
        if kind and as_kind_says in VOCABULARY:
            return self.language.gettext(as_kind_says)
        return self.language.gettext(text) if text in VOCABULARY else text.replace("_", " ")

    # ---- dates and numbers

    def when(self, value: Any) -> str:
        """A date and time in the site's time zone, in the reader's language; a dash for none."""
        moment = to_datetime(value)
        if moment is None:
            return DASH if value is None or value == "" else str(value)
        return format_datetime(moment, DATE_FORMAT, tzinfo=self.zone, locale=self.language.locale)

    def wall_clock(self, value: Any) -> str:
        """A site's local time written `YYYY-MM-DD HH:MM` (a shift's start) in the reader's language, without
        a time zone conversion; other values as they are."""
        try:
            moment = datetime.strptime(str(value), "%Y-%m-%d %H:%M")
        except ValueError:
            return DASH if value is None or value == "" else str(value)
        locale = self.language.locale
        return f"{format_date(moment, 'medium', locale=locale)}, {format_time(moment, 'short', locale=locale)}"

    def ago(self, value: Any, now: datetime | None = None) -> str:
        """How long ago ("hace 3 min"); a dash for none."""
        moment = to_datetime(value)
        if moment is None:
            return DASH
        delta: timedelta = moment - (now or datetime.now(UTC))
        return format_timedelta(delta, add_direction=True, format="short", threshold=1.1,
                                locale=self.language.locale)

    def number(self, value: Any) -> str:
        """A number in the locale ("1.234,5"); other values as `value` shows them."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value) if isinstance(value, str) and value.strip() else value
            except ValueError:
                return str(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(self.value(value))
        return format_decimal(value, locale=self.language.locale)

    def quantity(self, value: Any, unit: str | None = None) -> str:
        """A number with its unit ("21,5 µg/m³", "12 vehículos"); a state that is no number ("unknown",
        "unavailable") as its word, without the unit."""
        from .labels import UNIT_WORDS

        text = self.number(value)
        if isinstance(value, bool) or to_float(value) is None:  # a word, not a reading
            return self.label(value) if isinstance(value, str) and value else text
        if unit in UNIT_WORDS:
            unit = self.language.gettext(unit)
        return f"{text}\u00a0{unit}" if unit and text != DASH else text

    def yes_no(self, value: Any) -> str:
        """`sí` / `no`."""
        return self.language.gettext("yes") if value else self.language.gettext("no")

    # ---- any value

    def value(self, value: Any) -> Markup:
        """Any value by its type: none as a dash, booleans as words, lists as lists, times in local time."""
        if value is None or value == "":
            return Markup(DASH)
        if isinstance(value, bool):
            return escape(self.yes_no(value))
        if isinstance(value, int | float):
            return escape(self.number(value))
        if isinstance(value, datetime) or (isinstance(value, str) and to_datetime(value) is not None):
            return escape(self.when(value))
        if isinstance(value, list | tuple | set | frozenset):
            if not value:
                return Markup(DASH)
            return Markup('<ul class="plain">{}</ul>').format(
                Markup("").join(Markup("<li>{}</li>").format(self.value(item)) for item in value))
        if isinstance(value, Mapping):
            if not value:
                return Markup(DASH)
            return Markup('<dl class="kv inner">{}</dl>').format(Markup("").join(
                Markup("<dt>{}</dt><dd>{}</dd>").format(str(key).replace("_", " "), self.value(item))
                for key, item in value.items()))
        return escape(str(value))

    # ---- names with their ids in a tooltip

    def entity(self, entity_id: Any) -> Markup:
        """An entity's friendly name (id in the tooltip)."""
        if not entity_id:
            return Markup(DASH)
        name = self.names.entity(str(entity_id)) if self.names else str(entity_id)
        return _named(name, str(entity_id), "name")

    def area(self, area_id: Any) -> Markup:
        """An area's name (id in the tooltip); a dash for none."""
        if not area_id:
            return Markup(DASH)
        return _named(self.names.area(str(area_id)) if self.names else str(area_id), str(area_id), "name")

    def user(self, user_id: Any) -> Markup:
        """A user's name (id in the tooltip); a dash for none."""
        if not user_id:
            return Markup(DASH)
        return _named(self.names.user(str(user_id)) if self.names else str(user_id), str(user_id), "name")

    def centre(self, centre_id: Any) -> Markup:
        """A control centre's name (id in the tooltip)."""
        if not centre_id:
            return escape(self.language.gettext("no centre"))
        return _named(self.names.centre(str(centre_id)) if self.names else str(centre_id), str(centre_id),
                      "name")

    def alarm_type(self, type_id: Any) -> Markup:
        """An alarm type's name (id in the tooltip)."""
        if not type_id:
            return Markup(DASH)
        return _named(self.names.alarm_type(str(type_id)) if self.names else str(type_id), str(type_id), "name")
