// An alarm's linked cameras, live on the alarm page (sub stream); the link below each plays its recording
// from the alarm's time less the pre-roll on the camera page.

import { pageData } from "./hacho.js";
import { LivePlayer } from "./video.js";

const cameras = new Map((pageData().cameras || []).map((camera) => [camera.camera, camera]));
for (const section of document.querySelectorAll(".alarm-camera")) {
  const camera = cameras.get(section.dataset.camera);
  const status = section.querySelector(".alarm-live-status");
  if (camera) {
    new LivePlayer(section.querySelector("video"), camera, "sub", (text) => { status.textContent = text; }).start();
  }
}
