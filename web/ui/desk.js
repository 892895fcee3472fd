// The agent's desk: the screen pop of the call that reaches the agent (live), the call
// awaiting a wrap-up (from the store: it survives reloads and restarts), the wrap-up code
// and note, today's calls, and an opt-in notification with a sound on a new pop.
"use strict";

Object.assign(T.en, {
  desk_of: "Agent's desk", choose_agent: "Choose an agent", open_desk: "Open", history: "My calls today", history_of: "Calls today",
  wait: "Wait", call_time: "Call time", identified_by: "Identified by", factors: "Verification", why_factors: "Asked more because",
  note: "Note", note_help: "Free text for this call, at most {n} characters. Shown in the call's detail, never in reports.",
  pending: "awaiting wrap-up", notify: "Notify me of new calls", notify_on: "Notifications on", new_call: "New call",
  warn_VERIFY_FAILED: "{n} wrong {f} entries — verify the caller manually",
  warn_not_verified: "Not verified — verify the caller manually", choose_code: "Choose a code…", warn_LOCKED: "Locked after repeated failures — verify the caller manually",
  warn_BACKEND_UNAVAILABLE: "The CRM could not be reached — identify and verify the caller manually",
  passed: "passed", not_passed: "not passed", ended: "ended", no_calls_today: "No calls yet today.",
});
Object.assign(T.ja, {
  desk_of: "エージェントの画面", choose_agent: "エージェントを選択", open_desk: "開く", history: "本日の通話", history_of: "本日の通話",
  wait: "待ち時間", call_time: "通話時間", identified_by: "特定手段", factors: "本人確認", why_factors: "追加確認の理由",
  note: "メモ", note_help: "この通話についての自由記述（{n}文字まで）。通話の詳細に表示され、レポートには含まれません。",
  pending: "後処理待ち", notify: "着信を通知する", notify_on: "通知オン", new_call: "新しい着信",
  warn_VERIFY_FAILED: "{f}の誤り{n}回 — 手動で本人確認してください",
  warn_not_verified: "本人確認できませんでした — 手動で本人確認してください", choose_code: "コードを選択…", warn_LOCKED: "失敗が続いたためロック中 — 手動で本人確認してください",
  warn_BACKEND_UNAVAILABLE: "CRMに接続できませんでした — 手動で特定・本人確認してください",
  passed: "確認済み", not_passed: "未確認", ended: "終了", no_calls_today: "本日の通話はまだありません。",
});

// WARN are the reasons the pop shows as a warning: the agent must verify by hand.
const WARN = ["VERIFY_FAILED", "LOCKED", "BACKEND_UNAVAILABLE"];

function deskAgent() {
  if (me.role === "agent") return me.agent;
  return new URLSearchParams(location.hash.split("?")[1] || "").get("agent") || "";
}

// agentChooser lets a supervisor pick whose desk to look at.
function agentChooser(cur) {
  if (me.role === "agent") return "";
  const agents = [...new Set([...(ui.agents || []), ...(cur ? [cur] : [])])];
  return `<form class="filters" id="choose"><label>${t("choose_agent")}<select name="agent">${cur ? "" : "<option></option>"}${agents.map((a) =>
    `<option ${a === cur ? "selected" : ""}>${esc(a)}</option>`).join("")}</select></label> <button class="primary">${t("open_desk")}</button></form>`;
}

function agentDesk() {
  const agent = deskAgent();
  const title = me.role === "agent" ? t("agent") : t("desk_of");
  if (!agent) {
    $("#main").innerHTML = `<h1>${title}</h1>${agentChooser("")}`;
    $("#choose").onsubmit = (e) => { e.preventDefault(); location.hash = "#/agent?agent=" + encodeURIComponent(e.target.agent.value); };
    return;
  }
  $("#main").innerHTML = `<h1>${title} · <span id="desk-agent">${esc(agent)}</span></h1>${agentChooser(agent)}
    <p><button type="button" id="notify" class="toggle"></button></p>
    <div id="desk-pop"></div><h2>${t(me.role === "agent" ? "history" : "history_of")}</h2><div id="history"></div>`;
  if ($("#choose")) $("#choose").onsubmit = (e) => { e.preventDefault(); location.hash = "#/agent?agent=" + encodeURIComponent(e.target.agent.value); };
  const notifyButton = () => {
    const on = localStorage.getItem("idv.notify") === "1";
    $("#notify").textContent = on ? "● " + t("notify_on") : "○ " + t("notify");
    $("#notify").setAttribute("aria-pressed", String(on));
  };
  notifyButton();
  $("#notify").onclick = async () => {
    const on = localStorage.getItem("idv.notify") === "1";
    if (!on && "Notification" in window && Notification.permission !== "granted") await Notification.requestPermission();
    localStorage.setItem("idv.notify", on ? "0" : "1");
    notifyButton();
  };

  let live = null, desk = null, key = null, shown = "", seen = null, loading = false;
  const timer = setInterval(() => tick(), 1000);
  cleanups.push(() => clearInterval(timer));
  const tick = () => {
    const el = $("#pop-timer");
    if (el && el.dataset.since) el.textContent = secs(Date.now() - new Date(el.dataset.since));
  };
  const loadDesk = async () => {
    if (loading) return;
    loading = true;
    try {
      desk = await api("/api/desk" + (me.role === "agent" ? "" : "?agent=" + encodeURIComponent(agent)));
    } finally {
      loading = false;
    }
    draw();
  };
  const draw = () => {
    if (!$("#desk-pop")) return;
    const call = live && live.call;
    const wrapState = live && live.agent && live.agent.state === "wrap-up";
    // The live call, else the call awaiting a wrap-up (the store's).
    const c = call || (desk && desk.pending);
    const wrap = c && (call ? wrapState : true);
    const html = c ? pop(c, !!call, wrap) : `<p class="idle" id="idle">${t("waiting_for_call")}</p>`;
    // A push that changes nothing on this screen must not redraw it: the agent may be
    // typing a note, and a redraw would lose it.
    if (html !== shown) {
      const picked = $("#wrap select") && $("#wrap select").value, note = $("#wrap textarea") && $("#wrap textarea").value;
      $("#desk-pop").innerHTML = shown = html;
      if ($("#wrap")) {
        if (picked) $("#wrap select").value = picked;
        if (note) $("#wrap textarea").value = note;
        wireWrap(c.id);
      }
      tick();
    }
    $("#history").innerHTML = history(desk);
    clickRows();
    if (call && call.id !== seen) {
      if (seen !== null) announce(call); // not for the call already up when the page opened
      seen = call.id;
    } else if (seen === null) {
      seen = call ? call.id : "";
    }
  };
  const wireWrap = (id) => {
    const f = $("#wrap"), ta = f.querySelector("textarea"), count = f.querySelector("#note-count");
    const upd = () => { count.textContent = `${[...ta.value].length} / ${ui.max_note_len}`; };
    ta.oninput = upd;
    upd();
    f.onsubmit = async (e) => {
      e.preventDefault();
      const fd = new FormData(f);
      try {
        await api(`/api/interactions/${encodeURIComponent(id)}/wrapup`, { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ code: fd.get("code"), note: fd.get("note") || "" }) });
      } catch (err) {
        if (err instanceof Stale) return; // the agent has left the page; the save went through
        $("#wrap-msg").textContent = err.message;
        $("#wrap-msg").className = "error";
        return;
      }
      shown = "";
      desk = null;
      await loadDesk();
    };
  };
  listen("/api/live?agent=" + encodeURIComponent(agent), (v) => {
    live = v;
    const k = [v.agent && v.agent.state, v.agent && v.agent.interaction, v.call && v.call.id].join("|");
    if (k !== key) {
      key = k;
      loadDesk().catch(showError);
    }
    draw();
  });
}

// announce tells the agent of a new pop, when they asked for it: a sound and a
// notification of the browser.
function announce(c) {
  if (localStorage.getItem("idv.notify") !== "1") return;
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    const o = ac.createOscillator(), g = ac.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.15;
    o.connect(g).connect(ac.destination);
    o.start();
    o.stop(ac.currentTime + 0.25);
  } catch (e) { /* no sound device */ }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(`idv · ${t("new_call")}`, { body: `${t(c.status)} · ${c.customer_name || "—"}`, tag: "idv-pop" });
  }
}

// factorList shows each factor asked with whether it passed.
function factorList(c) {
  const asked = c.factors_asked || [], passed = c.factors_passed || [];
  if (!asked.length) return "—";
  return asked.map((f) => passed.includes(f)
    ? `<span class="factor ok" data-factor="${esc(f)}">✔ ${esc(label("factor_", f))}</span>`
    : `<span class="factor no" data-factor="${esc(f)}">✖ ${esc(label("factor_", f))}</span>`).join(" ");
}

// warning is the pop's warning for a reason that asks the agent to verify by hand.
function warning(c) {
  if (!WARN.includes(c.reason)) return "";
  const asked = c.factors_asked || [], passed = c.factors_passed || [];
  const failed = asked.find((f) => !passed.includes(f));
  // A factor that could not be asked (a one-time code for a customer with no mobile)
  // leaves no wrong entries to count.
  const key = c.reason === "VERIFY_FAILED" && !failed ? "warn_not_verified" : "warn_" + c.reason;
  const text = t(key).replace("{n}", c.verify_attempts || (c.attempts || "").split("/")[1] || "").replace("{f}", label("factor_", failed));
  return `<p class="warn" id="pop-warning" role="alert"><span aria-hidden="true">⚠</span> ${esc(text)}</p>`;
}

function pop(c, isLive, wrap) {
  const link = ui.crm_link && c.customer_id ? ui.crm_link.replace("{id}", encodeURIComponent(c.customer_id)) : "";
  const since = isLive ? (c.answered_at || c.started) : "";
  const waitMs = c.wait_ms ?? (c.queued_at && c.answered_at ? new Date(c.answered_at) - new Date(c.queued_at) : null);
  const wait = waitMs != null ? secs(waitMs) : "—";
  const ended = !isLive && c.talk_ms != null ? secs(c.talk_ms) : t("ended");
  const risk = (c.risk || []).map((r) => label("risk_", r)).join(", ");
  return `<div class="pop${WARN.includes(c.reason) ? " alert" : ""}" id="pop" data-id="${esc(c.id)}" data-reason="${esc(c.reason)}">${badge(c.status)}
    ${warning(c)}
    <dl><dt>${t("name")}</dt><dd class="name" id="pop-name">${esc(c.customer_name) || "—"}</dd>
    <dt>${t("customer")}</dt><dd id="pop-id">${esc(c.customer_id) || "—"}</dd>
    <dt>${t("reason")}</dt><dd id="pop-reason">${esc(label("reason_", c.reason)) || "—"}</dd>
    <dt>${t("number")}</dt><dd id="pop-ani">${esc(aniText(c.ani))}</dd>
    <dt>${t("line")}</dt><dd id="pop-line">${esc(c.line)}</dd>
    <dt>${t("method")}</dt><dd id="pop-method">${esc(label("method_", c.method))}</dd>
    <dt>${t("identified_by")}</dt><dd id="pop-idtype">${esc(label("idtype_", c.id_type)) || "—"}</dd>
    <dt>${t("factors")}</dt><dd id="pop-factors">${factorList(c)}</dd>
    ${risk ? `<dt>${t("why_factors")}</dt><dd id="pop-risk">${esc(risk)}</dd>` : ""}
    <dt>${t("attempts")}</dt><dd>${esc(c.attempts)}</dd>
    <dt>${t("wait")}</dt><dd id="pop-wait">${wait}</dd>
    <dt>${t("call_time")}</dt><dd id="pop-timer" ${since ? `data-since="${esc(since)}"` : ""}>${since ? "" : ended}</dd></dl>
    ${link ? `<a href="${esc(link)}" target="_blank" rel="noopener">${t("open_crm")}</a>` : ""}
    ${wrap ? `<form id="wrap"><h2>${t("wrapup")}</h2><select name="code" required><option value="">${t("choose_code")}</option>${ui.wrapup_codes.map((w) => `<option value="${esc(w)}">${esc(wrapLabel(w))}</option>`).join("")}</select>
      <label class="note">${t("note")}<textarea name="note" rows="3" maxlength="${ui.max_note_len}"></textarea></label>
      <span class="muted" id="note-count"></span><p class="muted">${esc(t("note_help").replace("{n}", ui.max_note_len))}</p>
      <button class="primary">${t("save")}</button> <span id="wrap-msg"></span></form>` : ""}</div>`;
}

function history(desk) {
  if (!desk) return "";
  if (!desk.history.length) return `<p class="muted" id="history-empty">${t("no_calls_today")}</p>`;
  return `<table id="history-table"><tr><th>${t("started")}</th><th>${t("status")}</th><th>${t("reason")}</th><th>${t("name")}</th><th>${t("customer")}</th><th>${t("number")}</th><th>${t("duration")}</th><th>${t("wrapup")}</th></tr>
    ${desk.history.map((r) => `<tr class="click" data-id="${esc(r.id)}"><td>${fmtTime(r.started)}</td><td>${badge(r.status, true)}</td><td>${esc(label("reason_", r.reason))}</td>
      <td>${esc(r.customer_name) || "—"}</td><td>${esc(r.customer_id) || "—"}</td><td>${esc(aniText(r.ani))}</td><td>${r.in_progress ? t("in_progress") : secs(r.duration_ms)}</td>
      <td class="wrapup">${r.wrapup ? esc(wrapLabel(r.wrapup)) : r.in_progress ? "" : `<span class="pending">${t("pending")}</span>`}</td></tr>`).join("")}</table>`;
}
