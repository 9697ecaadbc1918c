/* salesbot chat widget — embedded with one tag:
 *   <script src="https://HOST/static/salesbot/widget.js" data-site="KEY" async></script>
 * No framework, no build step. Everything lives in a shadow root, and every piece of text from the
 * server is set with textContent, never as HTML. Protocol: docs/protocol.md (v1).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__salesbotLoaded) return;
  window.__salesbotLoaded = true;

  var SITE = script.getAttribute("data-site") || "";
  var BASE = new URL(script.src, location.href);
  var WS_URL = (BASE.protocol === "https:" ? "wss://" : "ws://") + BASE.host +
    "/ws/chat/" + encodeURIComponent(SITE) + "/";
  var TOKEN_KEY = "salesbot:" + SITE + ":visitor";

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;",
    "border:0;background:#1f5eff;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);",
    "display:flex;align-items:center;justify-content:center;z-index:2147483646}",
    ".launcher:focus-visible{outline:3px solid #0b1f4d;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);",
    "height:520px;max-height:calc(100vh - 120px);background:#fff;border-radius:12px;display:flex;",
    "flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;",
    "z-index:2147483647;color:#1f2933;font-size:15px;line-height:1.45}",
    ".panel[hidden]{display:none}",
    ".head{background:#1f5eff;color:#fff;padding:12px 16px;display:flex;align-items:center;",
    "justify-content:space-between;font-weight:600}",
    ".head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".banner{background:#fff3c4;color:#5c4400;padding:6px 12px;font-size:13px}",
    ".banner[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;",
    "background:#f5f7fa}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".visitor{align-self:flex-end;background:#1f5eff;color:#fff;border-bottom-right-radius:4px}",
    ".assistant{align-self:flex-start;background:#fff;border:1px solid #d9e2ec;",
    "border-bottom-left-radius:4px}",
    ".msg.sending{opacity:.6}",
    ".msg.failed{background:#fde8e8;color:#8a1c1c;border:1px solid #f5b5b5}",
    ".typing{align-self:flex-start;color:#627d98;font-size:13px;padding:0 4px}",
    ".typing[hidden]{display:none}",
    "form{display:flex;border-top:1px solid #d9e2ec;background:#fff}",
    "textarea{flex:1;border:0;resize:none;padding:12px;font-size:15px;height:52px;outline:none}",
    "form button{border:0;background:none;color:#1f5eff;font-weight:600;padding:0 16px;",
    "cursor:pointer}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;",
    "height:100vh;max-height:100vh;border-radius:0}}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function chatIcon() {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 " +
      "2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 " +
      "0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
    svg.appendChild(path);
    return svg;
  }

  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function storage(op, value) {
    try {
      if (op === "get") return localStorage.getItem(TOKEN_KEY);
      localStorage.setItem(TOKEN_KEY, value);
    } catch (e) { /* storage blocked: the conversation lasts as long as the page */ }
    return null;
  }

  // ---- the view ---------------------------------------------------------------------------
  var host = el("div", { id: "salesbot-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", {}, CSS));
  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "Open chat",
    "aria-expanded": "false" });
  launcher.appendChild(chatIcon());
  var panel = el("section", { class: "panel", role: "dialog", "aria-label": "Chat", hidden: "" });
  var head = el("div", { class: "head" });
  head.appendChild(el("span", {}, "Chat with us"));
  var closeBtn = el("button", { type: "button", "aria-label": "Close chat" }, "\u00D7");
  head.appendChild(closeBtn);
  var banner = el("div", { class: "banner", role: "status", hidden: "" },
    "Connecting\u2026 your messages will be sent when the connection is back.");
  var log = el("div", { class: "log", "aria-live": "polite" });
  var typing = el("div", { class: "typing", hidden: "" }, "Typing\u2026");
  log.appendChild(typing);   // always last: messages are inserted before it
  var form = el("form");
  var input = el("textarea", { "aria-label": "Your message", placeholder: "Type a message\u2026",
    maxlength: "2000" });
  form.appendChild(input);
  form.appendChild(el("button", { type: "submit" }, "Send"));
  panel.appendChild(head);
  panel.appendChild(banner);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  var bubbles = {};   // "m<server id>" or "c<client id>" -> element

  function bubble(key, role, text) {
    var node = bubbles[key];
    if (!node) {
      node = el("div", { class: "msg " + (role === "visitor" ? "visitor" : "assistant") });
      bubbles[key] = node;
      log.insertBefore(node, typing);
    }
    if (text != null) node.textContent = text;
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function setTyping(on) {
    typing.hidden = !on;
    log.scrollTop = log.scrollHeight;
  }

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { input.focus(); connect(); }
  }

  // ---- the connection ---------------------------------------------------------------------
  var ws = null;
  var ready = false;
  var attempts = 0;
  var outbox = [];      // frames not yet acknowledged, in order
  var retryTimer = null;
  var resendTimer = null;
  var resends = 0;
  var refused = false;  // closed with 4403: this page may not chat; never reconnect

  function send(frame) {
    if (ws && ready) ws.send(JSON.stringify(frame));
  }

  function connect() {
    if (ws || retryTimer || refused) return;
    ws = new WebSocket(WS_URL);
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", visitor: storage("get") }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    ws.onclose = function (event) {
      ws = null;
      ready = false;
      setTyping(false);
      if (event.code === 4403) {
        refused = true;
        banner.textContent = "The chat is not available on this page.";
        banner.hidden = false;
        return;
      }
      banner.hidden = false;
      // Exponential back-off with jitter, capped at 30 s.
      var delay = Math.min(30000, 500 * Math.pow(2, attempts++)) * (0.5 + Math.random() / 2);
      retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome":
        storage("set", frame.visitor);
        ready = true;
        attempts = 0;
        banner.hidden = true;
        (frame.history || []).forEach(function (m) {
          // A message whose ack was lost: the stored copy is the bubble already shown.
          var pending = m.client_id && bubbles["c" + m.client_id];
          if (pending && !bubbles["m" + m.id]) bubbles["m" + m.id] = pending;
          bubble("m" + m.id, m.role, m.text);
        });
        // Resend what was never acknowledged; the same ids make it exactly-once.
        outbox.forEach(send);
        break;
      case "ack":
        resends = 0;
        outbox = outbox.filter(function (f) { return f.id !== frame.id; });
        var mine = bubbles["c" + frame.id];
        if (mine) {
          mine.classList.remove("sending");
          bubbles["m" + frame.message] = mine;
        }
        break;
      case "typing":
        setTyping(!!frame.on);
        break;
      case "delta":
        var b = bubble("m" + frame.message, "assistant");
        if (b.classList.contains("failed")) {  // a retry of a reply that had failed
          b.classList.remove("failed");
          b.textContent = "";
        }
        b.textContent += frame.text;
        log.scrollTop = log.scrollHeight;
        break;
      case "reply":
        bubble("m" + frame.message, frame.role, frame.text).classList.remove("failed");
        break;
      case "error":
        if (frame.code === "unavailable") {
          if (!ready && ws) { ws.close(); return; }  // hello failed: reconnect with back-off
          scheduleResend();                          // the message stays queued, same id
        } else if (frame.id && bubbles["c" + frame.id]) {
          outbox = outbox.filter(function (f) { return f.id !== frame.id; });
          var failed = bubbles["c" + frame.id];
          failed.classList.remove("sending");
          failed.classList.add("failed");
          failed.title = frame.detail;
        } else if (frame.code === "reply_failed") {
          setTyping(false);
          var key = frame.message ? "m" + frame.message : "e" + Date.now();
          bubble(key, "assistant", frame.detail).classList.add("failed");
        }
        break;
    }
  }

  function scheduleResend() {
    if (resendTimer) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, resends++));
    resendTimer = setTimeout(function () { resendTimer = null; outbox.forEach(send); }, delay);
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var frame = { type: "message", id: uuid4(), text: text };
    bubble("c" + frame.id, "visitor", text).classList.add("sending");
    outbox.push(frame);
    send(frame);
    connect();
  }

  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  closeBtn.addEventListener("click", function () { toggle(false); launcher.focus(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { toggle(false); launcher.focus(); }
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
