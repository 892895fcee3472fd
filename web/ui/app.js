// idv's pages: dashboard, interactions, agent desktop, agents and queues, reports.
// Plain JavaScript, no dependencies, served from the binary. This file is the frame:
// the texts (each page's file may add its own with Object.assign(T.en, …) and
// Object.assign(T.ja, …)), the helpers, the navigation and the router; each page lives in
// its own file (wallboard.js, interactions.js, desk.js, reports.js).
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

function badge(status, small) {
  return `<span class="badge ${esc(status)}${small ? " small" : ""}" data-status="${esc(status)}"><span aria-hidden="true">${SYMBOL[status] || ""}</span>${esc(t(status))}</span>`;
}

function clickRows() {
  document.querySelectorAll("tr.click").forEach((tr) => tr.onclick = () => location.hash = "#/interaction/" + tr.dataset.id);
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
// Start once every page's script has run (they load after this one).
window.addEventListener("DOMContentLoaded", async () => {
  document.documentElement.lang = lang;
  me = await api("/api/me");
  ui = await api("/api/ui");
  route();
});
