/* The analytics page: the figures of GET /console/api/analytics (admins), drawn without a
   chart library: bars are divs, the daily chart one SVG. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const REASONS = { asked: "Asked for a person", offer_accepted: "Accepted an offer", frustration: "Frustration",
    misunderstood: "Misunderstood twice", unanswerable: "No answer found", action_failed: "System error" };

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, v);
    for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  function s(tag, attrs = {}) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
  const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);
  const secs = (x) => (x < 60 ? `${Math.round(x)}s` : `${Math.floor(x / 60)}m ${Math.round(x % 60)}s`);

  function kpi(label, value, sub) {
    return h("div", { class: "kpi" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
  }

  function fill(width, color) {
    // Set through the CSSOM: the page's CSP forbids inline style attributes.
    const el = h("div", { class: "fill" });
    el.style.width = `${width}%`;
    if (color) el.style.background = color;
    return el;
  }

  function bars(el, rows, color) {
    const max = Math.max(1, ...rows.map((r) => r.value));
    el.replaceChildren(...(rows.length ? rows.map((r) => h("div", { class: "bar-row" },
      h("span", { title: r.label }, r.label),
      h("div", { class: "track" }, fill((100 * r.value) / max, color)),
      h("span", { class: "num" }, r.shown ?? r.value))) : [h("p", { class: "muted" }, "Nothing yet.")]));
  }

  function perDay(el, days) {
    const width = 1100, height = 220, pad = 28, gap = 3;
    const max = Math.max(1, ...days.map((d) => d.conversations));
    const w = (width - pad) / days.length - gap;
    const svg = s("svg", { viewBox: `0 0 ${width} ${height + 24}`, role: "img", "aria-label": "Conversations per day" });
    for (const frac of [0, 0.5, 1]) {
      const y = height - frac * (height - 10);
      svg.append(s("line", { x1: pad, x2: width, y1: y, y2: y, stroke: "#e3e5ea" }));
      const t = s("text", { x: 0, y: y + 4, "font-size": 11, fill: "#667085" }); t.textContent = Math.round(frac * max); svg.append(t);
    }
    days.forEach((d, i) => {
      const x = pad + i * (w + gap);
      const hTotal = (d.conversations / max) * (height - 10);
      const hHand = (d.handed_off / max) * (height - 10);
      svg.append(s("rect", { x, y: height - hTotal, width: w, height: hTotal - hHand, fill: "#4338ca", rx: 2 }));
      svg.append(s("rect", { x, y: height - hHand, width: w, height: hHand, fill: "#f59e0b" }));
      if (days.length <= 31 && (i % Math.ceil(days.length / 10) === 0 || i === days.length - 1)) {
        const t = s("text", { x: x + w / 2, y: height + 16, "font-size": 11, fill: "#667085", "text-anchor": "middle" });
        t.textContent = d.day.slice(5); svg.append(t);
      }
      const tip = s("title"); tip.textContent = `${d.day}: ${d.conversations} conversations, ${d.handed_off} handed off`;
      svg.lastChild.append(tip);
    });
    el.replaceChildren(svg);
  }

  async function load() {
    const days = $("days").value;
    const answer = await fetch(`/console/api/analytics?days=${days}`, { credentials: "same-origin" });
    if (answer.status === 401) { location.href = "/console"; return; }
    if (answer.status === 403) { $("message").textContent = "Analytics are for admins."; return; }
    const f = await answer.json();
    $("message").hidden = true;
    $("window").textContent = `${new Date(f.window.since * 1000).toLocaleDateString()} – ${new Date(f.window.until * 1000).toLocaleDateString()}`;
    const medians = f.first_response.map((r) => r.median_s);
    $("kpis").replaceChildren(
      kpi("Conversations", f.conversations),
      kpi("Containment", pct(f.containment), "resolved without a person"),
      kpi("Handoffs", f.handoffs, f.conversations ? `${pct(f.handoffs / f.conversations)} of conversations` : null),
      kpi("CSAT", f.csat.average === null ? "—" : `${f.csat.average} / 5`, `${f.csat.count} ratings`),
      kpi("First response", medians.length ? secs(medians.sort((a, b) => a - b)[Math.floor(medians.length / 2)]) : "—", "median across agents"));
    perDay($("per-day"), f.conversations_per_day);
    bars($("reasons"), Object.entries(f.handoff_rate_by_reason).map(([k, v]) => ({ label: REASONS[k] || k.replace(/_/g, " "), value: v.count, shown: `${v.count} · ${pct(v.rate)}` })), "#f59e0b");
    bars($("csat"), [5, 4, 3, 2, 1].map((n) => ({ label: `${"★".repeat(n)}`, value: f.csat.distribution[String(n)] })), "#0f7b4f");
    bars($("response"), f.first_response.map((r) => ({ label: r.name, value: r.median_s, shown: secs(r.median_s) })));
    bars($("intents"), f.top_intents.map((r) => ({ label: r.intent.replace(/_/g, " "), value: r.count })));
    $("unanswered").replaceChildren(...(f.unanswered.length ? f.unanswered.map((u) => h("li", {}, `${u.text} `, h("span", { class: "muted" }, `×${u.count}`))) : [h("li", { class: "muted" }, "None: every question found an answer.")]));
    bars($("recommendations"), [{ label: "Cards shown", value: f.recommendations.shown },
      { label: "Clicks", value: f.recommendations.clicks, shown: `${f.recommendations.clicks} · ${pct(f.recommendations.click_rate)}` }]);
  }
  $("days").addEventListener("change", load);
  load();
})();
