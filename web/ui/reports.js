// The report library: downloads in the page's language.
"use strict";

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

