// The camera wall: 1, 4, 9 or 16 tiles of live sub streams; a click enlarges a camera on its main stream.
// The layout is kept per operator in this browser (localStorage, key hacho.wall.<user>).

import { pageData } from "./hacho.js";
import { LivePlayer } from "./video.js";

const data = pageData();
const key = `hacho.wall.${data.user}`;
const wall = document.getElementById("wall");
let players = [];
let enlarged = null;

function savedLayout() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(key) || "{}");
    return data.layouts.includes(saved.layout) ? saved.layout : 4;
  } catch (_err) {
    return 4;
  }
}

function tile(camera) {
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
  node.className = `tile${camera.available ? "" : " offline"}`;
  node.dataset.camera = camera.camera;
  node.append(video, name, status);
  node.addEventListener("click", () => enlarge(camera));
  players.push(new LivePlayer(video, camera, "sub", (text) => { status.textContent = text; }).start());
  return node;
}

function draw(layout) {
  for (const player of players) player.stop();
  players = [];
  wall.dataset.layout = String(layout);
  wall.replaceChildren(...data.cameras.slice(0, layout).map(tile));
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

if (wall) {
  for (const button of document.querySelectorAll(".layout-button")) {
    button.addEventListener("click", () => {
      const layout = Number(button.dataset.layout);
      window.localStorage.setItem(key, JSON.stringify({ layout }));
      draw(layout);
    });
  }
  document.getElementById("enlarged-close").addEventListener("click", () => {
    if (enlarged) enlarged.stop();
    enlarged = null;
    document.getElementById("wall-enlarged").classList.add("hidden");
  });
  draw(savedLayout());
  // An alarm with a linked camera pops it up enlarged (wall_alarm.js asks, with the camera's entity id).
  document.addEventListener("hacho:wall-pop", (event) => {
    const camera = data.cameras.find((item) => item.entity_id === event.detail.entity_id);
    if (camera) enlarge(camera);
  });
}
