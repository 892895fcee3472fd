// The supervisor's wallboard (dashboard) and the agents and queues view.
"use strict";

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

function agentsView() {
  listen("/api/live", (s) => {
    $("#main").innerHTML = `<h1>${t("agents")}</h1><table><tr><th>${t("agent_name")}</th><th>${t("state")}</th><th></th></tr>
      ${(s.agents || []).map((a) => `<tr><td>${esc(a.agent)}</td><td>${t(a.state)}</td><td><a href="#/agent?agent=${encodeURIComponent(a.agent)}">→</a></td></tr>`).join("") || `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>
      <h2>${t("queues")}</h2><table><tr><th>${t("queue")}</th><th>${t("waiting")}</th><th>${t("longest")}</th></tr>
      ${Object.keys(s.in_queue).sort().map((q) => `<tr><td>${esc(q)}</td><td>${s.in_queue[q]}</td><td>${s.longest_wait_s[q] || 0}</td></tr>`).join("") || `<tr><td colspan="3" class="muted">${t("none")}</td></tr>`}</table>`;
  });
}

