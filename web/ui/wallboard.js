// The supervisor's wallboard (dashboard) and the agents and queues view. The figures
// (outcomes, KPIs, the trend, agents' calls today) come from the records through
// /api/wallboard; what is happening now (calls in the IVR and in queues, agents' states)
// from the live stream /api/live, merged across instances.
"use strict";

Object.assign(T.en, {
  wb_window: "Window", wb_15m: "Last 15 minutes", wb_today: "Today", wb_line: "Line", wb_queue: "Queue",
  wb_all_lines: "All lines", wb_all_queues: "All queues", wb_tv: "Full screen", wb_tv_exit: "Exit full screen",
  kpi_calls: "Calls offered", kpi_verified_rate: "Verified", kpi_identified_rate: "Identified only",
  kpi_unidentified_rate: "Not identified", unident_note: "{n} / {c} · opt-outs and errors apart", kpi_containment: "Self-service (containment)", kpi_service_level: "Service level",
  kpi_asa: "Average speed of answer", kpi_abandon_rate: "Abandon rate", kpi_longest: "Longest current wait",
  kpi_waiting: "Waiting now", sl_note: "answered within {s} s", not_known: "not known", of_calls: "of {n} calls",
  level_warn: "Watch", level_alert: "Alert", agents_by_state: "Agents by state", ringing: "ringing", offline: "offline",
  state_unknown: "state not known", chart_title: "Today by 15 minutes", chart_calls: "Calls", chart_verified: "Verified %",
  chart_sl: "Service level %", chart_abandon: "Abandon %", chart_label: "Calls, verified rate, service level and abandon rate today, by 15 minutes",
  by_line: "By line", by_queue: "By queue", queued: "Queued", answered: "Answered", abandoned: "Abandoned",
  err_401: "Your sign-in was not accepted (401): reload the page and sign in again.",
  err_403: "Your role may not see these figures (403).",
  err_500: "idv could not read the figures ({code}): {text}. The page tries again with the next change.",
  err_live: "The live view is not available ({code}). Reload the page to try again.",
  err_start: "The page could not start: {text}",
  time_in_state: "Time in state", paused: "Paused", calls_today: "Calls today", aht: "Average handle time",
  known_from: "Known from", src_config: "configuration", src_live: "live", src_device: "ARI endpoint", src_records: "records",
  screen: "Screen", agents_note: "Paused is not reported by ARI. Handle time is talk time as ARI records it.",
  now_label: "Now",
});
Object.assign(T.ja, {
  wb_window: "期間", wb_15m: "直近15分", wb_today: "本日", wb_line: "回線", wb_queue: "キュー",
  wb_all_lines: "全回線", wb_all_queues: "全キュー", wb_tv: "全画面表示", wb_tv_exit: "全画面を終了",
  kpi_calls: "着信数", kpi_verified_rate: "本人確認済み", kpi_identified_rate: "特定のみ",
  kpi_unidentified_rate: "未特定", unident_note: "{n} / {c}・スキップとエラーは別", kpi_containment: "自己解決率", kpi_service_level: "サービスレベル",
  kpi_asa: "平均応答時間", kpi_abandon_rate: "放棄率", kpi_longest: "現在の最長待ち時間",
  kpi_waiting: "現在の待ち呼", sl_note: "{s}秒以内に応答", not_known: "不明", of_calls: "{n}件中",
  level_warn: "注意", level_alert: "警告", agents_by_state: "状態別エージェント", ringing: "呼出中", offline: "オフライン",
  state_unknown: "状態不明", chart_title: "本日の推移(15分ごと)", chart_calls: "通話数", chart_verified: "本人確認率",
  chart_sl: "サービスレベル", chart_abandon: "放棄率", chart_label: "本日の通話数・本人確認率・サービスレベル・放棄率(15分ごと)",
  by_line: "回線別", by_queue: "キュー別", queued: "キュー着信", answered: "応答", abandoned: "放棄",
  err_401: "サインインが受け付けられませんでした(401)。ページを再読み込みして、もう一度サインインしてください。",
  err_403: "この権限ではこの数値を表示できません(403)。",
  err_500: "idvが数値を読み込めませんでした({code}):{text}。次の変化で再試行します。",
  err_live: "リアルタイム表示を利用できません({code})。ページを再読み込みしてください。",
  err_start: "ページを開始できませんでした:{text}",
  time_in_state: "状態の継続時間", paused: "一時停止", calls_today: "本日の通話", aht: "平均処理時間",
  known_from: "情報源", src_config: "設定", src_live: "リアルタイム", src_device: "ARIエンドポイント", src_records: "通話記録",
  screen: "画面", agents_note: "一時停止はARIから報告されません。処理時間はARIが記録した通話時間です。",
  now_label: "現在",
});

// tf is t with {name} placeholders filled.
const wbTf = (k, vals) => t(k).replace(/\{(\w+)\}/g, (_, n) => vals[n] ?? "");
const wbPct = (x) => x == null ? "—" : Math.round(x * 100) + "%";
const wbMSS = (s) => s == null ? "—" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
const WB_AGENT_STATES = ["on a call", "ringing", "wrap-up", "idle", "offline"];

// wbFetch is api() keeping the status, so that an error can say what happened.
// Like api(), it throws Stale when another page was drawn meanwhile.
async function wbFetch(path) {
  const gen = routeGen;
  const r = await fetch(path);
  if (gen !== routeGen) throw stale();
  if (!r.ok) {
    const e = new Error((await r.text()).trim());
    e.status = r.status;
    throw e;
  }
  const body = await r.json();
  if (gen !== routeGen) throw stale();
  return body;
}

function wbErrorText(e) {
  if (e.status === 401) return t("err_401");
  if (e.status === 403) return t("err_403");
  return wbTf("err_500", { code: e.status || "—", text: e.message });
}

// wbShowError puts a message in #wb-error (role=alert), or clears it.
function wbShowError(msg) {
  const el = $("#wb-error");
  if (!el) return;
  el.textContent = msg || "";
  el.hidden = !msg;
}

// wbLive listens to /api/live; when the stream is refused (the server answers an error,
// which EventSource does not tell), it asks once more to learn the status and says it.
function wbLive(render) {
  listen("/api/live", render);
  const mine = stream;
  mine.onerror = () => {
    if (mine.readyState !== EventSource.CLOSED) return; // reconnecting by itself
    const ac = new AbortController();
    fetch("/api/live", { signal: ac.signal }).then((r) => { ac.abort(); if (!r.ok) wbShowError(wbTf("err_live", { code: r.status })); })
      .catch(() => wbShowError(wbTf("err_live", { code: "—" })));
  };
}

// wbRefresher calls load now and then on every push, at most every 1.2 s, and once after
// the last push, so that the figures catch up with the calls that just ended.
function wbRefresher(load) {
  let timer = null, last = 0;
  cleanups.push(() => clearTimeout(timer));
  const run = async () => { last = Date.now(); await load(); };
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; run(); }, Math.max(0, 1200 - (Date.now() - last)));
  };
}

let wbSel = JSON.parse(localStorage.getItem("idv.wb") || "{}");
wbSel = { window: wbSel.window === "15m" ? "15m" : "today", line: wbSel.line || "", queue: wbSel.queue || "" };

// level is ok, warn or alert for a value against its thresholds (higher is worse unless low).
function wbLevel(v, warn, alert, lowIsBad) {
  if (v == null) return "ok";
  if (lowIsBad) return v < alert ? "alert" : v < warn ? "warn" : "ok";
  return v > alert ? "alert" : v > warn ? "warn" : "ok";
}

function kpiTile(key, value, sub, lvl) {
  const flag = lvl && lvl !== "ok" ? `<span class="wb-flag">${lvl === "alert" ? "▲" : "●"} ${t("level_" + lvl)}</span>` : "";
  return `<div class="tile wb-kpi wb-${lvl || "ok"}" data-kpi="${key}" data-level="${lvl || "ok"}"><div class="n">${esc(value)}</div>` +
    `<div class="l">${t("kpi_" + key)}</div>${sub ? `<div class="wb-sub">${esc(sub)}</div>` : ""}${flag}</div>`;
}

// wbChart draws today's trend with uPlot (vendored in vendor/, MIT): calls per 15
// minutes as bars (left axis), the verified rate, the service level and the abandon rate
// as lines (right axis, %). It returns the chart's frame; wbPlot fills it once in the page.
function wbChart(trend) {
  const legend = [["wb-bar", "chart_calls"], ["wb-l-verified", "chart_verified"], ["wb-l-sl", "chart_sl"], ["wb-l-abandon", "chart_abandon"]]
    .map(([c, k]) => `<span class="wb-key"><span class="wb-swatch ${c}" aria-hidden="true"></span>${t(k)}</span>`).join("");
  wbPending = trend;
  return `<div id="wb-plot" role="img" aria-label="${esc(t("chart_label"))}"></div><div class="wb-legend">${legend}</div>`;
}

let wbPending = null;

// wbPlot draws the trend wbChart left into #wb-plot (a new uPlot each time: the old one
// went with the page's HTML).
function wbPlot() {
  const el = $("#wb-plot"), trend = wbPending;
  if (!el || !trend || typeof uPlot === "undefined") return;
  wbPending = null;
  const css = getComputedStyle(document.documentElement);
  const color = (v, fallback) => (css.getPropertyValue(v) || fallback).trim();
  const day = new Date(); day.setHours(0, 0, 0, 0);
  const xs = [], calls = [], verified = [], sl = [], abandon = [];
  for (let i = 0; i < 96; i++) {
    const b = trend[i];
    xs.push(day.getTime() / 1000 + i * 900);
    calls.push(b && b.calls ? b.calls : null); // no bar (nor its outline) for an empty quarter
    const pct = (v) => (b && v != null ? Math.round(v * 1000) / 10 : null);
    verified.push(pct(b && b.verified_rate)); sl.push(pct(b && b.service_level)); abandon.push(pct(b && b.abandon_rate));
  }
  const pctLine = (label, stroke, dash) => ({ label: t(label), scale: "%", stroke, width: 2.5, dash, points: { show: true, size: 5 },
    value: (u, v) => (v == null ? "—" : v + "%") });
  const opts = {
    width: Math.max(320, el.clientWidth), height: 260, legend: { show: false },
    scales: { x: { time: true }, calls: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max))] }, "%": { range: [0, 100] } },
    axes: [
      { values: (u, ticks) => ticks.map((s) => wbHM(s * 1000)) },
      { scale: "calls", label: t("chart_calls") },
      { scale: "%", side: 1, grid: { show: false }, values: (u, ticks) => ticks.map((v) => v + "%") },
    ],
    series: [
      {},
      { label: t("chart_calls"), scale: "calls", fill: color("--bar", "#9db3d9"), stroke: color("--bar", "#9db3d9"),
        paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } },
      pctLine("chart_verified", color("--green", "#2e7d32")),
      pctLine("chart_sl", color("--blue", "#2a5298"), [6, 3]),
      pctLine("chart_abandon", color("--red", "#c62828"), [2, 3]),
    ],
  };
  window.wbUPlot = new uPlot(opts, [xs, calls, verified, sl, abandon], el);
}

const wbHM = (s) => { const d = new Date(s); return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; };

function kpiRow(name, k, extra) {
  return `<tr data-name="${esc(name)}"><td>${esc(name)}</td><td>${k.calls}</td><td>${wbPct(k.verified_rate)}</td><td>${wbPct(k.identified_rate)}</td>` +
    `<td>${wbPct(k.unidentified_rate)}</td><td>${wbPct(k.containment)}</td><td>${k.queued}</td><td>${wbPct(k.service_level)}</td><td>${wbMSS(k.asa_s)}</td><td>${wbPct(k.abandon_rate)}</td>${extra || ""}</tr>`;
}

function kpiHead(first, extra) {
  return `<tr><th>${t(first)}</th><th>${t("kpi_calls")}</th><th>${t("kpi_verified_rate")}</th><th>${t("kpi_identified_rate")}</th>` +
    `<th>${t("kpi_unidentified_rate")}</th><th>${t("kpi_containment")}</th><th>${t("queued")}</th><th>${t("kpi_service_level")}</th><th>${t("kpi_asa")}</th><th>${t("kpi_abandon_rate")}</th>${extra || ""}</tr>`;
}

// The outcome tiles (Today, Last 15 minutes), from the records.
function tiles(title, x) {
  const items = [["calls", x.calls], ["verified", x.verified], ["identified", x.identified], ["unidentified", x.unidentified],
    ["opted_out", x.opted_out], ["errors", x.errors], ["ani_hit_rate", Math.round(x.ani_hit_rate * 100) + "%"], ["crm_errors", x.crm_errors], ["locked_out", x.locked_out || 0]];
  return `<h2>${t(title)}</h2><div class="tiles" data-tiles="${title}">` +
    items.map(([k, v]) => `<div class="tile" data-k="${k}"><div class="n">${esc(v)}</div><div class="l">${t(k)}</div></div>`).join("") + "</div>";
}

function wbOptions(sel, values, allKey, cur) {
  const el = $(sel);
  const want = [""].concat(values || []);
  if (cur && !want.includes(cur)) want.push(cur);
  const html = want.map((v) => `<option value="${esc(v)}"${v === cur ? " selected" : ""}>${esc(v || t(allKey))}</option>`).join("");
  if (el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
}

function dashboard() {
  let snap = null, figs = null;
  $("#main").innerHTML = `<h1>${t("dashboard")}</h1>
    <div class="wb-toolbar">
      <span class="wb-seg" role="group" aria-label="${t("wb_window")}">
        <button type="button" data-window="15m">${t("wb_15m")}</button><button type="button" data-window="today">${t("wb_today")}</button></span>
      <label>${t("wb_line")} <select id="wb-line"></select></label>
      <label>${t("wb_queue")} <select id="wb-queue"></select></label>
      <span class="spacer"></span>
      <button type="button" id="wb-tv" class="primary">${t("wb_tv")}</button>
    </div>
    <div id="wb-error" class="error" role="alert" hidden></div>
    <div class="tiles wb-kpis" id="wb-kpis"></div>
    <h2>${t("agents_by_state")}</h2><div class="tiles" id="wb-agents"></div>
    <h2>${t("chart_title")}</h2><figure class="wb-chart" id="wb-chart"></figure>
    <div class="wb-tables"><div><h2>${t("by_queue")}</h2><table id="wb-by-queue"></table></div><div><h2>${t("by_line")}</h2><table id="wb-by-line"></table></div></div>
    <div id="wb-live"></div>`;
  const save = () => { localStorage.setItem("idv.wb", JSON.stringify(wbSel)); };
  const load = async () => {
    const q = new URLSearchParams({ window: wbSel.window, line: wbSel.line, queue: wbSel.queue });
    try {
      figs = await wbFetch("/api/wallboard?" + q);
      wbShowError("");
    } catch (e) {
      if (e instanceof Stale) return;
      wbShowError(wbErrorText(e));
    }
    render();
  };
  const refresh = wbRefresher(load);
  document.querySelectorAll("[data-window]").forEach((b) => b.onclick = () => { wbSel.window = b.dataset.window; save(); render(); load(); });
  $("#wb-line").onchange = (e) => { wbSel.line = e.target.value; save(); load(); };
  $("#wb-queue").onchange = (e) => { wbSel.queue = e.target.value; save(); load(); };
  $("#wb-tv").onclick = () => {
    const on = document.body.classList.toggle("wb-tv");
    $("#wb-tv").textContent = t(on ? "wb_tv_exit" : "wb_tv");
    if (on && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
    if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
  };
  const render = () => {
    if (!$("#wb-kpis")) return; // another page now
    document.querySelectorAll("[data-window]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.window === wbSel.window)));
    const th = figs ? figs.thresholds : {};
    if (figs) {
      wbOptions("#wb-line", figs.lines, "wb_all_lines", wbSel.line);
      wbOptions("#wb-queue", figs.queues, "wb_all_queues", wbSel.queue);
    }
    let waiting = 0, longest = null;
    if (snap) {
      for (const q of Object.keys(snap.in_queue)) {
        if (wbSel.queue && q !== wbSel.queue) continue;
        waiting += snap.in_queue[q];
        longest = Math.max(longest || 0, snap.longest_wait_s[q] || 0);
      }
    }
    if (figs) {
      const k = figs.kpi;
      $("#wb-kpis").innerHTML =
        kpiTile("calls", k.calls, t(wbSel.window === "15m" ? "wb_15m" : "wb_today")) +
        kpiTile("verified_rate", wbPct(k.verified_rate), k.calls ? `${k.verified} / ${k.calls}` : "") +
        kpiTile("identified_rate", wbPct(k.identified_rate), k.calls ? `${k.identified} / ${k.calls}` : "") +
        kpiTile("unidentified_rate", wbPct(k.unidentified_rate), k.calls ? t("unident_note").replace("{n}", k.unidentified).replace("{c}", k.calls) : "") +
        kpiTile("containment", wbPct(k.containment), k.calls ? `${k.self_service} / ${k.calls}` : "") +
        kpiTile("service_level", wbPct(k.service_level), wbTf("sl_note", { s: figs.service_level_seconds }), wbLevel(k.service_level, th.service_level_warn, th.service_level_alert, true)) +
        kpiTile("asa", k.asa_s == null ? "—" : wbMSS(k.asa_s), k.asa_s == null ? t("not_known") : "", wbLevel(k.asa_s, th.asa_warn_seconds, th.asa_alert_seconds)) +
        kpiTile("abandon_rate", wbPct(k.abandon_rate), k.queued ? `${k.abandoned} / ${k.queued}` : "", wbLevel(k.abandon_rate, th.abandon_warn, th.abandon_alert)) +
        kpiTile("longest", snap ? wbMSS(longest || 0) : "—", "", wbLevel(longest, th.longest_wait_warn_seconds, th.longest_wait_alert_seconds)) +
        kpiTile("waiting", snap ? waiting : "—", "");
      $("#wb-chart").innerHTML = wbChart(figs.trend || []);
      wbPlot();
      $("#wb-by-line").innerHTML = kpiHead("line") + (figs.by_line || []).map((r) => kpiRow(r.name, r)).join("");
      $("#wb-by-queue").innerHTML = kpiHead("queue", `<th>${t("waiting")}</th><th>${t("longest")}</th>`) +
        ((figs.by_queue || []).map((r) => kpiRow(r.name, r, `<td>${snap ? snap.in_queue[r.name] || 0 : "—"}</td><td>${snap ? snap.longest_wait_s[r.name] || 0 : "—"}</td>`)).join("") ||
          `<tr><td colspan="12" class="muted">${t("none")}</td></tr>`);
    }
    if (snap) {
      const counts = {};
      (snap.agents || []).forEach((a) => counts[a.state] = (counts[a.state] || 0) + 1);
      $("#wb-agents").innerHTML = WB_AGENT_STATES.map((s) => `<div class="tile wb-state" data-state="${s}"><div class="n">${counts[s] || 0}</div><div class="l">${t(s)}</div></div>`).join("");
      const ivr = snap.ivr_steps || []; // the IVR's phases in order, as flow lists them
      const inIVR = ivr.reduce((a, k) => a + (snap.in_ivr[k] || 0), 0);
      const queues = Object.keys(snap.in_queue).sort();
      $("#wb-live").innerHTML = `<h2>${t("ivr")}</h2><div class="tiles">
        <div class="tile" id="in-ivr"><div class="n">${inIVR}</div><div class="l">${t("ivr")}</div></div>
        ${ivr.map((k) => `<div class="tile" data-step="${k}"><div class="n">${snap.in_ivr[k] || 0}</div><div class="l">${t(k)}</div></div>`).join("")}
        <div class="tile" id="with-agents"><div class="n">${snap.with_agents}</div><div class="l">${t("with_agents")}</div></div>
      </div>
      <h2>${t("queues")}</h2>
      <table><tr><th>${t("queue")}</th><th>${t("waiting")}</th><th>${t("longest")}</th></tr>
      ${queues.length ? queues.map((q) => `<tr><td>${esc(q)}</td><td>${snap.in_queue[q]}</td><td>${snap.longest_wait_s[q] || 0}</td></tr>`).join("") : `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>
      ${figs ? tiles("last15", figs.last_15_minutes) + tiles("today", figs.today) : ""}
      <h2>${t("live_calls")}</h2>
      <table id="live-calls"><tr><th>${t("started")}</th><th>${t("line")}</th><th>${t("state")}</th><th>${t("step")}</th><th>${t("status")}</th><th>${t("customer")}</th><th>${t("name")}</th></tr>
      ${(snap.calls || []).map((c) => `<tr class="click" data-id="${esc(c.id)}"><td>${fmtTime(c.started)}</td><td>${esc(c.line)}</td><td>${esc(c.state === "ivr" ? t("ivr_state") : c.state === "queue" ? t("queue") + " " + c.queue : c.agent)}</td><td>${t(c.step)}</td><td>${badge(c.status, true)}</td><td>${esc(c.customer_id)}</td><td>${esc(c.customer_name)}</td></tr>`).join("")}</table>`;
      clickRows();
    }
  };
  render();
  load();
  wbLive((s) => { snap = s; render(); refresh(); });
}

// since is how long ago an ISO time was, as m:ss or h:mm:ss.
function wbSince(iso) {
  const s = Math.max(0, Math.floor((Date.now() - new Date(iso)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function agentsView() {
  let roster = null, snap = null;
  $("#main").innerHTML = `<h1>${t("agents")}</h1><div id="wb-error" class="error" role="alert" hidden></div>
    <table id="wb-roster"></table><p class="muted wb-note">${t("agents_note")}</p>
    <h2>${t("queues")}</h2><table id="wb-queues"></table>`;
  const load = async () => {
    try {
      roster = await wbFetch("/api/wallboard/agents");
      wbShowError("");
    } catch (e) {
      if (e instanceof Stale) return;
      wbShowError(wbErrorText(e));
    }
    render();
  };
  const refresh = wbRefresher(load);
  const render = () => {
    if (!$("#wb-roster")) return;
    const live = {};
    ((snap && snap.agents) || []).forEach((a) => live[a.agent] = a.state);
    const rows = (roster || []).map((a) => {
      // The live stream is newer than the roster's answer for the state itself.
      const state = live[a.agent] || a.state;
      const names = a.names.length ? esc(a.names.join(", ")) + ` <span class="muted">${esc(a.agent)}</span>` : esc(a.agent);
      const known = a.since && state === a.state;
      return `<tr data-agent="${esc(a.agent)}"><td>${names}</td>
        <td class="wb-st" data-state="${esc(state || "")}">${state ? t(state) : `<span class="muted">${t("state_unknown")}</span>`}</td>
        <td class="wb-since" data-since="${known ? esc(a.since) : ""}">${known ? wbSince(a.since) : `<span class="muted">${t("not_known")}</span>`}</td>
        <td class="wb-paused">${a.paused == null ? `<span class="muted">${t("not_known")}</span>` : esc(a.paused)}</td>
        <td>${esc(a.queues.join(", ")) || `<span class="muted">${t("none")}</span>`}</td>
        <td class="wb-calls">${a.calls_today}</td><td class="wb-aht">${a.aht_s == null ? `<span class="muted">${t("not_known")}</span>` : wbMSS(a.aht_s)}</td>
        <td>${a.sources.map((s) => t("src_" + s)).join(", ")}</td>
        <td><a href="#/agent?agent=${encodeURIComponent(a.agent)}">${t("screen")} →</a></td></tr>`;
    }).join("");
    $("#wb-roster").innerHTML = `<tr><th>${t("agent_name")}</th><th>${t("state")}</th><th>${t("time_in_state")}</th><th>${t("paused")}</th><th>${t("queues")}</th><th>${t("calls_today")}</th><th>${t("aht")}</th><th>${t("known_from")}</th><th></th></tr>` +
      (rows || `<tr><td colspan="9" class="muted">${t("none")}</td></tr>`);
    if (snap) {
      $("#wb-queues").innerHTML = `<tr><th>${t("queue")}</th><th>${t("waiting")}</th><th>${t("longest")}</th></tr>` +
        (Object.keys(snap.in_queue).sort().map((q) => `<tr><td>${esc(q)}</td><td>${snap.in_queue[q]}</td><td>${snap.longest_wait_s[q] || 0}</td></tr>`).join("") || `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`);
    }
  };
  // Time in state ticks every second while the page is open.
  const tick = setInterval(() => {
    const cells = document.querySelectorAll("#wb-roster .wb-since[data-since]");
    if (!$("#wb-roster")) return clearInterval(tick);
    cells.forEach((c) => { if (c.dataset.since) c.textContent = wbSince(c.dataset.since); });
  }, 1000);
  render();
  load();
  wbLive((s) => {
    const changed = !snap || JSON.stringify(snap.agents) !== JSON.stringify(s.agents);
    snap = s;
    render();
    if (changed) refresh();
  });
}

// The frame (app.js) starts by asking who is signed in; when that fails (401, 500) it
// would leave the page blank: say why instead.
window.addEventListener("unhandledrejection", (e) => {
  if (me) return;
  const m = $("#main");
  if (m && !m.textContent.trim()) m.innerHTML = `<p class="error" role="alert" id="start-error">${esc(wbTf("err_start", { text: (e.reason && e.reason.message) || e.reason }))}</p>`;
});
