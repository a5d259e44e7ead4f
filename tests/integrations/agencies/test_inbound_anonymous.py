"""Anonymous webhook floods: they cannot spend an agency's rate limit, and the audit log counts them per minute."""

from __future__ import annotations

from collections import Counter

from hub.clock import FakeClock

from .conftest import MINISTRY_SECRET, SECRET, Receiver, StartSite, agency
from .test_inbound import STATUS, agencies, post, signed

UNSIGNED = {"content-type": "application/json"}


async def test_unsigned_and_forged_floods_cannot_starve_a_signed_agency(
        start_site: StartSite, receiver: Receiver, fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))  # the default limit: 60 a minute
    now = fake_clock.time()
    answers: Counter[tuple[int, str]] = Counter()
    for index in range(70):
        if index % 2:
            body, headers = b'{"status": "on_scene"}', UNSIGNED
        else:
            body, headers = signed(MINISTRY_SECRET, f"forged_{index}", now, STATUS)  # another agency's key
        status, reply = await post(site, "fire_brigade", body, headers)
        answers[(status, reply["error"]["message"])] += 1
    body, headers = signed(SECRET, "dgp_real", now, STATUS)
    status, reply = await post(site, "fire_brigade", body, headers)
    assert (status, reply.get("status")) == (200, "accepted")
    # the address's own budget ran out, not the agency's
    assert answers[(429, "Too many unsigned or invalid requests from this address")] == 50
    assert {status for status, _message in answers} == {401, 429}


async def test_a_signed_agency_keeps_its_own_limit(start_site: StartSite, receiver: Receiver,
                                                   fake_clock: FakeClock) -> None:
    site = await start_site([agency(receiver, inbound={"rate_limit": {"requests": 2, "per": 60}})])
    now = fake_clock.time()
    for index in range(2):
        body, headers = signed(SECRET, f"m{index}", now, {"status": "on_scene"})
        assert (await post(site, "fire_brigade", body, headers))[0] == 200
    body, headers = signed(SECRET, "m2", now, {"status": "on_scene"})
    status, reply = await post(site, "fire_brigade", body, headers)
    assert (status, reply["error"]["message"]) == (429, "Too many requests for webhook fire_brigade")


async def test_300_anonymous_posts_are_one_audit_row(start_site: StartSite, receiver: Receiver,
                                                     fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver), audit=True)
    from hub.audit import get_audit

    for _ in range(300):
        status, _reply = await post(site, "fire_brigade", b'{"status": "on_scene"}', UNSIGNED)
        assert status in (401, 429)
    await fake_clock.async_advance(60)
    await site.hub.async_block_till_done()
    audit = get_audit(site.hub)
    assert audit is not None
    [entry] = await audit.async_query(action="webhook_refused")
    assert (entry["target"], entry["outcome"]) == ("webhook/fire_brigade", "refused")
    assert entry["data"]["count"] == 300
    assert entry["data"]["remote"] == "127.0.0.1"
    assert sum(entry["data"]["statuses"].values()) == 300
