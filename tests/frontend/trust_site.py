"""The Ceuta-like test site with every API the hub serves (ANPR, agencies, federation, evidence, thermal drills)
and one bearer token per caller: anonymous, a revoked token, each role of each centre, an agency."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.auth.tokens import create_token, revoke_token
from hub.auth.users import add_user
from hub.core import Hub
from integrations.anpr import CONFIG_SCHEMA as ANPR_SCHEMA
from integrations.federation import CONFIG_SCHEMA as FEDERATION_SCHEMA
from integrations.thermal_fire.drill import async_register_drill

from .site import LOCAL, NATIONAL, Site, async_start_site

AGENCY_USER = "bomberos"
AGENCY_WEBHOOK = "fire_brigade"  # the inbound webhook of the fire brigade: the agency user's own
OTHER_WEBHOOK = "dgp"  # the DGP's: not the fire brigade's
SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

# caller -> (user id, role, centre); tokens are created for each. "anonymous" sends none.
CALLERS: dict[str, tuple[str, str, str] | None] = {
    "anonymous": None,
    "revoked": ("op_local", "operator", LOCAL),
    "admin@local": ("admin", "admin", LOCAL),
    "supervisor@local": ("sup_local", "supervisor", LOCAL),
    "operator@local": ("op_local", "operator", LOCAL),
    "engineer@local": ("eng_local", "engineer", LOCAL),
    "admin@national": ("admin_national", "admin", NATIONAL),
    "supervisor@national": ("sup_national", "supervisor", NATIONAL),
    "operator@national": ("op_national", "operator", NATIONAL),
    "engineer@national": ("eng_national", "engineer", NATIONAL),
    "agency": (AGENCY_USER, "agency", LOCAL),
}
# Users the frontend site does not have already.
EXTRA_USERS = {"admin_national": ("admin", NATIONAL), "sup_national": ("supervisor", NATIONAL),
               "eng_national": ("engineer", NATIONAL)}


@dataclass
class TrustSite:
    """The running site and a token per caller (None for anonymous)."""

    site: Site
    tokens: dict[str, str | None]
    receiver_url: str

    @property
    def hub(self) -> Hub:
        return self.site.hub

    def url(self, path: str) -> str:
        return self.site.url(path)

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        return {"Authorization": f"Bearer {token}"} if token else {}


def _prepare(config_dir: Path) -> dict[str, str | None]:
    """Users and tokens, written before the hub starts (blocking)."""
    for user_id, (role, centre) in EXTRA_USERS.items():
        add_user(config_dir, user_id, role=role, centre=centre, password="correct horse battery")
    add_user(config_dir, AGENCY_USER, role="agency", centre=LOCAL, webhooks=[AGENCY_WEBHOOK])
    tokens: dict[str, str | None] = {}
    for caller, who in CALLERS.items():
        if who is None:
            tokens[caller] = None
            continue
        user_id, _role, centre = who
        tokens[caller] = create_token(config_dir, caller.replace("@", "_"), centre, user_id=user_id)
    revoke_token(config_dir, "revoked")
    return tokens


async def async_start_trust_site(config_dir: Path, mqtt: tuple[str, int], receiver_url: str) -> TrustSite:
    """The site with ANPR (a hotlist), two agencies (webhooks in and out), federation, evidence, drills."""
    from hub.evidence import async_setup_evidence

    host, port = mqtt
    agency = {"name": "Bomberos de Ceuta", "url": receiver_url, "formats": ["cap"], "secret": SECRET,
              "timeout": 5, "max_attempts": 2}
    sections: dict[str, Any] = {
        "anpr": ANPR_SCHEMA({"hash_key": "0" * 64, "workers": "thread", "lists": [
            {"id": "stolen", "name": "Stolen vehicles", "priority": 1}]}),
        "agencies": {"agencies": [
            {"id": AGENCY_WEBHOOK, **agency, "inbound": {"schema": "fire_status"}},
            {"id": OTHER_WEBHOOK, **agency, "name": "DGP", "inbound": {"schema": "hotlist"}},
        ]},
        "federation": FEDERATION_SCHEMA({
            "broker": host, "port": port, "client_id": f"trust-{uuid.uuid4().hex[:8]}",
            "topic_prefix": f"trust{uuid.uuid4().hex[:8]}", "peers": [{"site": "peer", "name": "Peer"}]}),
    }

    async def before_start(hub: Hub) -> None:
        await async_setup_evidence(hub)
        async_register_drill(hub)

    tokens = await asyncio.get_running_loop().run_in_executor(None, _prepare, config_dir)
    site = await async_start_site(config_dir, extra_sections=sections, before_start=before_start)
    return TrustSite(site, tokens, receiver_url)


