// The interactions list and one interaction's detail.
"use strict";

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

