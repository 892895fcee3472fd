// idv's pages: dashboard, interactions, agent desktop, agents and queues, reports.
// Plain JavaScript, no dependencies, served from the binary.
"use strict";

const T = {
  en: {
    dashboard: "Dashboard", interactions: "Interactions", agent: "My calls", agents: "Agents & queues", reports: "Reports",
    last15: "Last 15 minutes", today: "Today", calls: "Calls", verified: "Verified", identified: "Identified only",
    unidentified: "Not identified", opted_out: "Opted out", errors: "Errors", ani_hit_rate: "ANI hit rate", crm_errors: "CRM errors", locked_out: "Locked out / throttled",
    ivr: "In the IVR", welcome: "Welcome", identify: "Identifying", verify: "Verifying", routing: "Routing",
    queues: "Queues", waiting: "Waiting", longest: "Longest wait (s)", with_agents: "With agents", live_calls: "Live calls",
    line: "Line", status: "Status", customer: "Customer", name: "Name", method: "Method", attempts: "Attempts", state: "State",
    step: "Step", started: "Started", route: "Route", wrapup: "Wrap-up", from: "From", to: "To", show: "Show", download: "Download",
    no_call: "No call right now.", waiting_for_call: "Waiting for a call…", open_crm: "Open in CRM", save: "Save",
    saved: "Wrap-up saved.", timeline: "Timeline", report: "Report", none: "none", duration: "Duration",
    VERIFIED: "Identified and verified", IDENTIFIED: "Identified, not verified", UNIDENTIFIED: "Not identified",
    "on a call": "on a call", "wrap-up": "wrap-up", idle: "idle", queue: "Queue", ivr_state: "IVR", agent_name: "Agent",
    period: "Period", dates: "Dates above", range_today: "Today", range_yesterday: "Yesterday", "range_this-week": "This week",
    "range_last-week": "Last week", "range_this-month": "This month", "range_last-month": "Last month",
    "range_last-7-days": "Last 7 days", "range_last-30-days": "Last 30 days", range_note: "Periods are days of the report time zone",
  },
  ja: {
    dashboard: "ダッシュボード", interactions: "通話履歴", agent: "着信", agents: "エージェントとキュー", reports: "レポート",
    last15: "直近15分", today: "本日", calls: "通話", verified: "本人確認済み", identified: "特定のみ",
    unidentified: "未特定", opted_out: "スキップ", errors: "エラー", ani_hit_rate: "発信者番号ヒット率", crm_errors: "CRMエラー", locked_out: "ロック・制限",
    ivr: "IVR内", welcome: "挨拶", identify: "特定中", verify: "本人確認中", routing: "転送中",
    queues: "キュー", waiting: "待ち", longest: "最長待ち時間(秒)", with_agents: "通話中", live_calls: "現在の通話",
    line: "回線", status: "状態", customer: "顧客ID", name: "氏名", method: "方法", attempts: "試行", state: "状態",
    step: "段階", started: "開始", route: "転送先", wrapup: "後処理", from: "開始日", to: "終了日", show: "表示", download: "ダウンロード",
    no_call: "現在通話はありません。", waiting_for_call: "着信を待っています…", open_crm: "CRMで開く", save: "保存",
    saved: "後処理コードを保存しました。", timeline: "経過", report: "レポート", none: "なし", duration: "通話時間",
    VERIFIED: "特定済み・本人確認済み", IDENTIFIED: "特定済み・本人確認未完了", UNIDENTIFIED: "未特定",
    "on a call": "通話中", "wrap-up": "後処理中", idle: "待機中", queue: "キュー", ivr_state: "IVR", agent_name: "エージェント",
    period: "期間", dates: "上の日付", range_today: "本日", range_yesterday: "昨日", "range_this-week": "今週",
    "range_last-week": "先週", "range_this-month": "今月", "range_last-month": "先月",
    "range_last-7-days": "過去7日間", "range_last-30-days": "過去30日間", range_note: "期間はレポートのタイムゾーンの日付です",
  },
};
const SYMBOL = { VERIFIED: "✔", IDENTIFIED: "◐", UNIDENTIFIED: "✖" };

let lang = localStorage.getItem("idv.lang") || ((navigator.language || "en").startsWith("ja") ? "ja" : "en");
const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmtTime = (s) => s ? new Date(s).toLocaleString(lang === "ja" ? "ja-JP" : undefined) : "";
// today is the browser's local date (toISOString would give UTC's: yesterday's in Japan
// until 09:00).
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

let me = null, ui = { wrapup_codes: [], crm_link: "" }, stream = null, lastPop = null;

async function api(path, opts) {
  const r = await fetch(path, opts);
  if (!r.ok) throw new Error(await r.text());
  return r.json();
}

function nav() {
  const pages = me.role === "agent" ? ["agent"] : ["dashboard", "interactions", "agent", "agents", "reports"];
  const cur = (location.hash.slice(2).split("/")[0]) || pages[0];
  $("#nav").innerHTML = pages.map((p) => `<a href="#/${p}" class="${p === cur ? "active" : ""}">${t(p)}</a>`).join("");
  $("#who").textContent = `${me.name} (${me.role}${me.agent ? " · " + me.agent : ""})`;
  $("#lang").textContent = lang === "ja" ? "English" : "日本語";
}

function listen(path, render) {
  if (stream) stream.close();
  stream = new EventSource(path);
  stream.onmessage = (e) => render(JSON.parse(e.data));
}

function tiles(title, x) {
  const items = [["calls", x.calls], ["verified", x.verified], ["identified", x.identified], ["unidentified", x.unidentified],
    ["opted_out", x.opted_out], ["errors", x.errors], ["ani_hit_rate", Math.round(x.ani_hit_rate * 100) + "%"], ["crm_errors", x.crm_errors], ["locked_out", x.locked_out || 0]];
  return `<h2>${t(title)}</h2><div class="tiles" data-tiles="${title}">` +
    items.map(([k, v]) => `<div class="tile" data-k="${k}"><div class="n">${esc(v)}</div><div class="l">${t(k)}</div></div>`).join("") + "</div>";
}

function dashboard() {
  listen("/api/live", (s) => {
    const ivr = s.ivr_steps || []; // the IVR's phases in order, as flow lists them
    const inIVR = ivr.reduce((a, k) => a + (s.in_ivr[k] || 0), 0);
    const queues = Object.keys(s.in_queue).sort();
    $("#main").innerHTML = `<h1>${t("dashboard")}</h1>
      <div class="tiles">
        <div class="tile" id="in-ivr"><div class="n">${inIVR}</div><div class="l">${t("ivr")}</div></div>
        ${ivr.map((k) => `<div class="tile" data-step="${k}"><div class="n">${s.in_ivr[k] || 0}</div><div class="l">${t(k)}</div></div>`).join("")}
        <div class="tile" id="with-agents"><div class="n">${s.with_agents}</div><div class="l">${t("with_agents")}</div></div>
      </div>
      <h2>${t("queues")}</h2>
      <table><tr><th>${t("queue")}</th><th>${t("waiting")}</th><th>${t("longest")}</th></tr>
      ${queues.length ? queues.map((q) => `<tr><td>${esc(q)}</td><td>${s.in_queue[q]}</td><td>${s.longest_wait_s[q] || 0}</td></tr>`).join("") : `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>
      ${tiles("last15", s.last_15_minutes)}${tiles("today", s.today)}
      <h2>${t("live_calls")}</h2>
      <table id="live-calls"><tr><th>${t("started")}</th><th>${t("line")}</th><th>${t("state")}</th><th>${t("step")}</th><th>${t("status")}</th><th>${t("customer")}</th><th>${t("name")}</th></tr>
      ${(s.calls || []).map((c) => `<tr class="click" data-id="${esc(c.id)}"><td>${fmtTime(c.started)}</td><td>${esc(c.line)}</td><td>${esc(c.state === "ivr" ? t("ivr_state") : c.state === "queue" ? t("queue") + " " + c.queue : c.agent)}</td><td>${t(c.step)}</td><td>${badge(c.status, true)}</td><td>${esc(c.customer_id)}</td><td>${esc(c.customer_name)}</td></tr>`).join("")}</table>`;
    clickRows();
  });
}

function badge(status, small) {
  return `<span class="badge ${esc(status)}${small ? " small" : ""}" data-status="${esc(status)}"><span aria-hidden="true">${SYMBOL[status] || ""}</span>${esc(t(status))}</span>`;
}

function clickRows() {
  document.querySelectorAll("tr.click").forEach((tr) => tr.onclick = () => location.hash = "#/interaction/" + tr.dataset.id);
}

async function interactions() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const from = q.get("from") || today(), to = q.get("to") || today();
  $("#main").innerHTML = `<h1>${t("interactions")}</h1>
    <form class="filters" id="f"><label>${t("from")}<input type="date" name="from" value="${esc(from)}"></label>
    <label>${t("to")}<input type="date" name="to" value="${esc(to)}"></label>
    <label>${t("line")}<input name="line" value="${esc(q.get("line") || "")}"></label>
    <label>${t("queue")}<input name="queue" value="${esc(q.get("queue") || "")}"></label>
    <label>${t("agent_name")}<input name="agent" value="${esc(q.get("agent") || "")}" placeholder="PJSIP/agent1"></label>
    <label>${t("status")}<select name="status"><option value=""></option>${["VERIFIED", "IDENTIFIED", "UNIDENTIFIED"].map((s) => `<option ${q.get("status") === s ? "selected" : ""} value="${s}">${t(s)}</option>`).join("")}</select></label>
    <button class="primary">${t("show")}</button></form><div id="list"></div>`;
  $("#f").onsubmit = (e) => { e.preventDefault(); location.hash = "#/interactions?" + new URLSearchParams(new FormData(e.target)); };
  const params = new URLSearchParams({ from, to });
  for (const k of ["line", "queue", "agent"]) if (q.get(k)) params.set(k, q.get(k));
  if (q.get("status")) params.set("status", q.get("status"));
  const rows = await api("/api/interactions?" + params);
  $("#list").innerHTML = `<table><tr><th>${t("started")}</th><th>${t("line")}</th><th>${t("status")}</th><th>${t("method")}</th><th>${t("customer")}</th><th>${t("name")}</th><th>${t("route")}</th><th>${t("agent_name")}</th><th>${t("wrapup")}</th></tr>
    ${rows.map((r) => `<tr class="click" data-id="${esc(r.id)}"><td>${fmtTime(r.started)}</td><td>${esc(r.line)}</td><td>${badge(r.status, true)}</td><td>${esc(r.method)}</td><td>${esc(r.customer_id)}</td><td>${esc(r.customer_name)}</td><td>${esc(r.route)}</td><td>${esc(r.agent)}</td><td>${esc(r.wrapup)}</td></tr>`).join("")}</table>`;
  clickRows();
}

async function interaction(id) {
  const x = await api("/api/interactions/" + encodeURIComponent(id));
  $("#main").innerHTML = `<h1>${esc(x.id)}</h1><div class="pop">${badge(x.status)}
    <dl><dt>${t("customer")}</dt><dd>${esc(x.customer_id) || "—"}</dd><dt>${t("name")}</dt><dd>${esc(x.customer_name) || "—"}</dd>
    <dt>${t("line")}</dt><dd>${esc(x.line)}</dd><dt>${t("method")}</dt><dd>${esc(x.method)}</dd><dt>${t("attempts")}</dt><dd>${esc(x.attempts)}</dd>
    <dt>${t("route")}</dt><dd>${esc(x.route)}</dd><dt>${t("agent_name")}</dt><dd>${esc(x.agent) || "—"}</dd><dt>${t("wrapup")}</dt><dd>${esc(x.wrapup) || "—"}</dd></dl></div>
    <h2>${t("timeline")}</h2><table><tr><th>+s</th><th>step</th><th></th><th></th></tr>
    ${(x.timeline || []).map((e) => `<tr><td>${((new Date(e.at) - new Date(x.started)) / 1000).toFixed(1)}</td><td>${esc(e.kind)}</td><td>${esc(e.name)}</td><td>${esc(e.result)}${e.latency_ms ? " · " + e.latency_ms + " ms" : ""}</td></tr>`).join("")}</table>`;
}

function agentDesk() {
  const who = me.role === "agent" ? "" : "?agent=" + encodeURIComponent(new URLSearchParams(location.hash.split("?")[1] || "").get("agent") || "");
  let shown = "";
  listen("/api/live" + who, (v) => {
    if (v.call) lastPop = v.call;
    const c = v.call || (v.agent && v.agent.state === "wrap-up" && lastPop && lastPop.id === v.agent.interaction ? lastPop : null);
    if (!c) {
      $("#main").innerHTML = shown = `<h1>${t("agent")} · ${esc(v.agent ? v.agent.agent : "")}</h1><p class="idle" id="idle">${t("waiting_for_call")}</p>`;
      return;
    }
    const link = ui.crm_link && c.customer_id ? ui.crm_link.replace("{id}", encodeURIComponent(c.customer_id)) : "";
    const wrap = v.agent && v.agent.state === "wrap-up";
    const html = `<h1>${t("agent")} · ${esc(v.agent.agent)}</h1><div class="pop" id="pop" data-id="${esc(c.id)}">${badge(c.status)}
      <dl><dt>${t("name")}</dt><dd class="name" id="pop-name">${esc(c.customer_name) || "—"}</dd>
      <dt>${t("customer")}</dt><dd id="pop-id">${esc(c.customer_id) || "—"}</dd><dt>${t("line")}</dt><dd>${esc(c.line)}</dd>
      <dt>${t("method")}</dt><dd>${esc(c.method)}</dd><dt>${t("attempts")}</dt><dd>${esc(c.attempts)}</dd></dl>
      ${link ? `<a href="${esc(link)}" target="_blank" rel="noopener">${t("open_crm")}</a>` : ""}
      ${wrap ? `<form id="wrap"><h2>${t("wrapup")}</h2><select name="code">${ui.wrapup_codes.map((w) => `<option>${esc(w)}</option>`).join("")}</select> <button class="primary">${t("save")}</button> <span id="wrap-msg"></span></form>` : ""}</div>`;
    // A push that changes nothing on this screen must not redraw it: the agent may be
    // choosing a wrap-up code, and a redraw would reset the choice.
    if (html === shown) return;
    const picked = $("#wrap select") && $("#wrap select").value;
    $("#main").innerHTML = shown = html;
    if (wrap && picked) $("#wrap select").value = picked;
    if (wrap) $("#wrap").onsubmit = async (e) => {
      e.preventDefault();
      await api(`/api/interactions/${encodeURIComponent(c.id)}/wrapup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: new FormData(e.target).get("code") }) });
      lastPop = null;
    };
  });
}

function agentsView() {
  listen("/api/live", (s) => {
    $("#main").innerHTML = `<h1>${t("agents")}</h1><table><tr><th>${t("agent_name")}</th><th>${t("state")}</th><th></th></tr>
      ${(s.agents || []).map((a) => `<tr><td>${esc(a.agent)}</td><td>${t(a.state)}</td><td><a href="#/agent?agent=${encodeURIComponent(a.agent)}">→</a></td></tr>`).join("") || `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>
      <h2>${t("queues")}</h2><table><tr><th>${t("queue")}</th><th>${t("waiting")}</th><th>${t("longest")}</th></tr>
      ${Object.keys(s.in_queue).sort().map((q) => `<tr><td>${esc(q)}</td><td>${s.in_queue[q]}</td><td>${s.longest_wait_s[q] || 0}</td></tr>`).join("") || `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>`;
  });
}

const RANGES = ["today", "yesterday", "this-week", "last-week", "this-month", "last-month", "last-7-days", "last-30-days"];

// reports lists the library in the UI's language. Each link downloads its report in that
// language for the dates picked (the browser's local days) or a relative period (the
// days of report.timezone, as the server reads it); a CSV is one section. A refusal (an
// unknown line, say) shows on the page.
async function reports() {
  const list = await api("/api/reports?lang=" + lang);
  $("#main").innerHTML = `<h1>${t("reports")}</h1><form class="filters" id="rf">
    <label>${t("from")}<input type="date" name="from" value="${today()}"></label>
    <label>${t("to")}<input type="date" name="to" value="${today()}"></label>
    <label title="${t("range_note")}">${t("period")}<select name="range"><option value="">${t("dates")}</option>${RANGES.map((r) => `<option value="${r}">${t("range_" + r)}</option>`).join("")}</select></label>
    <label>${t("line")}<input name="line"></label><label>${t("queue")}<input name="queue"></label></form>
    <p id="report-error" class="error" role="alert" hidden></p>
    <table id="reports"><tr><th>${t("report")}</th><th></th><th>${t("download")}</th></tr>${list.map((r) => `<tr><td>${esc(r.Title)}</td><td class="muted">${esc(r.Description)}</td><td>${r.Formats.map((f) => f !== "csv" || r.Sections.length < 2
      ? link(r.Name, f, "", f.toUpperCase())
      : `<span class="sections">CSV: ${r.Sections.map((s) => link(r.Name, f, s.Name, s.Title)).join(" · ")}</span>`).join("")}</td></tr>`).join("")}</table>`;
  const form = $("#rf");
  const update = () => {
    const p = new URLSearchParams(new FormData(form));
    for (const k of ["line", "queue", "range"]) if (!p.get(k)) p.delete(k);
    if (p.get("range")) { p.delete("from"); p.delete("to"); }
    form.from.disabled = form.to.disabled = !!p.get("range");
    p.set("lang", lang);
    document.querySelectorAll("a.dl").forEach((a) => {
      const q = new URLSearchParams(p);
      q.set("format", a.dataset.format);
      if (a.dataset.section) q.set("section", a.dataset.section);
      a.href = `/api/reports/${encodeURIComponent(a.dataset.report)}?${q}`;
    });
  };
  form.oninput = update;
  update();
  document.querySelectorAll("a.dl").forEach((a) => a.onclick = async (e) => {
    e.preventDefault();
    const err = $("#report-error");
    err.hidden = true;
    const r = await fetch(a.href);
    if (!r.ok) {
      err.textContent = await r.text();
      err.hidden = false;
      return;
    }
    const name = (r.headers.get("Content-Disposition") || "").match(/filename="?([^";]+)"?/);
    const save = document.createElement("a");
    save.href = URL.createObjectURL(await r.blob());
    save.download = name ? name[1] : "report";
    save.click();
    URL.revokeObjectURL(save.href);
  });
}

function link(report, format, section, label) {
  return `<a class="dl" data-report="${esc(report)}" data-format="${format}" data-section="${esc(section)}" href="#">${esc(label)}</a>`;
}

function route() {
  if (stream) { stream.close(); stream = null; }
  nav();
  const [page, rest] = location.hash.slice(2).split("/");
  const name = (page || (me.role === "agent" ? "agent" : "dashboard")).split("?")[0];
  if (me.role === "agent") return agentDesk();
  ({ dashboard, interactions, agent: agentDesk, agents: agentsView, reports, interaction: () => interaction(rest) }[name] || dashboard)();
}

$("#lang").onclick = () => { lang = lang === "ja" ? "en" : "ja"; localStorage.setItem("idv.lang", lang); document.documentElement.lang = lang; route(); };
window.onhashchange = route;
(async () => {
  document.documentElement.lang = lang;
  me = await api("/api/me");
  ui = await api("/api/ui");
  route();
})();
