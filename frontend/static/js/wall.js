// The camera wall: 1, 4, 9 or 16 tiles of live sub streams; a click enlarges a camera on its main stream.
// The layout and the camera of each tile are saved per operator on the server (POST wall_url), so the same
// operator finds the same wall on any browser; each tile's select picks its camera (swapping with the tile
// that showed it).

import { pageData, post, t, errorText, toast } from "./hacho.js";
import { LivePlayer } from "./video.js";

const data = pageData();
const wall = document.getElementById("wall");
const byId = new Map((data.cameras || []).map((camera) => [camera.camera, camera]));
let layout = data.wall && data.layouts.includes(data.wall.layout) ? data.wall.layout : 4;
// the camera id of each tile, up to 16 (the server drops cameras the operator may not watch and fills the rest)
const order = ((data.wall && data.wall.tiles) || []).filter((id) => byId.has(id));
let players = [];
let enlarged = null;

function chooser(index, current) {
  const select = document.createElement("select");
  select.className = "tile-camera";
  select.setAttribute("aria-label", t("Camera in tile {n}", { n: index + 1 }));
  for (const camera of data.cameras) {
    const option = document.createElement("option");
    option.value = camera.camera;
    option.textContent = camera.name;
    option.selected = camera.camera === current;
    select.append(option);
  }
  select.addEventListener("change", () => choose(index, select.value));
  return select;
}

function tile(camera, index) {
  const node = document.createElement("div");
  node.className = `tile${camera.available ? "" : " offline"}`;
  node.dataset.tile = String(index + 1);
  node.dataset.camera = camera.camera;
  node.append(cameraView(camera), chooser(index, camera.camera));
  return node;
}

function cameraView(camera) {
  const video = document.createElement("video");
  video.className = "video";
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  const name = document.createElement("span");
  name.className = "tile-name";
  name.textContent = camera.name;
  const status = document.createElement("span");
  status.className = "tile-status";
  const node = document.createElement("button");
  node.type = "button";
  node.className = "tile-view";
  node.append(video, name, status);
  node.addEventListener("click", () => enlarge(camera));
  players.push(new LivePlayer(video, camera, "sub", (text) => { status.textContent = text; }).start());
  return node;
}

function draw() {
  for (const player of players) player.stop();
  players = [];
  wall.dataset.layout = String(layout);
  wall.replaceChildren(...order.slice(0, layout).map((id, index) => tile(byId.get(id), index)));
  for (const button of document.querySelectorAll(".layout-button")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.layout) === layout));
  }
}

function enlarge(camera) {
  const box = document.getElementById("wall-enlarged");
  document.getElementById("enlarged-name").textContent = camera.name;
  const status = document.getElementById("enlarged-status");
  if (enlarged) enlarged.stop();
  enlarged = new LivePlayer(document.getElementById("enlarged-video"), camera, "main",
    (text) => { status.textContent = text; }).start();
  box.classList.remove("hidden");
  box.dataset.camera = camera.camera;
}

async function save() {
  const result = await post(data.wall_url, { layout, tiles: order });
  if (!result.ok) toast(errorText(result), "error");
}

function choose(index, cameraId) {
  const before = order.indexOf(cameraId);
  if (before >= 0) order[before] = order[index];  // the camera's old tile takes this tile's camera
  order[index] = cameraId;
  draw();
  save();
}

if (wall) {
  for (const button of document.querySelectorAll(".layout-button")) {
    button.addEventListener("click", () => {
      layout = Number(button.dataset.layout);
      draw();
      save();
    });
  }
  document.getElementById("enlarged-close").addEventListener("click", () => {
    if (enlarged) enlarged.stop();
    enlarged = null;
    document.getElementById("wall-enlarged").classList.add("hidden");
  });
  draw();
  // An alarm with a linked camera pops it up enlarged (wall_alarm.js asks, with the camera's entity id).
  document.addEventListener("hacho:wall-pop", (event) => {
    const camera = data.cameras.find((item) => item.entity_id === event.detail.entity_id);
    if (camera) enlarge(camera);
  });
}
