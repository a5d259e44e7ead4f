"""A simulated ONVIF PTZ camera: a small SOAP endpoint (aiohttp) answering what a hub needs to move a camera.

Operations: device GetServices, GetCapabilities, GetDeviceInformation, GetSystemDateAndTime; media GetProfiles;
PTZ GetPresets and GotoPreset. Answers follow the ONVIF WSDLs (the ones onvif-zeep-async ships). With a username
configured, every request but GetSystemDateAndTime must carry a WS-Security UsernameToken (digest or text);
a wrong one gets the ONVIF `NotAuthorized` fault. Every GotoPreset is recorded in `moves` so tests can see that a
call reached the device.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from aiohttp import web

__all__ = ["SimulatedOnvifDevice"]

_LOGGER = logging.getLogger(__name__)

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
NS_TRT = "http://www.onvif.org/ver10/media/wsdl"
NS_PTZ = "http://www.onvif.org/ver20/ptz/wsdl"
NS_TT = "http://www.onvif.org/ver10/schema"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"

_ENVELOPE = (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS_SOAP}" xmlns:tds="{NS_TDS}" '
             f'xmlns:trt="{NS_TRT}" xmlns:tptz="{NS_PTZ}" xmlns:tt="{NS_TT}"><s:Body>{{}}</s:Body></s:Envelope>')
_PATHS = {"device": "/onvif/device_service", "media": "/onvif/media_service", "ptz": "/onvif/ptz_service"}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _fault(subcode: str, reason: str, status: int = 400) -> web.Response:
    body = (f'<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:{subcode}</s:Value>'
            f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">{_esc(reason)}</s:Text></s:Reason></s:Fault>')
    xml = _ENVELOPE.format(body).replace("<s:Envelope ", '<s:Envelope xmlns:ter="http://www.onvif.org/ver10/error" ')
    return web.Response(status=status, body=xml.encode(), content_type="application/soap+xml")


@dataclass
class SimulatedOnvifDevice:
    """One simulated PTZ camera on 127.0.0.1:`port` (0: any free port, read `port` after start)."""

    presets: dict[str, str]  # token -> name
    username: str | None = None
    password: str | None = None
    port: int = 0
    host: str = "127.0.0.1"
    moves: list[tuple[str, str]] = field(default_factory=list)  # (profile token, preset token) per GotoPreset
    requests: list[str] = field(default_factory=list)  # operation names, in order
    _runner: web.AppRunner | None = None

    async def async_start(self) -> None:
        app = web.Application()
        for path in _PATHS.values():
            app.router.add_post(path, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and self.port == 0:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        _LOGGER.debug("simulated ONVIF device on %s:%d", self.host, self.port)

    async def async_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _xaddr(self, service: str) -> str:
        return f"http://{self.host}:{self.port}{_PATHS[service]}"

    def _authorised(self, header: ET.Element | None) -> bool:
        if not self.username:
            return True
        token = None if header is None else header.find(f".//{{{NS_WSSE}}}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{{{NS_WSSE}}}Username")
        password = token.find(f"{{{NS_WSSE}}}Password")
        if user != self.username or password is None:
            return False
        secret = self.password or ""
        if password.get("Type", "") == _DIGEST:
            nonce = base64.b64decode(token.findtext(f"{{{NS_WSSE}}}Nonce") or "")
            created = token.findtext(f"{{{NS_WSU}}}Created") or ""
            expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + secret.encode()).digest())
            return (password.text or "").encode() == expected
        return password.text == secret

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            envelope = ET.fromstring(await request.read())
        except ET.ParseError:
            return _fault("WellFormed", "not XML")
        body = envelope.find(f"{{{NS_SOAP}}}Body")
        if body is None or len(body) == 0:
            return _fault("WellFormed", "no SOAP body")
        operation = body[0]
        name = operation.tag.rsplit("}", 1)[-1]
        self.requests.append(name)
        if name != "GetSystemDateAndTime" and not self._authorised(envelope.find(f"{{{NS_SOAP}}}Header")):
            return _fault("NotAuthorized", "Sender not authorized")
        answer = self._answer(name, operation)
        if isinstance(answer, web.Response):
            return answer
        return web.Response(body=_ENVELOPE.format(answer).encode(), content_type="application/soap+xml")

    def _answer(self, name: str, operation: ET.Element) -> str | web.Response:
        if name == "GetServices":
            items = "".join(
                f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self._xaddr(svc)}</tds:XAddr>"
                f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>0</tt:Minor></tds:Version></tds:Service>"
                for svc, ns, major in (("device", NS_TDS, 2), ("media", NS_TRT, 1), ("ptz", NS_PTZ, 2)))
            return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"
        if name == "GetCapabilities":
            return ("<tds:GetCapabilitiesResponse><tds:Capabilities>"
                    f"<tt:Device><tt:XAddr>{self._xaddr('device')}</tt:XAddr></tt:Device>"
                    f"<tt:Media><tt:XAddr>{self._xaddr('media')}</tt:XAddr></tt:Media>"
                    f"<tt:PTZ><tt:XAddr>{self._xaddr('ptz')}</tt:XAddr></tt:PTZ>"
                    "</tds:Capabilities></tds:GetCapabilitiesResponse>")
        if name == "GetDeviceInformation":
            return ("<tds:GetDeviceInformationResponse><tds:Manufacturer>Hacho</tds:Manufacturer>"
                    "<tds:Model>Simulated PTZ</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
                    f"<tds:SerialNumber>SIM{self.port}</tds:SerialNumber><tds:HardwareId>sim</tds:HardwareId>"
                    "</tds:GetDeviceInformationResponse>")
        if name == "GetSystemDateAndTime":
            now = datetime.now(UTC)
            return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                    "<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>"
                    f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
                    f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
                    f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
                    "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")
        if name == "GetProfiles":
            return ('<trt:GetProfilesResponse><trt:Profiles token="profile_1" fixed="true"><tt:Name>main</tt:Name>'
                    "</trt:Profiles></trt:GetProfilesResponse>")
        if name == "GetPresets":
            items = "".join(f'<tptz:Preset token="{_esc(token)}"><tt:Name>{_esc(label)}</tt:Name></tptz:Preset>'
                            for token, label in self.presets.items())
            return f"<tptz:GetPresetsResponse>{items}</tptz:GetPresetsResponse>"
        if name == "GotoPreset":
            profile = operation.findtext(f"{{{NS_PTZ}}}ProfileToken") or ""
            preset = operation.findtext(f"{{{NS_PTZ}}}PresetToken") or ""
            if profile != "profile_1":
                return _fault("InvalidArgVal/ter:NoProfile", f"no profile {profile}")
            if preset not in self.presets:
                return _fault("InvalidArgVal/ter:NoToken", f"no preset {preset}")
            self.moves.append((profile, preset))
            return "<tptz:GotoPresetResponse/>"
        return _fault("ActionNotSupported", f"{name} is not supported by this simulated device")
