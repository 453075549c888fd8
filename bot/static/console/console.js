/* Concierge support console: sign-in, the live queue, a conversation, the customer, assist.
   Plain JavaScript, no build step. Text from the server is only ever set with textContent. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    me: null, csrf: "", handoffs: [], filter: "waiting", current: null, seen: new Set(),
    next: 0, skew: 0, agents: [], unread: new Set(), watched: new Set(), ws: null, retry: 500,
  };
  const CHANNELS = { webchat: "Website", telegram: "Telegram", whatsapp: "WhatsApp", rest: "API" };
  const REASONS = {
    asked: "Asked for a person", offer_accepted: "Accepted offer", frustration: "Frustrated",
    misunderstood: "Not understood", unanswerable: "No answer found", action_failed: "System error",
  };
  const FLAGS = {
    fallback: "not understood", handoff_offer: "offered a person", generated: "generated answer",
    handoff_notice: "queue notice",
  };
  const LANGS = { en: "English", es: "Spanish", de: "German", fr: "French", zh: "Chinese" };

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function toast(text) {
    const el = $("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, 3500);
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["Content-Type"] = "application/json"; headers["X-CSRF-Token"] = state.csrf; }
    const answer = await fetch(path, {
      method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined,
    });
    const data = await answer.json().catch(() => ({}));
    if (answer.status === 401 && path !== "/console/api/login") { showLogin(); }
    if (!answer.ok) { const error = new Error(data.error || answer.statusText); error.status = answer.status; throw error; }
    return data;
  }

  /* ---- sign-in ------------------------------------------------------------------------- */
  function showLogin() {
    if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-email").focus();
  }

  async function signedIn(me) {
    state.me = me.agent;
    state.csrf = me.csrf;
    $("login").hidden = true;
    $("app").hidden = false;
    $("me-name").textContent = `${me.agent.name}${me.agent.role === "admin" ? " · admin" : ""}`;
    $("me-avatar").textContent = me.agent.name.slice(0, 1).toUpperCase();
    $("analytics-link").hidden = me.agent.role !== "admin";
    connect();
    await Promise.all([loadQueue(), loadAgents()]);
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const me = await api("POST", "/console/api/login", {
        email: $("login-email").value, password: $("login-password").value,
      });
      $("login-password").value = "";
      await signedIn(me);
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });

  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/console/api/logout"); } finally { state.me = null; showLogin(); }
  });

  /* ---- live socket --------------------------------------------------------------------- */
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/console/ws`);
    state.ws = ws;
    state.watched = new Set();
    ws.onopen = () => {
      state.retry = 500;
      if (state.current) watch(state.current, state.next - 1);
      for (const handoff of mine()) watch(handoff.conversation_id, -1);
    };
    ws.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "hello") setTimeout(loadQueue, 300); // presence is counted by then
      else if (frame.type === "queue" || frame.type === "resync") scheduleQueue();
      else if (frame.type === "note" && frame.conversation_id === state.current) addNote(frame.note);
      else if (frame.type === "events") onEvents(frame);
    };
    ws.onclose = (event) => {
      if (event.code === 4401) { showLogin(); return; }
      state.retry = Math.min(state.retry * 2, 10000);
      setTimeout(() => { if (state.me) connect(); }, state.retry);
    };
  }

  function watch(cid, after) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
    if (state.watched.has(cid) && cid !== state.current) return;
    state.watched.add(cid);
    state.ws.send(JSON.stringify({ type: "watch", conversation_id: cid, after }));
  }

  function onEvents(frame) {
    if (frame.conversation_id === state.current) {
      const fresh = frame.items.filter((item) => !state.seen.has(item.event));
      fresh.forEach(addItem);
      state.next = Math.max(state.next, frame.next);
      if (fresh.some((item) => item.kind === "user")) loadAssist(state.current);
    } else if (frame.items.some((item) => item.kind === "user")) {
      state.unread.add(frame.conversation_id);
      renderQueue();
    }
  }

  /* ---- queue --------------------------------------------------------------------------- */
  function mine() { return state.handoffs.filter((x) => x.status === "claimed" && x.agent_id === state.me.id); }

  function scheduleQueue() {
    clearTimeout(scheduleQueue.timer);
    scheduleQueue.timer = setTimeout(loadQueue, 80);
  }

  async function loadQueue() {
    const data = await api("GET", "/console/api/queue");
    state.handoffs = data.handoffs;
    state.skew = Date.now() / 1000 - data.now;
    const online = data.online.length;
    $("online").textContent = `${online} agent${online === 1 ? "" : "s"} online`;
    $("online").title = data.online.join(", ");
    for (const handoff of mine()) watch(handoff.conversation_id, -1);
    renderQueue();
    if (state.current) renderActions();
  }

  function who(handoff) {
    if (handoff.email) return handoff.email;
    const [kind, rest] = handoff.conversation_id.includes(":") ? handoff.conversation_id.split(":", 2) : ["webchat", handoff.conversation_id];
    const tail = (rest || "").replace(/^web-/, "").slice(-4).toUpperCase();
    return `${CHANNELS[kind] ? (kind === "webchat" ? "Visitor" : CHANNELS[kind]) : kind} #${tail}`;
  }

  function waited(handoff) {
    const end = handoff.claimed_at || (Date.now() / 1000 - state.skew);
    const s = Math.max(0, Math.round(end - handoff.created));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }

  function renderQueue() {
    const waiting = state.handoffs.filter((x) => x.status === "waiting");
    $("count-waiting").textContent = waiting.length;
    $("count-mine").textContent = mine().length;
    $("count-all").textContent = state.handoffs.length;
    const shown = state.filter === "waiting" ? waiting : state.filter === "mine" ? mine() : state.handoffs;
    const list = $("queue-list");
    list.replaceChildren(...shown.map((handoff) => {
      const channel = handoff.channel || "webchat";
      const item = h("li", {
        class: `queue-item${handoff.conversation_id === state.current ? " active" : ""}`,
        "data-cid": handoff.conversation_id, tabindex: "0",
        onclick: () => open(handoff.conversation_id),
        onkeydown: (e) => { if (e.key === "Enter") open(handoff.conversation_id); },
      },
      state.unread.has(handoff.conversation_id) ? h("span", { class: "unread", "aria-label": "new message" }) : null,
      h("div", { class: "row1" },
        h("span", { class: "who" }, who(handoff)),
        h("span", { class: "wait", "data-created": handoff.created, "data-claimed": handoff.claimed_at || "" }, waited(handoff))),
      h("div", { class: "row2" },
        h("span", { class: `chip reason-${handoff.reason}` }, REASONS[handoff.reason] || handoff.reason.replace(/_/g, " ")),
        h("span", { class: "chip" }, CHANNELS[channel] || channel),
        handoff.language ? h("span", { class: "chip" }, (handoff.language || "").toUpperCase()) : null,
        handoff.status === "claimed"
          ? h("span", { class: "chip claimed" }, handoff.agent_id === state.me.id ? "You" : handoff.agent_name || "Claimed")
          : h("button", { type: "button", class: "primary claim-btn", onclick: (e) => { e.stopPropagation(); claim(handoff); } }, "Claim")));
      return item;
    }));
    $("queue-empty").hidden = shown.length > 0;
    $("queue-empty").textContent = state.filter === "mine" ? "You have no conversations." : "No one is waiting. Nice work.";
  }

  setInterval(() => { if (state.me) loadQueue().catch(() => {}); }, 15000); // who is online

  setInterval(() => {
    for (const el of document.querySelectorAll(".queue-item .wait")) {
      const handoff = { created: Number(el.dataset.created), claimed_at: Number(el.dataset.claimed) || null };
      el.textContent = waited(handoff);
      el.classList.toggle("long", !handoff.claimed_at && Date.now() / 1000 - state.skew - handoff.created > 120);
    }
  }, 1000);

  for (const button of document.querySelectorAll(".filters button")) {
    button.addEventListener("click", () => {
      state.filter = button.dataset.filter;
      for (const b of document.querySelectorAll(".filters button")) b.classList.toggle("on", b === button);
      renderQueue();
    });
  }

  async function loadAgents() {
    const data = await api("GET", "/console/api/agents");
    state.agents = data.agents;
    const select = $("transfer");
    select.replaceChildren(h("option", { value: "" }, "Transfer to…"),
      ...data.agents.filter((a) => a.id !== state.me.id).map((a) =>
        h("option", { value: a.id }, `${a.name}${a.online ? " · online" : ""}`)));
  }

  /* ---- a conversation ------------------------------------------------------------------ */
  function handoffOf(cid) { return state.handoffs.find((x) => x.conversation_id === cid); }

  async function open(cid) {
    state.current = cid;
    state.unread.delete(cid);
    state.seen = new Set();
    const data = await api("GET", `/console/api/conversations/${encodeURIComponent(cid)}`);
    if (state.current !== cid) return;
    $("chat-empty").hidden = true;
    $("chat").hidden = false;
    // Live items may have arrived while loading: start over from the full transcript.
    state.seen = new Set();
    $("transcript").replaceChildren();
    data.items.forEach(addItem);
    state.next = data.next;
    state.conversation = data;
    renderHeader(data);
    renderActions();
    renderCustomer(data.customer);
    $("notes").replaceChildren();
    data.notes.forEach(addNote);
    renderQueue();
    watch(cid, data.next - 1);
    loadAssist(cid);
  }

  function renderHeader(data) {
    const last = data.handoffs[data.handoffs.length - 1];
    const customer = data.customer;
    $("chat-title").textContent = customer.name || (last ? who(last) : data.conversation_id);
    const meta = [
      h("span", { class: "chip" }, CHANNELS[customer.channel] || customer.channel),
      customer.language ? h("span", { class: "chip" }, LANGS[customer.language] || customer.language) : null,
      last ? h("span", { class: `chip reason-${last.reason}` }, REASONS[last.reason] || last.reason) : null,
      h("span", { class: "chip" }, data.conversation_id),
    ];
    $("chat-meta").replaceChildren(...meta.filter(Boolean));
  }

  function renderActions() {
    const handoff = handoffOf(state.current);
    const mineNow = handoff && handoff.status === "claimed" && (handoff.agent_id === state.me.id || state.me.role === "admin");
    $("claim").hidden = !(handoff && handoff.status === "waiting");
    $("transfer-wrap").hidden = !mineNow;
    $("hand-back").hidden = !mineNow;
    $("close").hidden = !mineNow;
    const replyMode = document.querySelector("input[name=mode]:checked").value === "reply";
    $("send").disabled = replyMode && !mineNow;
    $("composer-hint").textContent = !handoff ? "This conversation is with the bot." :
      handoff.status === "waiting" ? "Claim the conversation to reply." :
      !mineNow ? `${handoff.agent_name || "Another agent"} has this conversation.` : "The shopper sees your first name.";
  }

  function readingChips(reading) {
    if (!reading) return h("div", { class: "reading" }, h("span", { class: "chip" }, "not read by the bot"));
    return h("div", { class: "reading" },
      h("span", { class: "chip", title: "intent" }, `${reading.intent} · ${Math.round(reading.confidence * 100)}%`),
      reading.act ? h("span", { class: "chip", title: "dialogue act" }, reading.act) : null,
      reading.feeling ? h("span", { class: `chip feeling-${reading.feeling}`, title: "feeling" }, reading.feeling) : null,
      ...(reading.entities || []).map((e) => h("span", { class: "chip", title: "entity" }, `${e.entity}: ${e.value}`)));
  }

  function time(at) {
    return at ? new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }

  function addItem(item) {
    if (state.seen.has(item.event)) return;
    state.seen.add(item.event);
    let el;
    if (item.kind === "user") {
      el = h("li", { class: "msg user" }, h("span", { class: "by" }, `Shopper · ${time(item.at)}`),
        h("div", { class: "bubble" }, item.text), readingChips(item.reading));
    } else if (item.kind === "bot") {
      const extras = [item.cards && `Cards: ${item.cards.join(", ")}`, item.orders && `Orders: ${item.orders.join(", ")}`,
        item.buttons && `Buttons: ${item.buttons.join(" · ")}`].filter(Boolean);
      const flags = (item.flags || []).map((f) => FLAGS[f] || f.replace(/_/g, " "));
      el = h("li", { class: "msg bot" }, h("span", { class: "by" }, `Bot · ${time(item.at)}${flags.length ? " · " + flags.join(" · ") : ""}`),
        h("div", { class: "bubble" }, item.text), extras.length ? h("div", { class: "extras" }, extras.join(" — ")) : null);
    } else if (item.kind === "agent_message") {
      el = h("li", { class: "msg agent" }, h("span", { class: "by" }, `${item.agent} · ${time(item.at)}`), h("div", { class: "bubble" }, item.text));
    } else if (item.kind === "agent_joined" || item.kind === "agent_left") {
      el = h("li", { class: `event ${item.kind === "agent_joined" ? "joined" : "left"}` },
        `${item.agent} ${item.kind === "agent_joined" ? "joined the conversation" : "left; the bot answers again"} · ${time(item.at)}`);
    } else if (item.kind === "action") {
      el = h("li", { class: "event action" }, `ran ${item.name}`);
    } else if (item.kind === "csat") {
      el = h("li", { class: "event" }, `Rated ${"★".repeat(item.score)}${"☆".repeat(5 - item.score)}${item.comment ? ` — “${item.comment}”` : ""}`);
    } else if (item.kind === "feedback") {
      el = h("li", { class: "event" }, item.value === "up" ? "👍 on a bot answer" : "👎 on a bot answer");
    }
    if (!el) return;
    el.dataset.event = item.event;
    const list = $("transcript");
    const after = [...list.children].find((child) => Number(child.dataset.event) > item.event);
    list.insertBefore(el, after || null);
    if (!after) list.scrollTop = list.scrollHeight;
  }

  function addNote(note) {
    $("notes").append(h("li", {}, note.text, h("span", { class: "by" }, `${note.agent} · ${time(note.created)}`)));
  }

  function renderCustomer(c) {
    const rows = [["Name", c.name], ["Email", c.email], ["Customer", c.customer_id], ["Channel", CHANNELS[c.channel] || c.channel],
      ["Language", LANGS[c.language] || c.language]].filter(([, v]) => v);
    const parts = [h("dl", { class: "ident" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))];
    if (!c.customer_id) parts.push(h("p", { class: "muted small" }, "Not identified yet: the bot asks for an email when an order is involved."));
    if (c.profile) {
      parts.push(h("h4", {}, "Buying"), h("p", { class: "small" }, c.profile.summary || ""));
      const tags = [...(c.profile.favourite_categories || []), ...(c.profile.interest_tags || [])];
      if (tags.length) parts.push(h("div", { class: "tags" }, ...[...new Set(tags)].slice(0, 10).map((t) => h("span", { class: "chip" }, t))));
    }
    if (c.orders.length) {
      parts.push(h("h4", {}, `Orders (${c.orders.length})`), h("table", { class: "orders" }, h("tbody", {},
        ...c.orders.map((o) => h("tr", {},
          h("td", {}, h("div", {}, o.order_id), h("div", { class: "muted small" }, (o.items || []).join(", "))),
          h("td", {}, h("span", { class: `status-pill ${o.status}` }, o.status)),
          h("td", {}, `$${Number(o.total).toFixed(2)}`))))));
    }
    if (c.recommended.length) {
      parts.push(h("h4", {}, `Recommended here${c.clicked ? ` · ${c.clicked} clicked` : ""}`),
        h("ul", { class: "list" }, ...c.recommended.map((p) => h("li", {}, `${p.title}${p.price ? ` — ${p.price}` : ""}`))));
    }
    if (c.earlier.length) {
      parts.push(h("h4", {}, "Earlier conversations"), h("ul", { class: "list" },
        ...c.earlier.map((e) => h("li", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); open(e.conversation_id); } },
          `${new Date(e.first_seen * 1000).toLocaleDateString()} · ${e.conversation_id}`)))));
    }
    $("customer").replaceChildren(...parts);
  }

  async function loadAssist(cid) {
    try {
      const data = await api("GET", `/console/api/conversations/${encodeURIComponent(cid)}/assist`);
      if (state.current !== cid) return;
      if (!data.question) { $("assist").replaceChildren(h("p", { class: "muted" }, "No question from the shopper yet.")); return; }
      const parts = [h("p", { class: "small muted" }, `For: “${data.question}”`)];
      if (!data.passages.length) parts.push(h("p", { class: "muted" }, "The shop's pages have nothing close to this question."));
      for (const p of data.passages) {
        parts.push(h("details", { class: "passage" }, h("summary", {}, `${p.title} › ${p.heading} · ${Math.round(p.score * 100)}%`), h("p", {}, p.text)));
      }
      if (data.suggestion) {
        parts.push(h("div", { class: "suggestion" }, h("strong", {}, "Suggested reply"), h("div", {}, data.suggestion),
          h("button", { type: "button", onclick: () => { setMode("reply"); $("text").value = data.suggestion; $("text").focus(); } }, "Edit and send")));
      }
      $("assist").replaceChildren(...parts);
    } catch (error) {
      $("assist").replaceChildren(h("p", { class: "muted" }, `Assist unavailable: ${error.message}`));
    }
  }

  /* ---- acting -------------------------------------------------------------------------- */
  async function act(handoff, action, body) {
    try {
      await api("POST", `/console/api/handoffs/${handoff.id}/${action}`, body);
      await loadQueue();
      return true;
    } catch (error) {
      toast(error.status === 409 ? `Too late: ${error.message}` : error.message);
      await loadQueue();
      return false;
    }
  }

  async function claim(handoff) {
    if (await act(handoff, "claim")) { state.filter = "mine"; renderFilter(); await open(handoff.conversation_id); }
  }

  function renderFilter() {
    for (const b of document.querySelectorAll(".filters button")) b.classList.toggle("on", b.dataset.filter === state.filter);
    renderQueue();
  }

  $("claim").addEventListener("click", () => { const x = handoffOf(state.current); if (x) claim(x); });
  $("hand-back").addEventListener("click", async () => {
    const x = handoffOf(state.current);
    if (x && await act(x, "hand-back")) toast("Handed back: the bot answers the next message.");
    if (state.current) open(state.current);
  });
  $("close").addEventListener("click", async () => {
    const x = handoffOf(state.current);
    if (x && await act(x, "close")) toast("Conversation closed.");
    if (state.current) open(state.current);
  });
  $("transfer").addEventListener("change", async (event) => {
    const x = handoffOf(state.current);
    const to = event.target.value;
    event.target.value = "";
    if (x && to && await act(x, "transfer", { agent_id: to })) toast("Transferred.");
    if (state.current) open(state.current);
  });

  function setMode(mode) {
    for (const input of document.querySelectorAll("input[name=mode]")) input.checked = input.value === mode;
    $("composer").classList.toggle("note", mode === "note");
    $("text").placeholder = mode === "note" ? "Write a note for the team (the shopper never sees it)…" : "Write a reply… (Enter to send, Shift+Enter for a new line)";
    renderActions();
  }
  for (const input of document.querySelectorAll("input[name=mode]")) input.addEventListener("change", () => setMode(input.value));

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text || !state.current) return;
    const mode = document.querySelector("input[name=mode]:checked").value;
    try {
      if (mode === "note") {
        await api("POST", `/console/api/conversations/${encodeURIComponent(state.current)}/notes`, { text });
      } else {
        const x = handoffOf(state.current);
        if (!x) return;
        await api("POST", `/console/api/handoffs/${x.id}/reply`, { text });
      }
      $("text").value = "";
    } catch (error) {
      toast(error.message);
    }
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
  });

  /* ---- start --------------------------------------------------------------------------- */
  api("GET", "/console/api/me").then(signedIn).catch(showLogin);
})();
