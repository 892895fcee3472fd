// The interactions list (server-side paging, search, filters, export) and one
// interaction's detail (with its timeline and the wrap-up note).
"use strict";

Object.assign(T.en, {
  search: "Search", search_hint: "Customer ID or name, last digits of the number, interaction ID", all: "All",
  page_of: "{a}–{b} of {n}", prev: "← Newer", next: "Older →", export: "Export", talk: "Talk", offset: "+s", event: "Step",
  detail: "Detail", result: "Result", no_match: "No interaction matches.", wait: "Wait", share: "Share link for the CRM",
});
Object.assign(T.ja, {
  search: "検索", search_hint: "顧客ID・氏名、発信者番号の末尾、通話ID", all: "すべて",
  page_of: "{n}件中 {a}–{b}件", prev: "← 新しい通話", next: "古い通話 →", export: "エクスポート", talk: "通話", offset: "経過(秒)", event: "段階",
  detail: "詳細", result: "結果", no_match: "該当する通話はありません。", wait: "待ち時間", share: "CRM用の共有リンク",
});

const REASONS = ["OK", "NOT_REQUIRED", "OPTED_OUT", "NOT_FOUND", "NO_INPUT", "VERIFY_FAILED", "LOCKED", "BACKEND_UNAVAILABLE", "HANGUP"];
const FILTERS = ["q", "line", "queue", "agent", "status", "reason", "method", "wrapup"];

function options(name, values, cur, lbl) {
  return `<select name="${name}"><option value="">${t("all")}</option>${values.map((v) =>
    `<option value="${esc(v)}" ${cur === v ? "selected" : ""}>${esc(lbl ? lbl(v) : v)}</option>`).join("")}</select>`;
}

async function interactions() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const from = q.get("from") || today(), to = q.get("to") || today();
  const page = Math.max(1, parseInt(q.get("page") || "1", 10) || 1);
  $("#main").innerHTML = `<h1>${t("interactions")}</h1>
    <form class="filters" id="f"><label>${t("from")}<input type="date" name="from" value="${esc(from)}"></label>
    <label>${t("to")}<input type="date" name="to" value="${esc(to)}"></label>
    <label class="wide">${t("search")}<input type="search" name="q" value="${esc(q.get("q") || "")}" placeholder="${esc(t("search_hint"))}"></label>
    <label>${t("line")}${options("line", ui.lines || [], q.get("line"))}</label>
    <label>${t("queue")}${options("queue", ui.queues || [], q.get("queue"))}</label>
    <label>${t("agent_name")}${options("agent", ui.agents || [], q.get("agent"))}</label>
    <label>${t("status")}${options("status", ["VERIFIED", "IDENTIFIED", "UNIDENTIFIED"], q.get("status"), t)}</label>
    <label>${t("reason")}${options("reason", REASONS, q.get("reason"), (r) => label("reason_", r))}</label>
    <label>${t("method")}${options("method", ["ANI", "DTMF", "NONE"], q.get("method"), (m) => label("method_", m))}</label>
    <label>${t("wrapup")}${options("wrapup", ui.wrapup_codes || [], q.get("wrapup"), wrapLabel)}</label>
    <button class="primary">${t("show")}</button></form><div id="list"></div>`;
  $("#f").onsubmit = (e) => {
    e.preventDefault();
    const p = new URLSearchParams(new FormData(e.target));
    for (const k of FILTERS) if (!p.get(k)) p.delete(k);
    location.hash = "#/interactions?" + p;
  };
  const params = new URLSearchParams({ from, to });
  for (const k of FILTERS) if (q.get(k)) params.set(k, q.get(k));
  const size = 50;
  const res = await api(`/api/interactions?${params}&page=${page}&size=${size}`);
  const a = res.total ? res.offset + 1 : 0, b = res.offset + res.rows.length;
  const go = (p) => { const h = new URLSearchParams(q); h.set("from", from); h.set("to", to); h.set("page", p); return "#/interactions?" + h; };
  const exp = (f) => `/api/interactions/export?${params}&format=${f}&lang=${lang}`;
  $("#list").innerHTML = `<div class="pager"><span id="count">${t("page_of").replace("{a}", a).replace("{b}", b).replace("{n}", res.total)}</span>
      ${page > 1 ? `<a id="pager-prev" href="${go(page - 1)}">${t("prev")}</a>` : ""}${b < res.total ? `<a id="pager-next" href="${go(page + 1)}">${t("next")}</a>` : ""}
      <span class="spacer"></span>${t("export")}: <a class="dl" id="export-csv" href="${exp("csv")}">CSV</a><a class="dl" id="export-xlsx" href="${exp("xlsx")}">XLSX</a></div>
    ${res.rows.length ? `<table id="interactions"><tr><th>${t("started")}</th><th>${t("line")}</th><th>${t("status")}</th><th>${t("reason")}</th><th>${t("method")}</th><th>${t("customer")}</th><th>${t("name")}</th><th>${t("number")}</th><th>${t("wait")}</th><th>${t("duration")}</th><th>${t("agent_name")}</th><th>${t("wrapup")}</th></tr>
    ${res.rows.map((r) => `<tr class="click" data-id="${esc(r.id)}"><td>${fmtTime(r.started)}</td><td>${esc(r.line)}</td>
      <td>${r.in_progress ? `<span class="badge small progress" data-status="in_progress">${t("in_progress")}</span> ` : ""}${badge(r.status, true)}</td>
      <td>${esc(label("reason_", r.reason))}</td><td>${esc(label("method_", r.method))}</td><td>${esc(r.customer_id)}</td><td>${esc(r.customer_name)}</td>
      <td>${esc(aniText(r.ani))}</td><td>${r.wait_ms != null ? secs(r.wait_ms) : ""}</td><td>${r.in_progress ? t("in_progress") : secs(r.duration_ms)}</td>
      <td>${esc(r.agent)}</td><td>${esc(wrapLabel(r.wrapup))}</td></tr>`).join("")}</table>` : `<p class="muted" id="no-match">${t("no_match")}</p>`}`;
  clickRows();
}

// offset is an event's time after the call's start, in seconds to the millisecond: a
// stand-in's call takes milliseconds, a live one seconds.
const offset = (at, start) => "+" + ((new Date(at) - new Date(start)) / 1000).toFixed(3);

async function interaction(id) {
  const x = await api("/api/interactions/" + encodeURIComponent(id));
  const risk = (x.risk || []).map((r) => label("risk_", r)).join(", ");
  $("#main").innerHTML = `<h1>${t("detail")} · <span class="muted">${esc(x.id)}</span></h1><div class="pop" id="detail">
    ${x.in_progress ? `<span class="badge progress" data-status="in_progress">${t("in_progress")}</span> ` : ""}${badge(x.status)}${warning(x)}
    <dl><dt>${t("customer")}</dt><dd>${esc(x.customer_id) || "—"}</dd><dt>${t("name")}</dt><dd>${esc(x.customer_name) || "—"}</dd>
    <dt>${t("reason")}</dt><dd>${esc(label("reason_", x.reason))}</dd><dt>${t("number")}</dt><dd id="detail-ani">${esc(aniText(x.ani))}</dd>
    <dt>${t("line")}</dt><dd>${esc(x.line)}</dd><dt>${t("method")}</dt><dd>${esc(label("method_", x.method))}</dd>
    <dt>${t("identified_by")}</dt><dd>${esc(label("idtype_", x.id_type)) || "—"}</dd><dt>${t("factors")}</dt><dd>${factorList(x)}</dd>
    ${risk ? `<dt>${t("why_factors")}</dt><dd>${esc(risk)}</dd>` : ""}
    <dt>${t("attempts")}</dt><dd>${esc(x.attempts)}</dd><dt>${t("started")}</dt><dd>${fmtTime(x.started)}</dd>
    <dt>${t("duration")}</dt><dd>${x.ended ? secs(new Date(x.ended) - new Date(x.started)) : t("in_progress")}</dd>
    <dt>${t("route")}</dt><dd>${esc(x.route) || "—"}</dd><dt>${t("wait")}</dt><dd>${x.wait_ms != null ? secs(x.wait_ms) : "—"}</dd>
    <dt>${t("talk")}</dt><dd>${x.talk_ms != null ? secs(x.talk_ms) : "—"}</dd>
    <dt>${t("agent_name")}</dt><dd>${esc(x.agent) || "—"}</dd><dt>${t("wrapup")}</dt><dd id="detail-wrapup">${esc(wrapLabel(x.wrapup)) || "—"}</dd>
    <dt>${t("note")}</dt><dd id="detail-note" class="note">${esc(x.note) || "—"}</dd></dl></div>
    ${x.timeline ? `<h2>${t("timeline")}</h2><table id="timeline"><tr><th>${t("offset")}</th><th>${t("event")}</th><th></th><th>${t("result")}</th></tr>
    ${x.timeline.map((e) => `<tr><td class="num">${offset(e.at, x.started)}</td><td>${esc(label("ev_", e.kind))}</td><td>${esc(e.kind === "outcome" ? t(e.name) : opLabel(e.name))}</td>
      <td>${esc(e.kind === "outcome" ? label("reason_", e.result) : label("res_", e.result))}${e.latency_ms ? " · " + e.latency_ms + " ms" : ""}</td></tr>`).join("")}</table>` : ""}`;
}
