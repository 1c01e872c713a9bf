// journeys web page: plain JS over the v1 API. Data is only ever written with textContent.
"use strict";

const KEY = "journeys.key";
const $ = (sel, root = document) => root.querySelector(sel);
const state = { key: null, me: null, user: null, journeys: [], routes: new Set(), mode: { kind: "all" } };

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: `Bearer ${state.key}` } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = data.error || {};
    throw new ApiError(resp.status, err.code || "http_error", err.message || resp.statusText);
  }
  return data;
}

function say(text, isError = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function has(method, template) { return state.routes.has(`${method} ${template}`); }

async function loadRoutes() {
  const spec = await fetch("/openapi.json").then((r) => r.json());
  for (const [path, ops] of Object.entries(spec.paths || {})) {
    for (const m of Object.keys(ops)) state.routes.add(`${m.toUpperCase()} ${path}`);
  }
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const fmtMonth = (iso) => new Date(iso).toLocaleDateString("en", { year: "numeric", month: "short", timeZone: "UTC" });
const fmtDay = (iso) => new Date(iso).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
function fmtSpan(a, b) {
  const days = (new Date(b) - new Date(a)) / 864e5;
  return days < 62 ? `${fmtDay(a)} → ${fmtDay(b)}` : `${fmtMonth(a)} → ${fmtMonth(b)}`;
}

// ---- sign in -------------------------------------------------------------------------------
async function signIn(key) {
  state.key = key;
  try {
    state.me = await api("GET", "/v1/me");
  } catch (e) {
    sessionStorage.removeItem(KEY);
    state.key = null;
    say(e.status === 401 ? "That key was not accepted." : `Could not sign in: ${e.message}`, true);
    $("#key-input").focus();
    return;
  }
  sessionStorage.setItem(KEY, key);
  $("#key-input").value = "";
  signedIn(true);
  if (state.me.admin) {
    $("#user-form").hidden = false;
    const users = (await api("GET", "/v1/users")).users;
    const list = $("#user-list");
    list.replaceChildren(...users.map((u) => el("option", { value: u.user_id }, `${u.n_journeys} journeys`)));
    const wanted = new URLSearchParams(location.hash.slice(1)).get("user") || (users[0] && users[0].user_id);
    if (wanted) await showUser(wanted);
  } else {
    await showUser(state.me.user_id);
  }
}

function signedIn(yes) {
  for (const sel of ["#key-input", "#key-form button[type=submit]", "#key-help", "label[for=key-input]"]) $(sel).hidden = yes;
  $("#sign-out").hidden = !yes;
  $("#signed-in").hidden = !yes;
  $("#signed-in").textContent = yes ? (state.me.admin ? "Signed in: admin" : `Signed in: ${state.me.user_id}`) : "";
}

function signOut() {
  sessionStorage.removeItem(KEY);
  state.key = state.me = state.user = null;
  $("#main").hidden = true;
  $("#user-form").hidden = true;
  signedIn(false);
  say("Key forgotten.");
  $("#key-input").focus();
}

// ---- a user's journeys ---------------------------------------------------------------------
async function showUser(user) {
  state.user = user;
  state.mode = { kind: "all" };
  $("#user-input").value = user;
  if (state.me.admin) history.replaceState(null, "", `#user=${encodeURIComponent(user)}`);
  try {
    await refresh();
    $("#main").hidden = false;
    say(`${state.journeys.length} journeys for ${user}.`);
    await loadRecs();
  } catch (e) {
    say(`Could not load ${user}: ${e.message}`, true);
  }
}

async function refresh() {
  const hidden = $("#show-hidden").checked ? "?hidden=true" : "";
  const u = encodeURIComponent(state.user);
  const [data, tl] = await Promise.all([
    api("GET", `/v1/users/${u}/journeys${hidden}`),
    api("GET", `/v1/users/${u}/timeline`),
  ]);
  state.journeys = data.journeys;
  $("#who").textContent = `User ${state.user} · ${data.journeys.length} journeys`;
  renderCards();
  renderTimeline(tl);
}

function badge(text, kind) { return el("span", { class: `badge ${kind}` }, text); }

function renderCards() {
  const tpl = $("#card-template");
  const canEdit = has("PATCH", "/v1/journeys/{journey_id}");
  const canMerge = has("POST", "/v1/journeys/{journey_id}/merge");
  const canRecs = has("GET", "/v1/users/{user}/recommendations");
  const cards = state.journeys.map((j, n) => {
    const li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.journey = j.journey_id;
    const h = $(".name", li);
    h.id = `journey-${n}`;
    h.textContent = j.name;
    $("article", li).setAttribute("aria-labelledby", h.id);
    const badges = $(".badges", li);
    for (const s of [j.stage_activity, j.stage_kind]) if (s) badges.append(badge(s, `stage-${s}`));
    if (!j.stage_activity && !j.stage_kind && j.stage) badges.append(badge(j.stage, "stage"));
    if (j.hidden) badges.append(badge("hidden", "muted"));
    if (j.name_source === "user") badges.append(badge("renamed by you", "muted"));
    $(".pin-mark", li).hidden = !j.pinned;
    $(".span", li).textContent =
      `${fmtSpan(j.first_seen, j.last_seen)} · ${j.size} items · ${j.n_events} events`;
    $(".keywords", li).append(...j.keywords.slice(0, 8).map((k) => el("li", {}, k)));
    $(".evidence", li).append(...j.evidence_titles.slice(0, 5).map((t) => el("li", {}, t)));
    if (j.related && j.related.length) {
      $(".related-box", li).hidden = false;
      $(".related", li).append(...j.related.map((r) => el("li", {}, r)));
    }
    wireCard(li, j, { canEdit, canMerge, canRecs });
    return li;
  });
  $("#cards").replaceChildren(...cards);
  if (!cards.length) $("#cards").append(el("li", { class: "empty" }, "No journeys yet."));
}

function wireCard(li, j, can) {
  const label = (btn, verb) => btn.setAttribute("aria-label", `${verb} “${j.name}”`);
  const delve = $(".act-delve", li), rename = $(".act-rename", li), pin = $(".act-pin", li),
    hide = $(".act-hide", li), merge = $(".act-merge", li);
  label(delve, "Delve deeper into"); label(rename, "Rename"); label(merge, "Merge another journey into");
  pin.textContent = j.pinned ? "Unpin" : "Pin"; label(pin, j.pinned ? "Unpin" : "Pin");
  hide.textContent = j.hidden ? "Show" : "Hide"; label(hide, j.hidden ? "Show" : "Hide");
  delve.hidden = !can.canRecs;
  rename.hidden = pin.hidden = hide.hidden = !can.canEdit;
  merge.hidden = !can.canMerge || state.journeys.length < 2;
  if (!can.canRecs && !can.canEdit && !can.canMerge) $(".actions", li).hidden = true;

  delve.addEventListener("click", () => {
    state.mode = { kind: "journey", id: j.journey_id, name: j.name };
    loadRecs(true);
  });

  const form = $(".rename-form", li), input = $(".rename-input", li), h = $(".name", li);
  input.id = `rename-${j.journey_id}`;
  $("label", form).setAttribute("for", input.id);
  const closeRename = () => { form.hidden = true; h.hidden = false; rename.focus(); };
  rename.addEventListener("click", () => {
    input.value = j.name; form.hidden = false; h.hidden = true; input.focus(); input.select();
  });
  $(".rename-cancel", li).addEventListener("click", closeRename);
  form.addEventListener("keydown", (e) => { if (e.key === "Escape") closeRename(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    try {
      await api("PATCH", `/v1/journeys/${encodeURIComponent(j.journey_id)}`, { name });
      j.name = name; h.textContent = name;
      closeRename();
      say(`Renamed to “${name}”.`);
    } catch (err) { say(`Rename failed: ${err.message}`, true); }
  });

  pin.addEventListener("click", () => edit(j, { pinned: !j.pinned }, j.pinned ? "Unpinned" : "Pinned"));
  hide.addEventListener("click", () => edit(j, { hidden: !j.hidden }, j.hidden ? "Shown" : "Hidden"));

  const mform = $(".merge-form", li), select = $(".merge-select", li);
  select.id = `merge-${j.journey_id}`;
  $("label", mform).setAttribute("for", select.id);
  const closeMerge = () => { mform.hidden = true; merge.focus(); };
  merge.addEventListener("click", () => {
    select.replaceChildren(...state.journeys.filter((o) => o.journey_id !== j.journey_id)
      .map((o) => el("option", { value: o.journey_id }, o.name)));
    mform.hidden = false; select.focus();
  });
  $(".merge-cancel", li).addEventListener("click", closeMerge);
  mform.addEventListener("keydown", (e) => { if (e.key === "Escape") closeMerge(); });
  mform.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", `/v1/journeys/${encodeURIComponent(j.journey_id)}/merge`, { other_id: select.value });
      await refresh();
      say(`Merged into “${j.name}”.`);
      $("#journeys-heading").focus();
    } catch (err) { say(`Merge failed: ${err.message}`, true); }
  });
}

async function edit(j, patch, verb) {
  try {
    await api("PATCH", `/v1/journeys/${encodeURIComponent(j.journey_id)}`, patch);
    await refresh();
    say(`${verb} “${j.name}”.`);
    const card = document.querySelector(`[data-journey="${CSS.escape(j.journey_id)}"] .act-pin`);
    (card || $("#journeys-heading")).focus();
  } catch (err) { say(`Could not change “${j.name}”: ${err.message}`, true); }
}

// ---- timeline (hand-drawn SVG) ------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function renderTimeline(tl) {
  const box = $("#timeline");
  box.replaceChildren();
  if (!tl.rows.length) { box.append(el("p", {}, "No activity yet.")); return; }
  const labelW = 190, rowH = 24, cellW = Math.max(6, Math.floor((Math.min(box.clientWidth || 900, 1100) - labelW - 10) / tl.bins));
  const width = labelW + cellW * tl.bins + 10, height = rowH * tl.rows.length + 24;
  const max = Math.max(1, ...tl.rows.flatMap((r) => r.counts));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `Activity of ${tl.rows.length} journeys from ${fmtMonth(tl.start)} to ${fmtMonth(tl.end)}; the table below lists it.` });
  tl.rows.forEach((r, n) => {
    const y = n * rowH;
    const g = svg("g", { class: "tl-row" });
    const t = svg("title"); t.textContent = `${r.name}: ${r.counts.reduce((a, b) => a + b, 0)} events`;
    g.append(t);
    const name = svg("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end", class: "tl-label" });
    name.textContent = r.name.length > 26 ? `${r.name.slice(0, 25)}…` : r.name;
    g.append(name, svg("rect", { x: labelW, y: y + 3, width: cellW * tl.bins, height: rowH - 6, class: "tl-track" }));
    r.counts.forEach((c, k) => {
      if (!c) return;
      g.append(svg("rect", { x: labelW + k * cellW, y: y + 3, width: cellW - 1, height: rowH - 6,
        class: "tl-cell", "fill-opacity": (0.2 + 0.8 * c / max).toFixed(2) }));
    });
    root.append(g);
  });
  const axisY = rowH * tl.rows.length + 16;
  const days = (new Date(tl.end) - new Date(tl.start)) / 864e5;
  const fmtTime = (iso) => new Date(iso).toLocaleString("en", { month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", timeZone: "UTC" });
  const axis = days < 2 ? fmtTime : days < 62 ? fmtDay : fmtMonth;
  for (const [x, iso, anchor] of [[labelW, tl.start, "start"], [labelW + cellW * tl.bins, tl.end, "end"]]) {
    const a = svg("text", { x, y: axisY, "text-anchor": anchor, class: "tl-axis" }); a.textContent = axis(iso);
    root.append(a);
  }
  box.append(root);
  // the same facts as a table, for screen readers
  const table = el("table", { class: "sr-only" });
  table.append(el("caption", {}, "Journey activity over time"));
  const head = el("tr"); head.append(el("th", { scope: "col" }, "Journey"), el("th", { scope: "col" }, "Events"),
    el("th", { scope: "col" }, "Busiest stretch"));
  table.append(head);
  const span = (new Date(tl.end) - new Date(tl.start)) / tl.bins;
  for (const r of tl.rows) {
    const best = r.counts.indexOf(Math.max(...r.counts));
    const tr = el("tr");
    tr.append(el("th", { scope: "row" }, r.name), el("td", {}, String(r.counts.reduce((a, b) => a + b, 0))),
      el("td", {}, fmtMonth(new Date(new Date(tl.start).getTime() + best * span).toISOString())));
    table.append(tr);
  }
  box.append(table);
}

// ---- recommendations and steering ---------------------------------------------------------
function setPressed(kind) {
  $("#steer-all").setAttribute("aria-pressed", String(kind === "all"));
  $("#steer-explore").setAttribute("aria-pressed", String(kind === "explore"));
}

async function loadRecs(focus = false) {
  const panel = $("#recs-panel");
  if (!has("GET", "/v1/users/{user}/recommendations")) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const m = state.mode, params = new URLSearchParams({ k: "10" });
  let label = "For all your journeys";
  if (m.kind === "journey") { params.set("journey", m.id); label = `Delving deeper into “${m.name}”`; }
  if (m.kind === "explore") { params.set("explore", "true"); label = "Exploring journeys you have not started"; }
  if (m.kind === "query") { params.set("query", m.query); label = `Looking for “${m.query}”`; }
  setPressed(m.kind);
  $("#recs-mode").textContent = label;
  try {
    const data = await api("GET", `/v1/users/${encodeURIComponent(state.user)}/recommendations?${params}`);
    const items = data.recommendations.map((r) => {
      const li = el("li", { class: "rec" });
      li.append(el("span", { class: "rec-title" }, r.title || r.item_id), el("span", { class: "rec-reason" }, r.reason));
      return li;
    });
    $("#recs").replaceChildren(...items);
    if (!items.length) $("#recs").append(el("li", { class: "empty" }, "Nothing to recommend here yet."));
    if (focus) $("#recs-heading").focus();
  } catch (e) { say(`Recommendations failed: ${e.message}`, true); }
}

// ---- wiring --------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  await loadRoutes().catch(() => {});
  $("#key-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#key-input").value.trim()); });
  $("#sign-out").addEventListener("click", signOut);
  $("#user-form").addEventListener("submit", (e) => { e.preventDefault(); showUser($("#user-input").value.trim()); });
  $("#show-hidden").addEventListener("change", () => refresh().catch((e) => say(e.message, true)));
  $("#steer-all").addEventListener("click", () => { state.mode = { kind: "all" }; loadRecs(); });
  $("#steer-explore").addEventListener("click", () => { state.mode = { kind: "explore" }; loadRecs(); });
  $("#query-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("#query-input").value.trim();
    state.mode = q ? { kind: "query", query: q } : { kind: "all" };
    loadRecs();
  });
  const saved = sessionStorage.getItem(KEY);
  if (saved) await signIn(saved); else $("#key-input").focus();
});
