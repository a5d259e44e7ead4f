// Map of Ceuta: devices, alarms and fire locations over the bundled outline of the city (and the
// configured tile layer when there is one). Leaflet when it was installed; otherwise plain SVG.
// Features come from /c/<centre>/api/map and are refreshed when alarms or states change.

import { centre, el, getJSON, label, live, pageData, t } from "./hacho.js";

const SVG = "http://www.w3.org/2000/svg";
const data = pageData();
const box = document.getElementById("map");
const COLOURS = { device: "#4aa3ff", alarm: "#ff2d55", fire: "#ff7a1a", other: "#8b98a5" };

/** "bollard: raised" (a device's kind and state) or "major - raised" as words in the reader's language. */
function detail(feature) {
  const parts = String(feature.detail || "").split(/(: | - )/);
  const kind = parts[1] === ": " ? parts[0] : "";
  return parts.map((part, i) => (part === ": " || part === " - " ? part : label(part, i ? kind : ""))).join("");
}

function popupNode(feature) {
  const node = el("div", {}, el("strong", { text: feature.name }));
  if (feature.detail) node.append(el("div", { text: detail(feature) }));
  if (feature.url) node.append(el("div", {}, el("a", { href: feature.url, text: t("Open") })));
  return node;
}

// ---- Leaflet

class LeafletMap {
  constructor(L, outline) {
    this.L = L;
    this.map = L.map(box, { preferCanvas: false, attributionControl: Boolean(data.tile_url) });
    if (data.tile_url) {
      L.tileLayer(data.tile_url, { maxZoom: 19, attribution: data.tile_attribution || "" }).addTo(this.map);
    }
    this.outline = L.geoJSON(outline, { style: { color: "#5b7a60", weight: 2, fillColor: "#1d2b21", fillOpacity: data.tile_url ? 0.1 : 0.8 } })
      .addTo(this.map);
    this.map.fitBounds(this.outline.getBounds(), { padding: [10, 10] });
    this.layer = L.layerGroup().addTo(this.map);
  }

  draw(features) {
    this.layer.clearLayers();
    for (const f of features) {
      const marker = this.L.circleMarker([f.lat, f.lon], {
        radius: f.kind === "alarm" || f.kind === "fire" ? 10 : 7,
        color: "#000", weight: 1, fillColor: COLOURS[f.kind] || COLOURS.other, fillOpacity: 0.9,
      });
      marker.bindPopup(popupNode(f));
      marker.bindTooltip(f.name);
      marker.addTo(this.layer);
    }
  }
}

// ---- SVG (no Leaflet)

class SvgMap {
  constructor(outline) {
    this.ring = outline.features[0].geometry.coordinates[0];
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
    const lons = [...this.ring.map((p) => p[0]), ...features.map((f) => f.lon)];
    const lats = [...this.ring.map((p) => p[1]), ...features.map((f) => f.lat)];
    const xy = this.project([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]);
    this.root.replaceChildren();
    const land = document.createElementNS(SVG, "polygon");
    land.setAttribute("class", "land");
    land.setAttribute("points", this.ring.map((p) => xy(p).join(",")).join(" "));
    this.root.append(land);
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
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", x + 12);
      label.setAttribute("y", y + 4);
      label.textContent = f.name;
      link.append(dot, label);
      this.root.append(link);
    }
  }
}

async function start() {
  if (!box) return;
  const outline = await getJSON(data.outline_url);
  const view = window.L && outline.ok ? new LeafletMap(window.L, outline.data) : new SvgMap(outline.data);
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
