// Panel page: compose a message with a live preview of the sign (rows x characters, pages, justify,
// colour), the same fit rules the hub applies, then send it with panel.display or clear the panel.

import { callService, el, errorText, fmtTime, label, nameOf, pageData, t, toast } from "./hacho.js";

const data = pageData();
const caps = data.capabilities;
const form = document.getElementById("compose");
const preview = document.getElementById("preview");
const problemsBox = document.getElementById("problems");
const sendButton = document.getElementById("send");

/** Pages of lines: a blank line starts a new page; trailing blank lines are ignored. */
export function parsePages(text) {
  const pages = [];
  let current = [];
  for (const raw of text.replace(/\r/g, "").split("\n")) {
    const line = raw.replace(/\s+$/, "");
    if (line === "") {
      if (current.length) pages.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length) pages.push(current);
  return pages;
}

/** Every reason the pages cannot be shown (the hub checks the same before sending). */
export function fitProblems(pages, capabilities) {
  const problems = [];
  if (!pages.length) problems.push(t("the message has no text"));
  if (pages.length > capabilities.max_pages) {
    problems.push(t("{pages} pages; this panel shows at most {max}", { pages: pages.length, max: capabilities.max_pages }));
  }
  const charset = new Set(capabilities.charset);
  pages.forEach((page, p) => {
    if (page.length > capabilities.rows) problems.push(t("page {page}: {lines} lines; the panel has {rows} rows", { page: p + 1, lines: page.length, rows: capabilities.rows }));
    page.forEach((line, l) => {
      if (line.length > capabilities.chars_per_row) {
        problems.push(t("page {page} line {line}: {length} characters; {fit} fit",
          { page: p + 1, line: l + 1, length: line.length, fit: capabilities.chars_per_row }));
      }
      const bad = [...new Set(line)].filter((ch) => !charset.has(ch));
      if (bad.length) problems.push(t("page {page} line {line}: the panel cannot show these characters: {chars}", { page: p + 1, line: l + 1, chars: bad.map((c) => `'${c}'`).join(", ") }));
    });
  });
  return problems;
}

function placeLine(line, width, justify) {
  const text = line.slice(0, width);
  const free = width - text.length;
  if (justify === "left") return text + " ".repeat(free);
  if (justify === "right") return " ".repeat(free) + text;
  const left = Math.floor(free / 2);
  return " ".repeat(left) + text + " ".repeat(free - left);
}

function renderSign(page, justify) {
  const charset = new Set(caps.charset);
  const sign = el("div", { class: `sign colour-${caps.colour || "amber"}`, role: "img",
                            "aria-label": page.filter((line) => line.trim()).join(" / ") || t("blank") });
  for (let r = 0; r < caps.rows; r += 1) {
    const line = placeLine(page[r] || "", caps.chars_per_row, justify);
    const row = el("div", { class: "row" });
    for (const ch of line) {
      row.append(el("span", { class: ch !== " " && !charset.has(ch) ? "cell bad" : "cell", text: ch }));
    }
    sign.append(row);
  }
  return sign;
}

function values() {
  const fields = new FormData(form);
  let text = String(fields.get("text") || "");
  if (fields.get("uppercase")) text = text.toLocaleUpperCase("es");
  return {
    pages: parsePages(text),
    priority: String(fields.get("priority") || "information"),
    justify: String(fields.get("justify") || "center"),
    minutes: Number(fields.get("minutes") || 0),
    pictogram: String(fields.get("pictogram") || ""),
    pageTime: Number(fields.get("page_time") || 3),
  };
}

function update() {
  const v = values();
  preview.replaceChildren();
  const pages = v.pages.length ? v.pages : [[]];
  const wrap = el("div", { class: "sign-pages" });
  pages.forEach((page, index) => {
    wrap.append(el("div", {}, renderSign(page, v.justify),
      el("div", { class: "sign-meta", text: t("page {page}/{pages}", { page: index + 1, pages: pages.length }) })));
  });
  preview.append(wrap);
  const expiry = v.minutes > 0 ? t("expires in {minutes} min", { minutes: v.minutes }) : t("no expiry");
  preview.append(el("div", { class: "sign-meta",
    text: t("{rows} rows x {chars} characters", { rows: caps.rows, chars: caps.chars_per_row })
      + ` - ${t("priority {priority}", { priority: label(v.priority) })} - ${expiry}`
      + (v.pictogram ? ` - ${t("pictogram {name}", { name: v.pictogram })}` : "")
      + (pages.length > 1 ? ` - ${t("{seconds} s per page", { seconds: v.pageTime })}` : "") }));
  const problems = fitProblems(v.pages, caps);
  problemsBox.replaceChildren(...problems.map((p) => el("li", { text: p })));
  problemsBox.classList.toggle("hidden", problems.length === 0);
  if (sendButton) sendButton.disabled = problems.length > 0;
}

async function send(event) {
  event.preventDefault();
  const v = values();
  if (fitProblems(v.pages, caps).length) return;
  const body = { entity_id: data.entity_id, pages: v.pages, priority: v.priority, justify: v.justify,
                 page_time: v.pageTime };
  if (v.minutes > 0) body.duration = v.minutes * 60;
  if (v.pictogram) body.pictogram = v.pictogram;
  sendButton.disabled = true;
  const result = await callService("panel", "display", body);
  sendButton.disabled = false;
  if (result.ok) {
    toast(t("Message sent to the panel"));
  } else {
    toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
  }
}

async function clear(event) {
  const priority = event.target.dataset.priority;
  const body = priority ? { entity_id: data.entity_id, priority } : { entity_id: data.entity_id, all: true };
  const result = await callService("panel", "clear", body);
  if (result.ok) {
    toast(t("Panel cleared"));
  } else {
    toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
  }
}

if (form && caps) {
  form.addEventListener("input", update);
  form.addEventListener("submit", send);
  update();
}
for (const button of document.querySelectorAll("[data-action=clear]")) button.addEventListener("click", clear);
/** "Now showing": the sign as it is, or blank; redrawn when the panel's state changes. */
function showCurrent(message) {
  const box = document.getElementById("now-showing");
  if (!box || !caps) return;
  if (!message || !message.pages || !message.pages.length) {
    box.replaceChildren(el("p", { class: "muted", id: "current-blank", text: t("The panel is blank.") }));
    return;
  }
  const signs = el("div", { class: "sign-pages", id: "current-sign" },
    ...message.pages.map((page) => renderSign(page, message.justify || "center")));
  const who = message.user_id ? nameOf("users", message.user_id) : t("the hub");
  const meta = t("priority {priority}", { priority: label(message.priority) })
    + ` - ${t("set by {user}", { user: who })}`
    + (message.expires ? ` - ${t("until {time}", { time: fmtTime(message.expires) })}` : "");
  box.replaceChildren(signs, el("p", { class: "sign-meta", text: meta }));
}

showCurrent(data.current);
document.addEventListener("hacho:state", (event) => {
  const attrs = event.detail ? event.detail.attributes : {};
  showCurrent(attrs.pages ? attrs : null);
});
