"""A seeded simulated camera: traffic scenes with vehicles carrying synthetic Spanish plates, and ground truth."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from .formats import CONSONANTS

__all__ = ["SimCamera", "SimVehicle", "random_plate", "render_plate", "sim_options"]

_FONT = cv2.FONT_HERSHEY_DUPLEX
_BAND = (153, 51, 0)  # BGR of the EU band's blue
_CAR_COLOURS = [(40, 40, 40), (200, 200, 200), (30, 30, 160), (150, 90, 20), (230, 230, 230), (60, 110, 60)]
_BUMPER = (45, 45, 45)
_HEADLIGHT = (210, 225, 235)
_OLD_PREFIXES = ("CE", "ML", "M", "MA", "CA", "SE", "B")


def random_plate(rng: random.Random, old_share: float = 0.1) -> str:
    """A plausible Spanish plate: mostly `NNNNLLL` of the current series, some old provincial ones."""
    if rng.random() < old_share:
        prefix = rng.choice(_OLD_PREFIXES)
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.choice((1, 2))))
        return f"{prefix}{rng.randint(0, 9999):04d}{letters}"
    return f"{rng.randint(0, 9999):04d}" + "".join(rng.choice(CONSONANTS) for _ in range(3))


def plate_display(plate: str) -> str:
    """How the plate is printed: `1234 BCD`, `CE 1234 AB`."""
    if plate[:4].isdigit():
        return f"{plate[:4]} {plate[4:]}"
    head = len(plate) - len(plate.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    digits = plate[head:head + 4]
    return f"{plate[:head]} {digits} {plate[head + 4:]}".strip()


def render_plate(plate: str, width: int = 520) -> np.ndarray:
    """A front plate image (white, blue EU band with an E, black characters), `width` pixels wide."""
    base = np.full((110, 520, 3), 250, np.uint8)
    cv2.rectangle(base, (0, 0), (519, 109), (20, 20, 20), 3)
    cv2.rectangle(base, (3, 3), (52, 106), _BAND, -1)
    cv2.putText(base, "E", (14, 92), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    text = plate_display(plate)
    scale = 2.6
    (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 7)
    if tw > 450:
        scale *= 450 / tw
        (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 7)
    cv2.putText(base, text, (60 + (450 - tw) // 2, 55 + th // 2), _FONT, scale, (15, 15, 15), 7, cv2.LINE_AA)
    height = max(8, round(width * 110 / 520))
    return cv2.resize(base, (width, height), interpolation=cv2.INTER_AREA)


def _draw_front(img: np.ndarray, car: tuple[int, int, int, int]) -> None:
    """A car's headlights and its dark plastic bumper, where the plate sits: a plate model trained on real
    cars (the `yolo` detector) does not see a white plate drawn on a flat, light car body."""
    x, y, w, h = car
    cv2.rectangle(img, (x, y + int(h * 0.64)), (x + w, y + int(h * 0.95)), _BUMPER, -1)
    light = w // 6
    for left in (x + w // 16, x + w - w // 16 - light):
        cv2.rectangle(img, (left, y + int(h * 0.42)), (left + light, y + int(h * 0.54)), _HEADLIGHT, -1)


@dataclass(slots=True)
class SimVehicle:
    """A vehicle on the simulated road: its plate, lane, entry time and colour."""

    plate: str
    lane: int
    t0: float
    colour: tuple[int, int, int]
    start: float = 0.0  # where it enters, 0 (far) .. 1 (near)


def sim_options(url: str) -> dict[str, float]:
    """Options from a `sim://name?seed=1&rate=20&lanes=2&width=1280&height=720&pass_seconds=3` source."""
    query = parse_qs(urlsplit(url).query)
    opts = {"seed": 0.0, "rate": 20.0, "lanes": 2.0, "width": 1280.0, "height": 720.0, "pass_seconds": 3.0,
            "old_share": 0.1}
    for key in opts:
        if key in query:
            opts[key] = float(query[key][0])
    return opts


class SimCamera:
    """Renders the road at time t: vehicles come from the far end and pass below the camera.

    Deterministic for a seed and a sequence of times. `plant(plate)` sends a vehicle with that
    plate next (already close enough to read); `truth(t)` says which plates are in view.
    """

    def __init__(self, seed: int = 0, rate: float = 20.0, lanes: int = 2, width: int = 1280,
                 height: int = 720, pass_seconds: float = 3.0, old_share: float = 0.1) -> None:
        self.rng = random.Random(seed)
        self.rate = rate  # vehicles per minute
        self.lanes = max(1, lanes)
        self.width = width
        self.height = height
        self.pass_seconds = pass_seconds
        self.old_share = old_share
        self.vehicles: list[SimVehicle] = []
        self.planted: deque[str] = deque()
        self.passed: list[SimVehicle] = []
        self._next_spawn: float | None = None
        self._background = self._draw_background()
        self._plates: dict[str, np.ndarray] = {}

    @classmethod
    def from_url(cls, url: str) -> SimCamera:
        """A camera from a `sim://` source URL."""
        o = sim_options(url)
        return cls(int(o["seed"]), o["rate"], int(o["lanes"]), int(o["width"]), int(o["height"]),
                   o["pass_seconds"], o["old_share"])

    def _draw_background(self) -> np.ndarray:
        img = np.full((self.height, self.width, 3), 95, np.uint8)
        img[: self.height // 8] = (170, 140, 110)  # a strip of sky/buildings at the top
        lane_w = self.width // (self.lanes + 1)
        for lane in range(self.lanes + 1):
            x = lane_w // 2 + lane * lane_w
            for y in range(self.height // 8, self.height, 60):
                cv2.line(img, (x, y), (x, y + 30), (230, 230, 230), 3)
        return img

    def plant(self, plate: str) -> None:
        """Send a vehicle carrying `plate` next, entering where its plate is already readable."""
        self.planted.append(plate)

    def _spawn(self, t: float) -> None:
        if self._next_spawn is None:
            self._next_spawn = t
        while self.planted:
            # a planted vehicle enters a lane where no car hides its plate (or waits for one)
            free = [lane for lane in range(self.lanes)
                    if not any(v.lane == lane and self._progress(v, t) < 1.0 for v in self.vehicles)]
            if not free:
                break
            plate = self.planted.popleft()
            self.vehicles.append(SimVehicle(plate, self.rng.choice(free), t, self.rng.choice(_CAR_COLOURS),
                                            start=0.45))
        while self.rate > 0 and t >= self._next_spawn:
            lane = self.rng.randrange(self.lanes)
            busy = any(v.lane == lane and self._progress(v, t) < 0.35 for v in self.vehicles)
            if not busy:
                plate = random_plate(self.rng, self.old_share)
                self.vehicles.append(SimVehicle(plate, lane, self._next_spawn,
                                                self.rng.choice(_CAR_COLOURS)))
            self._next_spawn += self.rng.expovariate(self.rate / 60.0)

    def _progress(self, vehicle: SimVehicle, t: float) -> float:
        return vehicle.start + (t - vehicle.t0) / self.pass_seconds * (1.0 - vehicle.start)

    def _geometry(self, vehicle: SimVehicle, t: float) -> tuple[int, int, int, int]:
        """The car's box (x, y, w, h) at time t."""
        p = self._progress(vehicle, t)
        scale = 0.25 + 0.75 * p
        car_w = int(self.width / (self.lanes + 1) * 0.85 * scale)
        car_h = int(car_w * 0.75)
        lane_w = self.width // (self.lanes + 1)
        cx = lane_w // 2 + lane_w // 2 + vehicle.lane * lane_w
        top = self.height // 8
        cy = int(top + p * (self.height - top) * 0.95)
        return cx - car_w // 2, cy - car_h // 2, car_w, car_h

    def frame(self, t: float) -> tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]:
        """The image at time t (seconds) and the plates in it with their boxes."""
        self._spawn(t)
        img = self._background.copy()
        truth = []
        still = []
        for vehicle in self.vehicles:
            if self._progress(vehicle, t) >= 1.05:
                self.passed.append(vehicle)
                continue
            still.append(vehicle)
        self.vehicles = still
        for vehicle in sorted(self.vehicles, key=lambda v: self._progress(v, t)):
            x, y, w, h = self._geometry(vehicle, t)
            cv2.rectangle(img, (x, y), (x + w, y + h), vehicle.colour, -1)
            cv2.rectangle(img, (x + w // 8, y + h // 10), (x + w - w // 8, y + h // 3), (70, 50, 40), -1)
            _draw_front(img, (x, y, w, h))
            pw = max(20, int(w * 0.42))
            plate = self._plate_image(vehicle.plate, pw)
            ph = plate.shape[0]
            px, py = x + (w - pw) // 2, y + int(h * 0.72)
            x0, y0 = max(px, 0), max(py, 0)
            x1, y1 = min(px + pw, self.width), min(py + ph, self.height)
            if x1 > x0 and y1 > y0:
                img[y0:y1, x0:x1] = plate[y0 - py:y1 - py, x0 - px:x1 - px]
                truth.append((vehicle.plate, (px, py, pw, ph)))
        return img, truth

    def _plate_image(self, plate: str, width: int) -> np.ndarray:
        base = self._plates.get(plate)
        if base is None:
            if len(self._plates) > 64:
                self._plates.clear()
            base = self._plates[plate] = render_plate(plate)
        return cv2.resize(base, (width, max(8, round(width * 110 / 520))), interpolation=cv2.INTER_AREA)
