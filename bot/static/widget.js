/*
 * Concierge chat widget. One tag puts it on any page:
 *
 *   <script src="https://bot.example/widget.js" data-shop-name="Northwind Outfitters"
 *           data-accent="#1f6f50" async></script>
 *
 * data-accent     the shop's colour (#rgb or #rrggbb); text on it is chosen for contrast
 * data-shop-name  shown in the header (else the name the bot sends)
 * data-locale     en, zh, es, de or fr (else the page's <html lang>, else the browser's)
 * data-position   right (default) or left
 * data-open       "true" opens the chat when the page loads
 * data-server     the bot's origin, when the script is served from somewhere else
 *
 * The widget lives in a shadow root, so the page's CSS cannot reach it and its CSS cannot
 * reach the page. It talks to the bot over one WebSocket (docs/widget-protocol.md): every
 * frame that shows something carries the index of the stored event behind it, so nothing is
 * ever shown twice, and after a reload or a dropped connection the bot replays what was
 * missed. Messages written while offline wait in localStorage and are sent once on
 * reconnect (the bot drops a second copy by its client_message_id).
 *
 * Everything from the bot, the shopper or an agent is put on the page as text
 * (textContent), never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__conciergeWidgetLoaded) return;
  window.__conciergeWidgetLoaded = true;

  var LOCALES = ["en", "zh", "es", "de", "fr"];
  var SVG_NS = "http://www.w3.org/2000/svg";
  var data = script.dataset;
  var server = new URL(data.server || script.src, location.href).origin;
  var socketUrl = server.replace(/^http/, "ws") + "/webhooks/webchat/ws";
  var storageKey = "concierge-chat:" + server;

  // --- small helpers ------------------------------------------------------------------------

  function pickLocale() {
    var wanted = [data.locale, document.documentElement.lang].concat(navigator.languages || []);
    for (var i = 0; i < wanted.length; i++) {
      var primary = String(wanted[i] || "").toLowerCase().split(/[-_]/)[0];
      if (LOCALES.indexOf(primary) >= 0) return primary;
    }
    return "en";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  // Icons are built node by node: no markup string is ever parsed.
  function icon(paths, viewBox) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", viewBox || "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (spec) {
      var shape = document.createElementNS(SVG_NS, spec.tag || "path");
      Object.keys(spec).forEach(function (key) {
        if (key !== "tag") shape.setAttribute(key, spec[key]);
      });
      svg.appendChild(shape);
    });
    return svg;
  }

  var STROKE = { fill: "none", stroke: "currentColor", "stroke-width": "2",
    "stroke-linecap": "round", "stroke-linejoin": "round" };
  function stroked(d) {
    return Object.assign({ d: d }, STROKE);
  }
  var ICONS = {
    chat: function () {
      return icon([{ d: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.6.5-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z", fill: "currentColor" }]);
    },
    close: function () { return icon([stroked("M6 6l12 12M18 6L6 18")]); },
    send: function () {
      return icon([{ d: "M3.4 20.4l17.4-7.5c.8-.4.8-1.5 0-1.8L3.4 3.6c-.7-.3-1.4.4-1.1 1.1L5 11l9 1-9 1-2.7 6.3c-.3.7.4 1.4 1.1 1.1z", fill: "currentColor" }]);
    },
    end: function () { return icon([stroked("M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9")]); },
    up: function () { return icon([stroked("M7 10v11H4V10zM7 10l4-7a2.5 2.5 0 0 1 3 3l-1 4h6a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 17.7 21H7")]); },
    down: function () { return icon([stroked("M7 14V3H4v11zM7 14l4 7a2.5 2.5 0 0 0 3-3l-1-4h6a2 2 0 0 0 2-2.3l-1.3-7A2 2 0 0 0 17.7 3H7")]); },
    face: function (score) {
      var mouths = ["M8 17c2-2.5 6-2.5 8 0", "M8.5 16.5c2-1.3 5-1.3 7 0", "M8.5 16h7",
        "M8.5 15.5c2 1.3 5 1.3 7 0", "M8 15c2 2.5 6 2.5 8 0"];
      return icon([{ tag: "circle", cx: "12", cy: "12", r: "9.5", fill: "none", stroke: "currentColor", "stroke-width": "1.6" },
        { tag: "circle", cx: "9", cy: "10", r: "1.2", fill: "currentColor" },
        { tag: "circle", cx: "15", cy: "10", r: "1.2", fill: "currentColor" },
        { d: mouths[score - 1], fill: "none", stroke: "currentColor", "stroke-width": "1.6", "stroke-linecap": "round" }]);
    },
  };

  // --- colours: the shop's accent, with readable text on it (WCAG AA, 4.5:1) ---------------

  function rgb(hex) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex || "").trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/(.)/g, "$1$1") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.slice(i, i + 2), 16); });
  }
  function luminance(c) {
    var v = c.map(function (x) {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function hex(c) {
    return "#" + c.map(function (x) { return ("0" + Math.round(x).toString(16)).slice(-2); }).join("");
  }
  function palette(accent) {
    var c = rgb(accent) || [31, 111, 80];
    var white = [255, 255, 255], ink = [17, 24, 39];
    var strong = c.slice();
    // Text and outlines in the accent colour on white must read too: darken until they do.
    while (contrast(strong, white) < 4.5) strong = strong.map(function (x) { return x * 0.9; });
    return {
      accent: hex(c),
      ink: contrast(c, white) >= 4.5 ? "#ffffff" : hex(ink),
      strong: hex(strong),
      soft: "rgba(" + c.join(",") + ",0.12)",
    };
  }

  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadSaved() {
    try {
      return JSON.parse(localStorage.getItem(storageKey) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  // --- the widget ----------------------------------------------------------------------------

  function Widget(texts, locale) {
    this.texts = texts;
    this.locale = locale;
    var saved = loadSaved();
    this.conversationId = typeof saved.conversationId === "string" ? saved.conversationId : null;
    this.pending = Array.isArray(saved.pending) ? saved.pending : [];
    this.shopName = data.shopName || "";
    this.seen = new Set();
    this.lastSeen = -1;
    this.ws = null;
    this.connected = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.unread = 0;
    this.drafts = [];
    this.agent = null;
    this.csatDone = false;
  }

  Widget.prototype.t = function (key, vars) {
    var text = this.texts[key];
    if (typeof text !== "string") return "";
    vars = Object.assign({ shop: this.shopName }, vars || {});
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return name in vars ? String(vars[name]) : all;
    });
  };

  Widget.prototype.save = function () {
    try {
      localStorage.setItem(storageKey, JSON.stringify({
        conversationId: this.conversationId,
        pending: this.pending,
      }));
    } catch (e) { /* storage blocked: the chat still works for this page */ }
  };

  Widget.prototype.mount = function () {
    var self = this;
    // A custom element name: shop CSS aimed at divs or sections does not match the host.
    this.host = el("concierge-chat", { "data-concierge-widget": "" });
    this.host.style.display = "none";
    this.frame = el("div", { class: "frame", "data-position": data.position === "left" ? "left" : "right",
      "data-open": "false" });
    var colours = palette(data.accent);
    this.frame.style.setProperty("--accent", colours.accent);
    this.frame.style.setProperty("--accent-ink", colours.ink);
    this.frame.style.setProperty("--accent-strong", colours.strong);
    this.frame.style.setProperty("--accent-soft", colours.soft);
    this.root = this.host.attachShadow({ mode: "open" });
    var sheet = el("link", { rel: "stylesheet", href: server + "/widget/widget.css" });
    sheet.addEventListener("load", function () { self.host.style.display = ""; });
    sheet.addEventListener("error", function () { self.host.style.display = ""; });
    this.root.appendChild(sheet);
    this.build();
    document.body.appendChild(this.host);
    // An ongoing chat connects at once (to hear agents' replies and send what waits).
    if (this.conversationId || this.pending.length) this.connect();
    if (data.open === "true") this.open();
  };

  Widget.prototype.build = function () {
    var self = this, t = this.t.bind(this);
    this.badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false",
      "aria-controls": "concierge-panel", "aria-label": t("launcher_open") }, [ICONS.chat(), this.badge]);
    this.launcher.addEventListener("click", function () {
      if (self.isOpen()) self.close(); else self.open();
    });

    this.titleEl = el("h2", { class: "title", id: "concierge-title", text: this.shopName });
    this.statusText = el("span", { text: t("status_online") });
    this.status = el("p", { class: "status", "data-state": "online" }, [el("span", { class: "dot" }), this.statusText]);
    this.headAvatar = el("div", { class: "avatar", "aria-hidden": "true", text: initial(this.shopName) });
    var endButton = el("button", { class: "icon-button", type: "button", "aria-label": t("end_chat"), title: t("end_chat") }, [ICONS.end()]);
    endButton.addEventListener("click", function () { self.showCsat(true); });
    var closeButton = el("button", { class: "icon-button", type: "button", "aria-label": t("close"), title: t("close") }, [ICONS.close()]);
    closeButton.addEventListener("click", function () { self.close(); });
    var head = el("header", { class: "head" }, [this.headAvatar,
      el("div", { class: "who" }, [this.titleEl, this.status]), endButton, closeButton]);

    this.notice = el("p", { class: "notice", role: "status", hidden: true });
    this.list = el("ol", { class: "messages" });
    this.log = el("div", { class: "log", role: "log", "aria-live": "off", tabindex: "0",
      "aria-label": t("conversation") }, [this.list]);
    this.announcer = el("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "false" });

    this.replies = el("div", { class: "replies", role: "group", "aria-label": t("suggested_replies"), hidden: true });
    this.input = el("textarea", { id: "concierge-input", rows: "1", maxlength: "4000",
      placeholder: t("input_placeholder"), autocomplete: "off", enterkeyhint: "send" });
    this.sendButton = el("button", { class: "send", type: "submit", "aria-label": t("send"), disabled: true }, [ICONS.send()]);
    var form = el("form", { class: "composer" }, [
      el("label", { class: "sr-only", for: "concierge-input", text: t("input_label") }), this.input, this.sendButton]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.input.addEventListener("input", function () { self.resizeInput(); });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submit();
      }
    });

    this.panel = el("section", { class: "panel", id: "concierge-panel", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "concierge-title", lang: this.locale, hidden: true },
    [head, this.notice, this.log, this.announcer, this.replies, form,
      el("p", { class: "foot", text: t("powered_by") })]);
    this.panel.addEventListener("keydown", function (event) { self.onKey(event); });
    this.frame.append(this.panel, this.launcher);
    this.root.appendChild(this.frame);

    this.typingRow = this.makeRow("bot");
    this.typingRow.classList.add("typing");
    this.typingRow.querySelector(".stack").appendChild(
      el("div", { class: "bubble", role: "img", "aria-label": t("typing") }, [el("i"), el("i"), el("i")]));
    this.greet();

    window.addEventListener("offline", function () { self.goOffline(); });
    window.addEventListener("online", function () { self.reconnectNow(); });
  };

  function initial(name) {
    var first = String(name || "").trim().charAt(0);
    return first ? first.toUpperCase() : "•";
  }

  // --- opening, closing, keyboard -------------------------------------------------------------

  Widget.prototype.isOpen = function () { return !this.panel.hidden; };

  Widget.prototype.open = function () {
    this.panel.hidden = false;
    this.frame.setAttribute("data-open", "true");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", this.t("launcher_close"));
    this.launcher.replaceChildren(ICONS.close(), this.badge);
    this.unread = 0;
    this.badge.hidden = true;
    if (!this.ws) this.connect();
    this.scrollDown(true);
    this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.frame.setAttribute("data-open", "false");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", this.t("launcher_open"));
    this.launcher.replaceChildren(ICONS.chat(), this.badge);
    this.launcher.focus();
  };

  Widget.prototype.onKey = function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (event.key !== "Tab") return;
    // Focus stays in the open chat (a modal dialog) until it is closed.
    var focusable = Array.prototype.filter.call(
      this.panel.querySelectorAll("button:not([disabled]), textarea, [tabindex='0'], a[href]"),
      function (node) { return node.getClientRects().length > 0; });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    var active = this.root.activeElement;
    if (event.shiftKey && (active === first || !this.panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.resizeInput = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 120) + "px";
    this.sendButton.disabled = !this.input.value.trim();
  };

  // --- connection ----------------------------------------------------------------------------

  Widget.prototype.setStatus = function (state) {
    this.status.setAttribute("data-state", state);
    var key = { online: "status_online", connecting: "status_connecting", offline: "status_offline" }[state];
    this.statusText.textContent = state === "online" && this.agent
      ? this.t("status_agent", { name: this.agent }) : this.t(key);
  };

  Widget.prototype.showNotice = function (text, kind) {
    this.notice.textContent = text || "";
    this.notice.hidden = !text;
    this.notice.setAttribute("data-kind", kind || "info");
  };

  Widget.prototype.connect = function () {
    var self = this;
    clearTimeout(this.retryTimer);
    if (this.ws || navigator.onLine === false) {
      if (navigator.onLine === false) this.goOffline();
      return;
    }
    this.setStatus("connecting");
    var ws = new WebSocket(socketUrl);
    this.ws = ws;
    ws.addEventListener("open", function () {
      var hello = { type: "hello", locale: self.locale };
      if (self.conversationId) hello.conversation_id = self.conversationId;
      if (self.lastSeen >= 0) hello.last_seen_event = self.lastSeen;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") self.onFrame(frame, true);
    });
    ws.addEventListener("close", function () {
      if (self.ws !== ws) return;
      self.ws = null;
      self.connected = false;
      self.clearDrafts();
      self.setTyping(false);
      self.markPending();
      if (navigator.onLine === false) {
        self.goOffline();
        return;
      }
      self.setStatus("connecting");
      if (self.attempt > 0) self.showNotice(self.t("reconnecting"));
      self.scheduleReconnect();
    });
  };

  Widget.prototype.scheduleReconnect = function () {
    var self = this;
    // Exponential backoff with full jitter, so that many widgets do not return at once.
    var ceiling = Math.min(30000, 500 * Math.pow(2, this.attempt));
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () { self.connect(); }, 250 + Math.random() * ceiling);
  };

  Widget.prototype.goOffline = function () {
    this.setStatus("offline");
    this.showNotice(this.t("offline"));
    if (this.ws) {
      var ws = this.ws;
      this.ws = null;
      this.connected = false;
      ws.close();
      this.markPending();
    }
  };

  Widget.prototype.reconnectNow = function () {
    this.showNotice("");
    this.attempt = 0;
    if (!this.ws && (this.conversationId || this.isOpen())) this.connect();
  };

  Widget.prototype.send = function (frame) {
    if (!this.connected || !this.ws) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  };

  // --- frames from the bot ------------------------------------------------------------------

  Widget.prototype.onFrame = function (frame, live) {
    var handler = this["on_" + frame.type];
    if (typeof handler === "function") handler.call(this, frame, live);
  };

  Widget.prototype.on_welcome = function (frame) {
    if (this.conversationId && frame.conversation_id !== this.conversationId) {
      // The old conversation is gone (expired or deleted): start a clean log.
      this.list.querySelectorAll("[data-event]").forEach(function (node) { node.remove(); });
      this.seen.clear();
      this.lastSeen = -1;
    }
    this.conversationId = frame.conversation_id;
    if (!data.shopName && frame.shop_name) {
      this.shopName = frame.shop_name;
      this.titleEl.textContent = frame.shop_name;
      this.headAvatar.textContent = initial(frame.shop_name);
    }
    this.save();
  };

  Widget.prototype.on_history = function (frame) {
    var self = this;
    (frame.items || []).forEach(function (item) { self.onFrame(item, false); });
    this.connected = true;
    this.attempt = 0;
    this.setStatus("online");
    this.showNotice(navigator.onLine === false ? this.t("offline") : "");
    // Messages written while offline go now, once: those the bot already has came back above
    // (and left the queue). Their bubbles move below the replayed history.
    this.pending.forEach(function (item) {
      var row = self.list.querySelector('.row.me[data-cmid="' + CSS.escape(item.cmid) + '"]');
      if (row) self.append(row);
      self.transmit(item);
    });
    this.scrollDown(true);
  };

  Widget.prototype.on_ack = function (frame) {
    this.settle(frame.client_message_id);
  };

  Widget.prototype.on_typing = function (frame) {
    if (!frame.on) this.clearDrafts();
    this.setTyping(!!frame.on);
  };

  Widget.prototype.on_delta = function (frame) {
    var draft = this.drafts[this.drafts.length - 1];
    if (!draft || draft.replyTo !== frame.reply_to) {
      var row = this.makeRow("bot");
      var bubble = el("div", { class: "bubble draft", "aria-busy": "true" });
      row.querySelector(".stack").appendChild(bubble);
      draft = { replyTo: frame.reply_to, row: row, bubble: bubble };
      this.drafts.push(draft);
      this.append(row);
    }
    this.setTyping(false);
    draft.bubble.textContent += String(frame.text || "");
    this.scrollDown(false);
  };

  Widget.prototype.on_user = function (frame, live) {
    if (!this.claim(frame)) return;
    var mine = frame.client_message_id && this.list.querySelector(
      '.row.me[data-cmid="' + CSS.escape(frame.client_message_id) + '"]');
    if (mine) {
      mine.setAttribute("data-event", frame.event);
      this.settle(frame.client_message_id);
      return;
    }
    this.settle(frame.client_message_id);
    this.append(this.ownRow(frame.text, frame.event));
    this.spendChips();
    this.scrollDown(live);
  };

  Widget.prototype.on_message = function (frame, live) {
    if (!this.claim(frame)) return;
    var row = this.botRow(frame);
    var draft = this.drafts.shift();
    if (draft && draft.row.parentNode) {
      // The final text replaces the streamed draft where it stands (no jump, no flicker).
      draft.row.replaceWith(row);
      this.regroup(row);
    } else {
      this.append(row);
    }
    if (live) this.arrived(this.t("bot_name"), frame.text);
    this.scrollDown(live);
  };

  Widget.prototype.on_agent_joined = function (frame, live) {
    if (!this.claim(frame)) return;
    this.agent = frame.agent && frame.agent.name;
    this.note(this.t("agent_joined", { name: this.agent }), frame.event, live);
    if (this.connected) this.setStatus("online");
  };

  Widget.prototype.on_agent_left = function (frame, live) {
    if (!this.claim(frame)) return;
    this.note(this.t("agent_left", { name: frame.agent && frame.agent.name }), frame.event, live);
    this.agent = null;
    if (this.connected) this.setStatus("online");
  };

  Widget.prototype.on_agent_message = function (frame, live) {
    if (!this.claim(frame)) return;
    var name = (frame.agent && frame.agent.name) || "";
    var row = this.makeRow("agent", name);
    row.setAttribute("data-event", frame.event);
    var stack = row.querySelector(".stack");
    stack.appendChild(el("p", { class: "who-label", text: this.t("agent_label", { name: name }) }));
    stack.appendChild(el("div", { class: "bubble", text: frame.text }));
    this.append(row);
    if (live) this.arrived(name, frame.text);
    this.scrollDown(live);
  };

  Widget.prototype.on_feedback = function (frame) {
    if (!this.claim(frame)) return;
    var row = this.list.querySelector('.row.bot[data-event="' + Number(frame.target) + '"]');
    if (row) this.showRating(row, frame.value);
  };

  Widget.prototype.on_csat = function (frame) {
    if (!this.claim(frame)) return;
    this.csatDone = true;
    if (this.csatCard) this.thankForCsat();
  };

  Widget.prototype.on_csat_request = function () {
    this.showCsat(false);
  };

  Widget.prototype.on_error = function (frame) {
    var cmid = frame.client_message_id;
    var item = cmid && this.pending.filter(function (p) { return p.cmid === cmid; })[0];
    var key = "error_" + frame.code;
    var text = this.texts[key] ? this.t(key) : this.t("error_generic");
    if (item && frame.code === "rate_limited") {
      var self = this;
      item.waiting = true; // not resent by a reconnect while it waits for its turn
      setTimeout(function () {
        item.waiting = false;
        self.transmit(item);
      }, Math.max(1, Number(frame.retry_after_s) || 1) * 1000);
    } else if (item) {
      this.fail(item);
    }
    this.showNotice(text, "error");
  };

  Widget.prototype.claim = function (frame) {
    var index = Number(frame.event);
    if (!(index >= 0) || this.seen.has(index)) return false;
    this.seen.add(index);
    this.lastSeen = Math.max(this.lastSeen, index);
    return true;
  };

  Widget.prototype.arrived = function (who, text) {
    if (text) this.announcer.appendChild(el("p", { text: who + ": " + text }));
    while (this.announcer.childNodes.length > 5) this.announcer.firstChild.remove();
    if (!this.isOpen()) {
      this.unread += 1;
      this.badge.textContent = String(this.unread);
      this.badge.hidden = false;
      this.launcher.setAttribute("aria-label",
        this.t("launcher_open") + " · " + this.t("unread", { count: this.unread }));
    }
  };

  // --- rendering -----------------------------------------------------------------------------

  Widget.prototype.makeRow = function (kind, name) {
    var row = el("li", { class: "row " + kind });
    if (kind !== "me") {
      var letter = kind === "agent" ? initial(name) : initial(this.shopName);
      row.appendChild(el("div", { class: "avatar", "aria-hidden": "true", text: letter }));
      if (kind === "agent") row.setAttribute("data-agent", name || "");
    }
    row.appendChild(el("div", { class: "stack" }));
    return row;
  };

  Widget.prototype.append = function (row) {
    if (this.typingRow.parentNode === this.list) this.list.insertBefore(row, this.typingRow);
    else this.list.appendChild(row);
    this.regroup(row);
  };

  function sameSpeaker(a, b) {
    if (!a || !b || !a.classList.contains("row") || !b.classList.contains("row")) return false;
    var kinds = ["bot", "me", "agent"];
    for (var i = 0; i < kinds.length; i++) {
      if (a.classList.contains(kinds[i]) && b.classList.contains(kinds[i]))
        return a.getAttribute("data-agent") === b.getAttribute("data-agent");
    }
    return false;
  }

  // Consecutive messages of one speaker form a group: one avatar, beside its first bubble.
  Widget.prototype.regroup = function (row) {
    var prev = row.previousElementSibling, next = row.nextElementSibling;
    row.classList.toggle("follow", sameSpeaker(prev, row));
    if (sameSpeaker(prev, row)) prev.classList.add("grouped");
    row.classList.toggle("grouped", sameSpeaker(row, next));
    if (next && next.classList.contains("row")) next.classList.toggle("follow", sameSpeaker(row, next));
  };

  Widget.prototype.greet = function () {
    var self = this;
    var row = this.makeRow("bot");
    row.classList.add("greeting");
    var stack = row.querySelector(".stack");
    stack.appendChild(el("div", { class: "bubble", text: this.t("greeting") }));
    this.list.appendChild(row);
    this.offerReplies((this.texts.starters || []).map(function (text) { return { text: text }; }));
  };

  Widget.prototype.ownRow = function (text, event, cmid) {
    var row = this.makeRow("me");
    if (event !== undefined && event !== null) row.setAttribute("data-event", event);
    if (cmid) row.setAttribute("data-cmid", cmid);
    row.querySelector(".stack").appendChild(el("div", { class: "bubble", text: text }));
    return row;
  };

  Widget.prototype.botRow = function (frame) {
    var self = this, t = this.t.bind(this);
    var row = this.makeRow("bot");
    row.setAttribute("data-event", frame.event);
    var stack = row.querySelector(".stack");
    if (frame.text) stack.appendChild(el("div", { class: "bubble", text: frame.text }));
    if (frame.image) {
      stack.appendChild(el("img", { class: "picture", alt: "", src: new URL(frame.image, server).href }));
    }
    if (frame.cards && frame.cards.length) {
      var cards = el("ul", { class: "cards", "aria-label": t("suggestions") });
      frame.cards.forEach(function (card) { cards.appendChild(self.card(card)); });
      stack.appendChild(cards);
    }
    if (frame.orders && frame.orders.length) {
      var orders = el("ul", { class: "orders", "aria-label": t("orders") });
      frame.orders.forEach(function (order) { orders.appendChild(el("li", {}, [self.order(order)])); });
      stack.appendChild(orders);
    }
    if (frame.note) stack.appendChild(el("div", { class: "bubble", text: frame.note }));
    if (frame.buttons && frame.buttons.length && !(frame.orders && frame.orders.length)) {
      this.offerReplies(frame.buttons.map(function (button) {
        return { payload: button.payload, title: button.title };
      }));
    }
    if (frame.text) stack.appendChild(this.rating(frame.event));
    return row;
  };

  Widget.prototype.card = function (card) {
    var self = this;
    var body = el("div", { class: "card-body" }, [
      el("h3", { class: "card-title", text: card.title }),
      card.price ? el("p", { class: "card-price", text: card.price }) : null,
      el("p", { class: "card-reason", text: card.reason }),
    ]);
    var button = (card.buttons || [])[0];
    if (button) {
      var label = this.t("tell_more");
      var more = el("button", { class: "card-button", type: "button", text: label,
        "aria-label": label + ": " + card.title });
      more.addEventListener("click", function () {
        self.sendMessage({ payload: button.payload, title: label + ": " + card.title });
      });
      body.appendChild(more);
    }
    var picture = card.image ? el("img", { alt: "", loading: "lazy", src: new URL(card.image, server).href }) : null;
    return el("li", { class: "card" }, [picture, body]);
  };

  Widget.prototype.order = function (order) {
    var self = this;
    var parts = [
      el("span", { class: "order-id", text: order.order_id }),
      el("span", { class: "order-total", text: order.total || "" }),
      el("span", { class: "order-summary", text: [order.placed_on, order.summary].filter(Boolean).join(" · ") }),
      el("span", { class: "pill", "data-status": order.status || "", text: order.status_label || order.status || "" }),
    ];
    if (!order.payload) return el("div", { class: "order" }, parts);
    var row = el("button", { class: "order", type: "button" }, parts);
    row.addEventListener("click", function () {
      self.sendMessage({ payload: order.payload, title: order.order_id });
    });
    return row;
  };

  Widget.prototype.rating = function (event) {
    var self = this;
    var box = el("div", { class: "rate" });
    [["up", "rate_up"], ["down", "rate_down"]].forEach(function (pair) {
      var button = el("button", { type: "button", "aria-pressed": "false", "aria-label": self.t(pair[1]),
        title: self.t(pair[1]), "data-value": pair[0] }, [ICONS[pair[0]]()]);
      button.addEventListener("click", function () {
        if (self.send({ type: "feedback", event: Number(event), value: pair[0] })) {
          self.showRating(box.parentNode.parentNode, pair[0]);
        }
      });
      box.appendChild(button);
    });
    return box;
  };

  Widget.prototype.showRating = function (row, value) {
    var box = row.querySelector(".rate");
    if (!box) return;
    box.querySelectorAll("button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-value") === value));
    });
    if (!box.querySelector(".rate-thanks")) {
      box.appendChild(el("span", { class: "rate-thanks", role: "status", text: this.t("rate_thanks") }));
    }
  };

  Widget.prototype.note = function (text, event, live) {
    var note = el("li", { class: "note", text: text });
    if (event !== undefined) note.setAttribute("data-event", event);
    this.append(note);
    if (live) this.arrived("", text);
    this.scrollDown(live);
  };

  Widget.prototype.setTyping = function (on) {
    if (on && !this.drafts.length) {
      this.list.appendChild(this.typingRow);
      this.regroup(this.typingRow);
      this.scrollDown(false);
    } else if (!on && this.typingRow.parentNode) {
      var prev = this.typingRow.previousElementSibling;
      this.typingRow.remove();
      if (prev) prev.classList.remove("grouped");
    }
  };

  Widget.prototype.clearDrafts = function () {
    this.drafts.forEach(function (draft) { draft.row.remove(); });
    this.drafts = [];
  };

  // Quick replies of the bot's latest message wait above the composer, within thumb's reach,
  // until the shopper answers in any way; older ones are gone (a stale "Yes, go ahead" must
  // never confirm something else later).
  Widget.prototype.offerReplies = function (replies) {
    var self = this;
    this.replies.replaceChildren();
    replies.forEach(function (reply) {
      var chip = el("button", { class: "chip", type: "button", text: reply.title || reply.text });
      chip.addEventListener("click", function () {
        self.sendMessage(reply);
        self.input.focus();
      });
      self.replies.appendChild(chip);
    });
    this.replies.hidden = !replies.length;
  };

  Widget.prototype.spendChips = function () {
    this.replies.replaceChildren();
    this.replies.hidden = true;
  };

  Widget.prototype.scrollDown = function (force) {
    var log = this.log;
    var near = log.scrollHeight - log.scrollTop - log.clientHeight < 160;
    if (force || near) log.scrollTop = log.scrollHeight;
  };

  // --- closing satisfaction question -----------------------------------------------------------

  Widget.prototype.showCsat = function (asked) {
    var self = this, t = this.t.bind(this);
    if (this.csatDone) {
      if (asked && !this.csatCard) this.note(t("csat_thanks"), undefined, false);
      return;
    }
    if (this.csatCard) {
      this.csatCard.scrollIntoView({ block: "nearest" });
      return;
    }
    var score = 0;
    var question = el("p", { class: "csat-question", id: "concierge-csat", text: t("csat_question") });
    var group = el("div", { class: "scores", role: "radiogroup", "aria-labelledby": "concierge-csat" });
    var labels = this.texts.csat_scores || [];
    var comment = el("textarea", { rows: "2", maxlength: "1000", "aria-label": t("csat_comment"),
      placeholder: t("csat_comment") });
    var submit = el("button", { class: "primary", type: "button", text: t("csat_send"), disabled: true });
    var buttons = [1, 2, 3, 4, 5].map(function (value) {
      var button = el("button", { class: "score", type: "button", role: "radio", "aria-checked": "false",
        tabindex: value === 1 ? "0" : "-1" }, [ICONS.face(value), el("span", { text: labels[value - 1] || String(value) })]);
      button.addEventListener("click", function () { choose(value); });
      button.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        choose(Math.min(5, Math.max(1, (score || value) + step)));
        buttons[score - 1].focus();
      });
      group.appendChild(button);
      return button;
    });
    function choose(value) {
      score = value;
      buttons.forEach(function (button, i) {
        button.setAttribute("aria-checked", String(i + 1 === value));
        button.setAttribute("tabindex", i + 1 === value ? "0" : "-1");
      });
      submit.disabled = false;
    }
    submit.addEventListener("click", function () {
      var frame = { type: "csat", score: score };
      if (comment.value.trim()) frame.comment = comment.value.trim();
      if (score && self.send(frame)) {
        self.csatDone = true;
        self.thankForCsat();
      }
    });
    this.csatCard = el("li", { class: "csat" }, [question, group, comment, submit]);
    this.append(this.csatCard);
    this.scrollDown(true);
    if (asked) buttons[0].focus();
  };

  Widget.prototype.thankForCsat = function () {
    var focused = this.csatCard.contains(this.root.activeElement);
    this.csatCard.replaceChildren(el("p", { class: "csat-thanks", role: "status", text: this.t("csat_thanks") }));
    if (focused) this.input.focus();
  };

  // --- what the shopper sends ----------------------------------------------------------------

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.resizeInput();
    this.sendMessage({ text: text });
  };

  Widget.prototype.sendMessage = function (message) {
    var item = { cmid: newId(), text: message.text, payload: message.payload, title: message.title };
    this.pending.push(item);
    this.save();
    this.showNotice(navigator.onLine === false ? this.t("offline") : "");
    this.append(this.ownRow(item.title || item.text, null, item.cmid));
    this.spendChips();
    this.transmit(item);
    this.scrollDown(true);
    if (!this.ws && navigator.onLine !== false) this.connect();
  };

  Widget.prototype.metaFor = function (item, text, failed) {
    var row = this.list.querySelector('.row.me[data-cmid="' + CSS.escape(item.cmid) + '"]');
    if (!row) return null;
    var stack = row.querySelector(".stack");
    var meta = stack.querySelector(".meta");
    if (!text) {
      if (meta) meta.remove();
      return null;
    }
    if (!meta) {
      meta = el("p", { class: "meta" });
      stack.appendChild(meta);
    }
    meta.className = failed ? "meta failed" : "meta";
    meta.textContent = text;
    return meta;
  };

  Widget.prototype.transmit = function (item) {
    var frame = { type: "message", client_message_id: item.cmid };
    if (item.payload) {
      frame.payload = item.payload;
      if (item.title) frame.title = item.title;
    } else {
      frame.text = item.text;
    }
    var sent = !item.waiting && this.send(frame);
    this.metaFor(item, sent ? this.t("sending") : this.t("queued"));
  };

  Widget.prototype.markPending = function () {
    var self = this;
    this.pending.forEach(function (item) { if (!item.waiting) self.metaFor(item, self.t("queued")); });
  };

  Widget.prototype.settle = function (cmid) {
    if (!cmid) return;
    var item = this.pending.filter(function (p) { return p.cmid === cmid; })[0];
    if (!item) return;
    this.pending = this.pending.filter(function (p) { return p !== item; });
    this.save();
    this.metaFor(item, "");
  };

  Widget.prototype.fail = function (item) {
    var self = this;
    this.pending = this.pending.filter(function (p) { return p !== item; });
    this.save();
    var meta = this.metaFor(item, this.t("failed") + " · ", true);
    if (!meta) return;
    var retry = el("button", { class: "link-button", type: "button", text: this.t("retry") });
    retry.addEventListener("click", function () {
      meta.parentNode.parentNode.remove();
      // A new id: the failed one may have been claimed by the bot before it failed.
      self.sendMessage({ text: item.text, payload: item.payload, title: item.title });
    });
    meta.appendChild(retry);
  };

  // Messages kept from an earlier page (written offline) are shown until the bot takes them.
  Widget.prototype.restorePending = function () {
    var self = this;
    this.pending.forEach(function (item) {
      item.waiting = false;
      self.append(self.ownRow(item.title || item.text, null, item.cmid));
      self.metaFor(item, self.t("queued"));
    });
  };

  function boot() {
    var locale = pickLocale();
    function fetchTexts(lang) {
      return fetch(server + "/widget/locales/" + lang + ".json", { credentials: "omit" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
    }
    fetchTexts(locale)
      .catch(function () { locale = "en"; return fetchTexts("en"); })
      .then(function (texts) {
        var start = function () {
          var widget = new Widget(texts, locale);
          widget.mount();
          widget.restorePending();
        };
        if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
      })
      .catch(function (err) { console.warn("Concierge chat could not start:", err); });
  }

  boot();
})();
