// compression.html: sortable tables and the token view. Plain DOM, no network, no libraries.
"use strict";

function sortTable(th) {
  const table = th.closest("table");
  const column = Array.from(th.parentNode.children).indexOf(th);
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("thead th").forEach((cell) => cell.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const key = (row) => {
    const cell = row.children[column];
    const value = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim();
    const number = parseFloat(value);
    return value === "" ? null : Number.isNaN(number) ? value : number;
  };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;  // empty cells last
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
}

function hexToBytes(hex) {
  return new Uint8Array(hex === "" ? [] : hex.split(" ").map((pair) => parseInt(pair, 16)));
}

const VISIBLE = { "\n": "↵\n", "\t": "→", "\r": "␍" };
const decoder = new TextDecoder("utf-8");

function pieceText(hex, partial) {
  if (partial) return hex;
  return decoder.decode(hexToBytes(hex)).replace(/[\n\t\r]/g, (c) => VISIBLE[c]);
}

function showDetail(span) {
  document.getElementById("tv-detail").textContent = span.title;
}

function renderRow(name, pieces) {
  const row = document.createElement("div");
  row.className = "tv-row";
  row.dataset.tokenizer = name;
  const label = document.createElement("div");
  label.className = "tv-name";
  label.textContent = name;
  const count = document.createElement("span");
  count.className = "count";
  const partial = pieces.filter((piece) => piece[2]).length;
  count.textContent = `${pieces.length} tokens` + (partial ? `, ${partial} partial UTF-8` : "");
  label.appendChild(count);
  const box = document.createElement("div");
  box.className = "tv-pieces";
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", `${name}: ${pieces.length} tokens; arrow keys move between tokens`);
  pieces.forEach(([id, hex, isPartial], index) => {
    const span = document.createElement("span");
    span.className = "tok " + (isPartial ? "partial" : index % 2 ? "t1" : "t0");
    span.textContent = pieceText(hex, isPartial);
    span.title = `id ${id} · bytes ${hex || "(none)"}` + (isPartial ? " · partial UTF-8" : "");
    span.tabIndex = index === 0 ? 0 : -1;
    box.appendChild(span);
  });
  row.append(label, box);
  return row;
}

function moveFocus(event) {
  const span = event.target;
  if (!span.classList || !span.classList.contains("tok")) return;
  const spans = Array.from(span.parentNode.children);
  const steps = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -spans.length, End: spans.length };
  if (!(event.key in steps)) return;
  event.preventDefault();
  const next = spans[Math.max(0, Math.min(spans.length - 1, spans.indexOf(span) + steps[event.key]))];
  span.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

function renderTokenView(data) {
  const language = document.getElementById("tv-language").value;
  const chosen = document.getElementById("tv-tokenizer").value;
  const sample = data.samples.find((item) => item.code === language);
  const view = document.getElementById("tv-rows");
  view.replaceChildren();
  if (!sample) return;
  document.getElementById("tv-sentence").textContent = sample.text;
  document.getElementById("tv-sentence").lang = sample.lang || "";
  data.tokenizers
    .filter((name) => chosen === "*" || chosen === name)
    .filter((name) => name in sample.pieces)
    .forEach((name) => view.appendChild(renderRow(name, sample.pieces[name])));
}

// The URL fragment "#lang=CODE&tokenizer=NAME" chooses the token view (links and screenshots).
function readFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  [["lang", "tv-language"], ["tokenizer", "tv-tokenizer"]].forEach(([key, id]) => {
    const select = document.getElementById(id);
    const value = params.get(key);
    if (value !== null && Array.from(select.options).some((option) => option.value === value)) select.value = value;
  });
}

function writeFragment() {
  const params = new URLSearchParams();
  params.set("lang", document.getElementById("tv-language").value);
  params.set("tokenizer", document.getElementById("tv-tokenizer").value);
  history.replaceState(null, "", "#" + params.toString());
}

function main() {
  document.querySelectorAll("th button.sort").forEach((button) => {
    button.addEventListener("click", () => sortTable(button.parentNode));
  });
  const source = document.getElementById("bbpe-data");
  if (source) {
    const data = JSON.parse(source.textContent);
    ["tv-language", "tv-tokenizer"].forEach((id) => {
      document.getElementById(id).addEventListener("change", () => {
        writeFragment();
        renderTokenView(data);
      });
    });
    readFragment();
    const rows = document.getElementById("tv-rows");
    rows.addEventListener("keydown", moveFocus);
    rows.addEventListener("focusin", (event) => event.target.classList.contains("tok") && showDetail(event.target));
    rows.addEventListener("mouseover", (event) => event.target.classList.contains("tok") && showDetail(event.target));
    renderTokenView(data);
  }
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", main);
