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
    line: "Line", status: "Status", customer: "Customer", name: "Name", method: "Method", attempts: "Tries (identify/verify)", state: "State",
    step: "Step", started: "Started", route: "Route", wrapup: "Wrap-up", from: "From", to: "To", show: "Show", download: "Download",
    no_call: "No call right now.", waiting_for_call: "Waiting for a call…", open_crm: "Open in CRM", save: "Save",
    saved: "Wrap-up saved.", timeline: "Timeline", report: "Report", none: "none", duration: "Duration",
    VERIFIED: "Identified and verified", IDENTIFIED: "Identified, not verified", UNIDENTIFIED: "Not identified",
    "on a call": "on a call", "wrap-up": "wrap-up", idle: "idle", queue: "Queue", ivr_state: "IVR", agent_name: "Agent",
    period: "Period", dates: "Dates above", range_today: "Today", range_yesterday: "Yesterday", "range_this-week": "This week",
    "range_last-week": "Last week", "range_this-month": "This month", "range_last-month": "Last month",
    "range_last-7-days": "Last 7 days", "range_last-30-days": "Last 30 days", range_note: "Periods are days of the report time zone",
    role_supervisor: "supervisor", role_agent: "agent",
    method_ANI: "Calling number (ANI)", method_DTMF: "Keypad (DTMF)", method_NONE: "None",
    reason_OK: "Verified", reason_NOT_REQUIRED: "Verification not required on this line", reason_OPTED_OUT: "Caller opted out",
    reason_NOT_FOUND: "Not found in the CRM", reason_NO_INPUT: "Caller typed nothing", reason_VERIFY_FAILED: "Verification failed",
    reason_LOCKED: "Locked: too many failed attempts", reason_BACKEND_UNAVAILABLE: "CRM unavailable", reason_HANGUP: "Caller hung up",
    idtype_ani: "Calling number", idtype_customer_id: "Customer number", idtype_account: "Account number", idtype_phone: "Registered phone",
    factor_pin: "PIN", factor_dob: "Date of birth", factor_postcode: "Postcode", factor_card: "Card digits", factor_otp: "One-time code",
    risk_withheld: "number withheld", risk_typed: "identifier typed", risk_unattested: "number not attested",
    ev_start: "Call started", ev_ani: "Calling number", ev_prompt: "Prompt", ev_digits: "Keys", ev_crm: "CRM", ev_outcome: "Outcome",
    ev_route: "Routed", ev_queue: "Queue", ev_hangup: "Hang-up", ev_error: "Error", ev_language: "Language", ev_guard: "Security limit",
    ev_agent: "Agent", ev_otp: "One-time code",
    op_by_phone: "Lookup by number", op_by_id: "Lookup by identifier", op_verify: "Verification",
    op_by_kind: "Lookup by {k}", op_verify_factor: "Verification: {f}", op_otp_send: "One-time code sent",
    op_identifier: "Identifier", op_secret: "Secret (digits not kept)", op_menu: "Menu",
    res_max_length: "maximum length", res_no_input: "no input", res_too_short: "too short", res_opt_out: "opted out",
    res_bad_date: "not a date", res_bad_choice: "not a choice", res_resend: "resend", res_several: "several matches",
    res_rejected: "rejected", res_locked: "locked", res_expired: "expired", res_max_checks: "too many checks", res_no_mobile: "no mobile",
    res_budget_exhausted: "CRM time budget spent", res_error: "error", res_invalid: "invalid", res_not_attested: "not attested",
    res_attestation_unverified: "attestation unverified", res_no_prompts: "no prompts", res_rate_limited: "rate limited", res_lockout: "lockout",
    res_played: "played", res_interrupted: "interrupted", res_found: "found", res_not_found: "not found", res_verified: "verified",
    res_failed: "failed", res_terminator: "ended with #", res_timeout: "timed out", res_withheld: "withheld", res_entered: "entered",
    res_answered: "answered", res_abandoned: "abandoned", res_ambiguous: "several matches", res_sent: "sent", res_missing: "missing",
    err_title: "Something went wrong", err_401: "You are not signed in, or your sign-in was refused. Reload the page to sign in again.",
    err_400: "idv refused the request:", err_403: "Your role may not see this page.", err_404: "Not found.", err_500: "idv could not answer. Try again; if it persists, idv's log says why.",
    err_net: "idv cannot be reached. Check the connection and reload the page.", retry: "Reload",
    in_progress: "In progress", number: "Calling number", withheld: "withheld", reason: "Reason",
  },
  ja: {
    dashboard: "ダッシュボード", interactions: "通話履歴", agent: "着信", agents: "エージェントとキュー", reports: "レポート",
    last15: "直近15分", today: "本日", calls: "通話", verified: "本人確認済み", identified: "特定のみ",
    unidentified: "未特定", opted_out: "スキップ", errors: "エラー", ani_hit_rate: "発信者番号ヒット率", crm_errors: "CRMエラー", locked_out: "ロック・制限",
    ivr: "IVR内", welcome: "挨拶", identify: "特定中", verify: "本人確認中", routing: "転送中",
    queues: "キュー", waiting: "待ち", longest: "最長待ち時間(秒)", with_agents: "通話中", live_calls: "現在の通話",
    line: "回線", status: "確認結果", customer: "顧客ID", name: "氏名", method: "特定方法", attempts: "試行（特定/確認）", state: "状況",
    step: "段階", started: "開始", route: "転送先", wrapup: "後処理", from: "開始日", to: "終了日", show: "表示", download: "ダウンロード",
    no_call: "現在通話はありません。", waiting_for_call: "着信を待っています…", open_crm: "CRMで開く", save: "保存",
    saved: "後処理コードを保存しました。", timeline: "経過", report: "レポート", none: "なし", duration: "通話時間",
    VERIFIED: "特定済み・本人確認済み", IDENTIFIED: "特定済み・本人確認未完了", UNIDENTIFIED: "未特定",
    "on a call": "通話中", "wrap-up": "後処理中", idle: "待機中", queue: "キュー", ivr_state: "IVR", agent_name: "エージェント",
    period: "期間", dates: "上の日付", range_today: "本日", range_yesterday: "昨日", "range_this-week": "今週",
    "range_last-week": "先週", "range_this-month": "今月", "range_last-month": "先月",
    "range_last-7-days": "過去7日間", "range_last-30-days": "過去30日間", range_note: "期間はレポートのタイムゾーンの日付です",
    role_supervisor: "スーパーバイザー", role_agent: "エージェント",
    method_ANI: "発信者番号", method_DTMF: "ダイヤル入力", method_NONE: "なし",
    reason_OK: "本人確認済み", reason_NOT_REQUIRED: "この回線では本人確認不要", reason_OPTED_OUT: "発信者がスキップ",
    reason_NOT_FOUND: "CRMに該当なし", reason_NO_INPUT: "入力なし", reason_VERIFY_FAILED: "本人確認失敗",
    reason_LOCKED: "ロック中（失敗が多すぎます）", reason_BACKEND_UNAVAILABLE: "CRMに接続できません", reason_HANGUP: "発信者が切断",
    idtype_ani: "発信者番号", idtype_customer_id: "顧客番号", idtype_account: "口座番号", idtype_phone: "登録電話番号",
    factor_pin: "暗証番号", factor_dob: "生年月日", factor_postcode: "郵便番号", factor_card: "カード番号", factor_otp: "ワンタイムコード",
    risk_withheld: "番号非通知", risk_typed: "番号入力で特定", risk_unattested: "番号の認証なし",
    ev_start: "通話開始", ev_ani: "発信者番号", ev_prompt: "音声案内", ev_digits: "ダイヤル入力", ev_crm: "CRM", ev_outcome: "結果",
    ev_route: "転送", ev_queue: "キュー", ev_hangup: "切断", ev_error: "エラー", ev_language: "言語", ev_guard: "セキュリティ制限",
    ev_agent: "エージェント", ev_otp: "ワンタイムコード",
    op_by_phone: "番号で検索", op_by_id: "番号入力で検索", op_verify: "本人確認",
    op_by_kind: "{k}で検索", op_verify_factor: "本人確認（{f}）", op_otp_send: "ワンタイムコード送信",
    op_identifier: "番号入力", op_secret: "暗証入力（数字は保存しません）", op_menu: "メニュー",
    res_max_length: "最大桁数", res_no_input: "入力なし", res_too_short: "桁数不足", res_opt_out: "スキップ",
    res_bad_date: "日付ではない", res_bad_choice: "選択肢にない", res_resend: "再送", res_several: "複数該当",
    res_rejected: "不一致", res_locked: "ロック中", res_expired: "期限切れ", res_max_checks: "確認回数超過", res_no_mobile: "携帯番号なし",
    res_budget_exhausted: "CRM時間切れ", res_error: "エラー", res_invalid: "無効", res_not_attested: "認証なし",
    res_attestation_unverified: "認証未確認", res_no_prompts: "音声なし", res_rate_limited: "制限中", res_lockout: "ロックアウト",
    res_played: "再生", res_interrupted: "中断", res_found: "該当あり", res_not_found: "該当なし", res_verified: "確認済み",
    res_failed: "失敗", res_terminator: "#で終了", res_timeout: "タイムアウト", res_withheld: "非通知", res_entered: "キューに入る",
    res_answered: "応答", res_abandoned: "放棄", res_ambiguous: "複数該当", res_sent: "送信", res_missing: "ファイルなし",
    err_title: "エラーが発生しました", err_401: "サインインしていないか、サインインが拒否されました。ページを再読み込みしてサインインしてください。",
    err_400: "idvが要求を受け付けませんでした:", err_403: "この画面を表示する権限がありません。", err_404: "見つかりません。", err_500: "idvが応答できませんでした。もう一度お試しください。続く場合はidvのログを確認してください。",
    err_net: "idvに接続できません。接続を確認してページを再読み込みしてください。", retry: "再読み込み",
    in_progress: "通話中", number: "発信者番号", withheld: "非通知", reason: "理由",
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

let me = null, ui = { wrapup_codes: [], wrapup_labels: {}, crm_link: "", agents: [], lines: [], queues: [], max_note_len: 1000 }, stream = null;
// cleanups run when the page changes (a page's timers).
let cleanups = [];

// label is the text of a code in a family (method_, reason_, …), or the code itself.
const label = (family, code) => code ? ((T[lang][family + code] || T.en[family + code]) || code) : "";
// wrapLabel is a wrap-up code's label in the page's language (web.wrapup_labels).
const wrapLabel = (code) => code ? (((ui.wrapup_labels || {})[lang] || {})[code] || ((ui.wrapup_labels || {}).en || {})[code] || code) : "";
// opLabel is a step's operation in words: a CRM lookup by an identifier kind (by_account)
// or the check of a factor (verify_dob) named by the kind's or factor's own label.
const opLabel = (name) => {
  if (T[lang]["op_" + name] || T.en["op_" + name] || !name) return label("op_", name);
  if (name.startsWith("by_")) return t("op_by_kind").replace("{k}", label("idtype_", name.slice(3)));
  if (name.startsWith("verify_")) return t("op_verify_factor").replace("{f}", label("factor_", name.slice(7)));
  return name;
};
// aniText is a calling number as the pages show it: the words for a withheld one, which
// Asterisk and carriers send as "anonymous", "private", … (flow.ANIWithheld's list).
const WITHHELD = ["", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable", "blocked"];
const aniText = (ani) => WITHHELD.includes(String(ani || "").trim().toLowerCase()) ? t("withheld") : ani;
// secs formats milliseconds as m:ss.
const secs = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; };

// ApiError is an answer of the API other than 2xx: its status and idv's reason.
class ApiError extends Error {
  constructor(status, text) { super(text); this.status = status; }
}

// Stale is thrown by api when the page that asked was left (another page, or the other
// language, was drawn meanwhile): the answer is dropped, so that a slow answer for the
// page before never draws over the page now shown.
class Stale extends Error {}

// routeGen counts the pages drawn; api compares it before and after each request.
let routeGen = 0;

// stale counts the answers dropped so (window.idvStaleAnswers, for tests and debugging).
function stale() {
  window.idvStaleAnswers = (window.idvStaleAnswers || 0) + 1;
  return new Stale();
}

async function api(path, opts) {
  const gen = routeGen;
  let r;
  try {
    r = await fetch(path, opts);
  } catch (e) {
    if (gen !== routeGen) throw stale();
    throw new ApiError(0, String(e.message || e));
  }
  if (gen !== routeGen) throw stale();
  if (!r.ok) throw new ApiError(r.status, (await r.text()).trim());
  const body = await r.json();
  if (gen !== routeGen) throw stale();
  return body;
}

// showError puts an error on the page as a message, in the page's language, with idv's
// own reason under it: never a blank page.
function showError(err) {
  if (err instanceof Stale) return;
  const status = err && err.status;
  const msg = status === 0 ? t("err_net") : status === 400 ? t("err_400") : status === 401 ? t("err_401") : status === 403 ? t("err_403") : status === 404 ? t("err_404") : t("err_500");
  const detail = err && err.message ? `<p class="muted" id="error-detail">${esc(err.message)}</p>` : "";
  $("#main").innerHTML = `<div class="error" id="error" role="alert" data-status="${esc(status ?? "")}"><h2>${t("err_title")}</h2><p>${esc(msg)}</p>${detail}
    <button class="primary" type="button" id="error-retry">${t("retry")}</button></div>`;
  $("#error-retry").onclick = () => location.reload();
}
window.addEventListener("unhandledrejection", (e) => { if (e.reason instanceof Stale) e.preventDefault(); showError(e.reason); });

function nav() {
  const pages = me.role === "agent" ? ["agent"] : ["dashboard", "interactions", "agent", "agents", "reports"];
  const cur = (location.hash.slice(2).split("/")[0]) || pages[0];
  $("#nav").innerHTML = pages.map((p) => `<a href="#/${p}" class="${p === cur ? "active" : ""}">${t(p)}</a>`).join("");
  $("#who").textContent = `${me.name} (${t("role_" + me.role)}${me.agent ? " · " + me.agent : ""})`;
  $("#lang").textContent = lang === "ja" ? "English" : "日本語";
}

// listen renders each push of a live stream. A stream the server refused (the browser
// does not retry those) shows why, as a message.
function listen(path, render) {
  if (stream) stream.close();
  const s = stream = new EventSource(path);
  s.onmessage = (e) => {
    try {
      render(JSON.parse(e.data));
    } catch (err) {
      showError(err);
    }
  };
  s.onerror = () => {
    if (s.readyState !== EventSource.CLOSED || s !== stream) return;
    fetch(path).then(async (r) => { const text = r.ok ? (r.body.cancel(), "") : (await r.text()).trim(); showError(new ApiError(r.ok ? 500 : r.status, text)); },
      (e) => showError(new ApiError(0, String(e.message || e))));
  };
}

function badge(status, small) {
  return `<span class="badge ${esc(status)}${small ? " small" : ""}" data-status="${esc(status)}"><span aria-hidden="true">${SYMBOL[status] || ""}</span>${esc(t(status))}</span>`;
}

function clickRows() {
  document.querySelectorAll("tr.click").forEach((tr) => tr.onclick = () => location.hash = "#/interaction/" + tr.dataset.id);
}

function route() {
  routeGen++;
  if (stream) { stream.close(); stream = null; }
  cleanups.forEach((f) => f());
  cleanups = [];
  nav();
  const [page, rest] = location.hash.slice(2).split("/");
  const name = (page || (me.role === "agent" ? "agent" : "dashboard")).split("?")[0];
  // An agent has the desk, and the detail of their own calls (the API refuses others).
  const pages = me.role === "agent" ? { agent: agentDesk, interaction: () => interaction(rest) }
    : { dashboard, interactions, agent: agentDesk, agents: agentsView, reports, interaction: () => interaction(rest) };
  const run = pages[name] || (me.role === "agent" ? agentDesk : dashboard);
  try {
    Promise.resolve(run()).catch(showError);
  } catch (e) {
    showError(e);
  }
}

$("#lang").onclick = () => { lang = lang === "ja" ? "en" : "ja"; localStorage.setItem("idv.lang", lang); document.documentElement.lang = lang; route(); };
window.onhashchange = route;
// Start once every page's script has run (they load after this one).
window.addEventListener("DOMContentLoaded", async () => {
  document.documentElement.lang = lang;
  $("#lang").textContent = lang === "ja" ? "English" : "日本語";
  try {
    me = await api("/api/me");
    ui = Object.assign(ui, await api("/api/ui"));
  } catch (e) {
    return showError(e);
  }
  route();
});
