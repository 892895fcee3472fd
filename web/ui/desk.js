// The agent's desk: the screen pop of the call that reaches the agent, and the wrap-up.
"use strict";

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

