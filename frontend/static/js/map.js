// Map of Ceuta: the configured base layers (the offline base map of the city by default; raster tiles or
// WMS when a deployment points at them) and one overlay per kind of marker (areas, devices, cameras, panels,
// alarms, fires with their bearings), with Leaflet's layer control. A camera's popup plays it live (the
// camera wall's player, sub stream). Without Leaflet the same markers are drawn as SVG over the offline base.
// Markers come from /c/<centre>/api/map and are refreshed when alarms or states change.

import { centre, el, getJSON, label, live, pageData, t } from "./hacho.js";
import { LivePlayer } from "./video.js";

const SVG = "http://www.w3.org/2000/svg";
const data = pageData();
const box = document.getElementById("map");
const COLOURS = { device: "#4aa3ff", alarm: "#ff2d55", fire: "#ff7a1a", other: "#8b98a5" };
const GROUP_NAMES = {
  areas: t("Areas"), devices: t("Devices"), cameras: t("Cameras"), panels: t("Panels"), alarms: t("Alarms"),
  fires: t("Fires and bearings"),
};
const BEARING_M = 2500; // how far a tower's bearing is drawn back from the located fire

/** "bollard: raised" (a device's kind and state) or "major - raised" as words in the reader's language. */
function detail(feature) {
  const parts = String(feature.detail || "").split(/(: | - )/);
  const kind = parts[1] === ": " ? parts[0] : "";
  return parts.map((part, i) => (part === ": " || part === " - " ? part : label(part, i ? kind : ""))).join("");
}

function popupNode(feature) {
  const node = el("div", { class: "map-popup" }, el("strong", { text: feature.name }));
  if (feature.detail) node.append(el("div", { text: detail(feature) }));
  for (const bearing of feature.bearings || []) {
    node.append(el("div", { text: t("tower {tower}: bearing {bearing}°", {
      tower: bearing.tower, bearing: Math.round(bearing.bearing) }) }));
  }
  if (feature.camera) {
    const video = el("video", { class: "video map-video", "aria-label": t("Live view of {name}", { name: feature.name }) });
    video.muted = true; // the property, not the attribute: only a muted video may play without a gesture
    video.playsInline = true;
    video.autoplay = true;
    node.append(video, el("div", { class: "map-live-status muted" }));
  }
  if (feature.url) node.append(el("div", {}, el("a", { href: feature.url, text: t("Open") })));
  return node;
}

/** The point `metres` from (lat, lon) along `bearing` degrees (a flat approximation, fine for a city). */
function along(lat, lon, bearing, metres) {
  const rad = (bearing * Math.PI) / 180;
  const dLat = (metres * Math.cos(rad)) / 111320;
  const dLon = (metres * Math.sin(rad)) / (111320 * Math.cos((lat * Math.PI) / 180));
  return [lat + dLat, lon + dLon];
}

// ---- Leaflet

class LeafletMap {
  constructor(L, offline) {
    this.L = L;
    this.map = L.map(box, { preferCanvas: false, attributionControl: true });
    this.map.attributionControl.setPrefix(false);
    const bases = {};
    for (const layer of data.layers || []) bases[layer.name] = this.baseLayer(layer, offline);
    const first = Object.values(bases)[0];
    if (first) first.addTo(this.map);
    box.dataset.base = Object.keys(bases)[0] || "";
    this.map.on("baselayerchange", (event) => { box.dataset.base = event.name; });
    this.groups = {};
    const overlays = {};
    for (const group of data.groups || []) {
      this.groups[group] = L.layerGroup().addTo(this.map);
      overlays[GROUP_NAMES[group] || group] = this.groups[group];
    }
    L.control.layers(bases, overlays, { collapsed: false }).addTo(this.map);
    this.drawAreas(data.areas || []);
    // open on Ceuta's own land (the neighbouring coast is context)
    const land = offline && offline.features
      ? L.geoJSON(offline, { filter: (feature) => (feature.properties || {}).kind === "land" }) : null;
    if (land && land.getBounds().isValid()) this.map.fitBounds(land.getBounds(), { padding: [10, 10] });
    else this.map.setView([35.8886, -5.317], 13);
    this.player = null;
    this.popupOpen = false;
    this.pending = null;
    this.map.on("popupopen", (event) => this.popupOpened(event));
    this.map.on("popupclose", () => this.popupClosed());
  }

  baseLayer(layer, offline) {
    const L = this.L;
    const options = { maxZoom: layer.max_zoom || 19, attribution: layer.attribution || "" };
    if (layer.type === "tile") return L.tileLayer(layer.url, options);
    if (layer.type === "wms") {
      return L.tileLayer.wms(layer.url, { ...options, layers: layer.layers, styles: layer.styles || "",
                                          format: layer.format, transparent: layer.transparent,
                                          version: layer.version });
    }
    // offline: the bundled coastline (Ceuta's land, the neighbouring coast) over the sea of the container
    return L.geoJSON(offline || { type: "FeatureCollection", features: [] }, {
      ...options,
      style: (feature) => ({ className: `basemap-${(feature.properties || {}).kind || "land"}`, weight: 1 }),
      interactive: false,
    });
  }

  drawAreas(areas) {
    const L = this.L;
    const group = this.groups.areas;
    if (!group) return;
    for (const area of areas) {
      const shape = area.polygon
        ? L.polygon(area.polygon, { className: "map-area", weight: 1 })
        : L.circle([area.lat, area.lon], { radius: area.radius_m, className: "map-area", weight: 1 });
      // the city's main areas named on the map; the smaller ones inside them on hover
      shape.bindTooltip(area.name, area.parent ? { className: "map-area-label", sticky: true }
        : { className: "map-area-label", permanent: true, direction: "center" });
      shape.addTo(group);
    }
  }

  draw(features) {
    if (this.popupOpen) { // keep an open popup (a playing camera): redraw once it is closed
      this.pending = features;
      return;
    }
    const L = this.L;
    for (const [name, group] of Object.entries(this.groups)) if (name !== "areas") group.clearLayers();
    for (const f of features) {
      const group = this.groups[f.group] || this.groups.devices;
      if (!group) continue;
      for (const bearing of f.bearings || []) {
        L.polyline([[f.lat, f.lon], along(f.lat, f.lon, (bearing.bearing + 180) % 360, BEARING_M)], {
          className: "map-bearing", weight: 2, dashArray: "6 4", interactive: false,
        }).addTo(group);
      }
      const marker = L.circleMarker([f.lat, f.lon], {
        radius: f.kind === "alarm" || f.kind === "fire" ? 10 : 7,
        color: "#000", weight: 1, fillColor: COLOURS[f.kind] || COLOURS.other, fillOpacity: 0.9,
        className: `map-marker map-${f.group || "devices"}${f.camera ? ` map-camera-${f.camera.camera}` : ""}`,
      });
      marker.feature = f;
      marker.bindPopup(() => popupNode(f), { minWidth: f.camera ? 340 : 50, maxWidth: 420 });
      marker.bindTooltip(f.name);
      marker.addTo(group);
    }
  }

  popupOpened(event) {
    this.popupOpen = true;
    const source = event.popup._source;
    const feature = source && source.feature;
    if (!feature || !feature.camera) return;
    const node = event.popup.getElement();
    const video = node && node.querySelector("video.map-video");
    const status = node && node.querySelector(".map-live-status");
    if (!video) return;
    this.player = new LivePlayer(video, feature.camera, "sub", (text) => { if (status) status.textContent = text; });
    this.player.start();
  }

  popupClosed() {
    if (this.player) this.player.stop();
    this.player = null;
    this.popupOpen = false;
    if (this.pending) {
      const features = this.pending;
      this.pending = null;
      this.draw(features);
    }
  }
}

// ---- SVG (no Leaflet)

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return [geometry.coordinates[0]];
  if (geometry.type === "MultiPolygon") return geometry.coordinates.map((polygon) => polygon[0]);
  return [];
}

class SvgMap {
  constructor(offline) {
    this.shapes = (offline.features || []).flatMap((feature) =>
      rings(feature.geometry).map((ring) => ({ ring, kind: (feature.properties || {}).kind || "land" })));
    this.root = document.createElementNS(SVG, "svg");
    this.root.setAttribute("class", "svgmap");
    this.root.setAttribute("role", "img");
    this.root.setAttribute("aria-label", t("Map of Ceuta"));
    box.replaceChildren(this.root);
  }

  project(bounds) {
    const [minLon, minLat, maxLon, maxLat] = bounds;
    const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const w = (maxLon - minLon) * k;
    const h = maxLat - minLat;
    const scale = 1000 / Math.max(w, h);
    this.root.setAttribute("viewBox", `-20 -20 ${w * scale + 40} ${h * scale + 40}`);
    return ([lon, lat]) => [(lon - minLon) * k * scale, (maxLat - lat) * scale];
  }

  draw(features) {
    const ceuta = this.shapes.filter((shape) => shape.kind === "land").flatMap((shape) => shape.ring);
    const lons = [...ceuta.map((p) => p[0]), ...features.map((f) => f.lon)];
    const lats = [...ceuta.map((p) => p[1]), ...features.map((f) => f.lat)];
    const xy = this.project([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]);
    this.root.replaceChildren();
    for (const shape of this.shapes) {
      const land = document.createElementNS(SVG, "polygon");
      land.setAttribute("class", shape.kind === "land" ? "land" : "neighbour");
      land.setAttribute("points", shape.ring.map((p) => xy(p).join(",")).join(" "));
      this.root.append(land);
    }
    for (const f of features) {
      const [x, y] = xy([f.lon, f.lat]);
      const link = document.createElementNS(SVG, "a");
      if (f.url) link.setAttribute("href", f.url);
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", x);
      dot.setAttribute("cy", y);
      dot.setAttribute("r", f.kind === "alarm" || f.kind === "fire" ? 12 : 8);
      dot.setAttribute("class", f.kind);
      const title = document.createElementNS(SVG, "title");
      title.textContent = f.detail ? `${f.name}: ${detail(f)}` : f.name;
      dot.append(title);
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", x + 12);
      text.setAttribute("y", y + 4);
      text.textContent = f.name;
      link.append(dot, text);
      this.root.append(link);
    }
  }
}

async function start() {
  if (!box) return;
  const offlineLayer = (data.layers || []).find((layer) => layer.type === "offline");
  const offlineUrl = offlineLayer ? offlineLayer.url : "/static/frontend/basemap/ceuta.geojson";
  const offline = await getJSON(offlineUrl);
  const view = window.L ? new LeafletMap(window.L, offline.ok ? offline.data : null)
    : new SvgMap(offline.ok ? offline.data : { features: [] });
  box.dataset.renderer = view instanceof LeafletMap ? "leaflet" : "svg";
  let timer = null;
  const refresh = async () => {
    timer = null;
    const result = await getJSON(`/c/${centre()}/api/map`);
    if (result.ok) {
      view.draw(result.data.features);
      box.dataset.features = String(result.data.features.length);
    }
  };
  const soon = () => { if (!timer) timer = setTimeout(refresh, 1500); };
  view.draw(data.features || []);
  box.dataset.features = String((data.features || []).length);
  live().onOpen((socket) => {
    socket.subscribe("alarm/subscribe", {}, soon).catch(() => {});
    socket.subscribe("frontend/subscribe_states", { entity_ids: data.entity_ids, domains: ["geo_location"] }, soon)
      .catch(() => {});
  });
}

start();
