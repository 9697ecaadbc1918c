/* salesbot chat widget — embedded with one tag:
 *   <script src="https://HOST/static/salesbot/widget.js" data-site="KEY" async></script>
 * No framework, no build step. Everything lives in a shadow root, and no text from the server is
 * ever assigned as HTML: formatting builds elements and text nodes. Protocol: docs/protocol.md.
 * Host page API: salesbot.open(), .close(), .identify({email, name, user_id, expires, signature}),
 * .reset(); window events
 * salesbot:ready, salesbot:open, salesbot:close, salesbot:lead-qualified.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || (window.salesbot && typeof window.salesbot.open === "function")) return;  // twice

  var SITE = script.getAttribute("data-site") || "";
  var ORIGIN = new URL(script.src, location.href).origin;
  var WS_URL = ORIGIN.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(SITE) + "/";
  var CONFIG_URL = ORIGIN + "/api/widget/" + encodeURIComponent(SITE) + "/";
  var KEY = "salesbot:" + SITE + ":";
  var RESENDS = 4;  // "unavailable" answers in a row before a message shows as failed

  // ---- texts -------------------------------------------------------------------------------
  var TEXT = {
    en: ["Open chat", "Close chat", "{n} new", "Your message", "Type a message\u2026", "Send",
      "Typing\u2026", "Connecting\u2026 your messages will be sent when the connection is back.",
      "The chat is not available on this page.", "Sending\u2026", "Sent", "Not sent.", "Retry",
      "No answer yet. Please try again in a moment.",
      "We keep this conversation to answer you and to follow up.", "Privacy notice",
      "Accept and chat", "Assistant", "Messages", "{n} joined the chat.",
      "The assistant is back."],
    es: ["Abrir el chat", "Cerrar el chat", "{n} nuevos", "Tu mensaje", "Escribe un mensaje\u2026",
      "Enviar", "Escribiendo\u2026",
      "Conectando\u2026 tus mensajes se enviar\u00e1n cuando vuelva la conexi\u00f3n.",
      "El chat no est\u00e1 disponible en esta p\u00e1gina.", "Enviando\u2026", "Enviado",
      "No enviado.", "Reintentar", "Todav\u00eda no hay respuesta. Int\u00e9ntalo de nuevo en un momento.",
      "Guardamos esta conversaci\u00f3n para responderte y hacer seguimiento.",
      "Aviso de privacidad", "Aceptar y chatear", "Asistente", "Mensajes",
      "{n} se ha unido al chat.", "El asistente ha vuelto."],
    de: ["Chat \u00f6ffnen", "Chat schlie\u00dfen", "{n} neu", "Ihre Nachricht",
      "Nachricht eingeben\u2026", "Senden", "Schreibt\u2026",
      "Verbindung wird hergestellt\u2026 Ihre Nachrichten werden gesendet, sobald die Verbindung wieder steht.",
      "Der Chat ist auf dieser Seite nicht verf\u00fcgbar.", "Wird gesendet\u2026", "Gesendet",
      "Nicht gesendet.", "Erneut versuchen",
      "Noch keine Antwort. Bitte versuchen Sie es gleich noch einmal.",
      "Wir speichern dieses Gespr\u00e4ch, um Ihnen zu antworten und uns bei Ihnen zu melden.",
      "Datenschutzhinweis", "Zustimmen und chatten", "Assistent", "Nachrichten",
      "{n} ist dem Chat beigetreten.", "Der Assistent ist zur\u00fcck."],
    fr: ["Ouvrir le chat", "Fermer le chat", "{n} nouveaux", "Votre message",
      "\u00c9crivez un message\u2026", "Envoyer", "En train d\u2019\u00e9crire\u2026",
      "Connexion\u2026 vos messages seront envoy\u00e9s d\u00e8s le retour de la connexion.",
      "Le chat n\u2019est pas disponible sur cette page.", "Envoi\u2026", "Envoy\u00e9",
      "Non envoy\u00e9.", "R\u00e9essayer", "Pas encore de r\u00e9ponse. Veuillez r\u00e9essayer dans un instant.",
      "Nous conservons cette conversation pour vous r\u00e9pondre et vous recontacter.",
      "Politique de confidentialit\u00e9", "Accepter et discuter", "Assistant", "Messages",
      "{n} a rejoint le chat.", "L\u2019assistant est de retour."]
  };
  var NAMES = ["open", "close", "unread", "message", "placeholder", "send", "typing", "offline",
    "refused", "sending", "sent", "failed", "retry", "timeout", "notice", "privacy", "accept",
    "assistant", "messages", "joined", "left"];

  function language() {
    var wanted = [script.getAttribute("data-lang"), document.documentElement.lang]
      .concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").slice(0, 2).toLowerCase();
      if (TEXT[code]) return code;
    }
    return "en";
  }
  var LANG = language();
  function t(name, n) { return TEXT[LANG][NAMES.indexOf(name)].replace("{n}", n); }

  // ---- small helpers -------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
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

  // Saved state: value undefined reads, null removes. Blocked storage: it lasts as long as the page.
  function saved(name, value, session) {
    try {
      var area = session ? sessionStorage : localStorage;
      if (value === undefined) {
        var raw = area.getItem(KEY + name);
        try { return JSON.parse(raw); } catch (e) { return raw; }  // a raw token, stored by v1
      }
      if (value === null) area.removeItem(KEY + name);
      else area.setItem(KEY + name, JSON.stringify(value));
    } catch (e) { /* private mode, quota, or not JSON */ }
    return null;
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("salesbot:" + name, { detail: detail || {} }));
  }

  function backoff(attempt, cap) {
    return Math.min(cap, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
  }

  // ---- safe formatting: paragraphs, lists, links, bold — elements and text nodes only -------
  var INLINE = /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"']+)|\*\*([^*\n]+)\*\*/g;
  var BULLET = /^\s*([-*\u2022]|\d{1,3}[.)])\s+(.*)$/;

  function inline(parent, text) {
    var last = 0, m;
    INLINE.lastIndex = 0;
    while ((m = INLINE.exec(text))) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      last = m.index + m[0].length;
      if (m[4]) { parent.appendChild(el("strong", {}, m[4])); continue; }
      var url = m[2] || m[3], trail = m[3] ? /[.,;:!?)\]'"]*$/.exec(url)[0] : "";
      url = url.slice(0, url.length - trail.length);
      parent.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow ugc" },
        m[1] || url));
      if (trail) parent.appendChild(document.createTextNode(trail));
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function format(target, text) {
    target.textContent = "";
    var para = null, list = null;
    text.split("\n").forEach(function (line) {
      var bullet = BULLET.exec(line);
      if (!line.trim()) { para = list = null; return; }
      if (bullet) {
        var kind = /\d/.test(bullet[1]) ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = target.appendChild(el(kind));
          if (kind === "ol" && parseInt(bullet[1], 10) > 1) list.setAttribute("start", parseInt(bullet[1], 10));
        }
        para = null;
        inline(list.appendChild(el("li")), bullet[2]);
      } else {
        list = null;
        if (para) para.appendChild(el("br")); else para = target.appendChild(el("p"));
        inline(para, line);
      }
    });
  }

  // ---- the view ------------------------------------------------------------------------------
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;",
    "border:0;background:var(--brand);color:var(--on-brand);cursor:pointer;display:flex;",
    "align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);",
    "z-index:2147483646}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;border-radius:11px;",
    "background:#b91c1c;color:#fff;font:600 12px/22px system-ui,sans-serif;padding:0 6px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:370px;max-width:calc(100vw - 40px);",
    "height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;display:flex;",
    "flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;",
    "z-index:2147483647;color:#1f2933;font-size:15px;line-height:1.45}",
    ".left .launcher,.left .panel{right:auto;left:20px}",
    "[hidden]{display:none!important}",
    ".head{background:var(--brand);color:var(--on-brand);padding:10px 8px 10px 16px;display:flex;",
    "align-items:center;gap:10px}",
    ".head img{width:32px;height:32px;border-radius:50%;object-fit:cover}",
    "h2{flex:1;margin:0;font-size:16px;font-weight:600}",
    ".head button{background:none;border:0;color:inherit;font-size:24px;width:44px;height:44px;",
    "cursor:pointer;border-radius:6px}",
    ".banner{background:#fff3c4;color:#5c4400;padding:6px 12px;font-size:13px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;",
    "background:#f5f7fa}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:12px;overflow-wrap:anywhere}",
    ".msg p{margin:0 0 .5em}.msg p:last-child{margin:0}",
    ".msg ul,.msg ol{margin:0 0 .5em;padding-left:1.3em}",
    ".msg a{color:var(--brand-text)}",
    ".visitor{align-self:flex-end;background:var(--brand);color:var(--on-brand);",
    "border-bottom-right-radius:4px}",
    ".visitor .body{white-space:pre-wrap}",
    ".assistant,.agent{align-self:flex-start;background:#fff;border:1px solid #d9e2ec;",
    "border-bottom-left-radius:4px}",
    ".state{display:block;font-size:12px;margin-top:2px;text-align:right}",
    ".who{display:block;font-size:12px;font-weight:600;margin-bottom:2px}",
    ".system{align-self:center;font-size:12px;color:#52606d;background:none;border:0}",
    ".msg.failed{background:#fde8e8;color:#8a1c1c;border:1px solid #f5b5b5}",
    ".msg button,.notice button{font:600 13px system-ui,sans-serif;border-radius:6px;cursor:pointer;",
    "padding:4px 10px;margin:6px 0 0 6px;border:1px solid currentColor;background:#fff;color:#8a1c1c}",
    ".notice{font-size:13px;background:#fff;border:1px solid #d9e2ec;border-radius:8px;",
    "padding:8px 12px;color:#334e68}",
    ".notice a{color:var(--brand-text)}",
    ".notice button{display:block;margin:8px 0 0;background:var(--brand);color:var(--on-brand);",
    "border-color:var(--brand);padding:6px 12px}",
    ".typing{align-self:flex-start;color:#486581;font-size:13px;padding:0 4px}",
    "form{display:flex;border-top:1px solid #d9e2ec;background:#fff}",
    "textarea{flex:1;border:0;resize:none;padding:12px;font-size:15px;height:52px;",
    "background:#fff;color:#1f2933}",
    "textarea:disabled{background:#f5f7fa}",
    "form button{border:0;background:none;color:var(--brand-text);font-weight:600;",
    "font-size:15px;padding:0 16px;cursor:pointer}",
    "form button:disabled{color:#627d98;cursor:default}",
    ":focus-visible{outline:3px solid #0b1f4d;outline-offset:2px;box-shadow:0 0 0 5px #fff}",
    "textarea:focus-visible{outline-offset:-3px;box-shadow:none}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);",
    "white-space:nowrap}",
    "@media (max-width:480px){.panel,.left .panel{top:0;right:0;bottom:0;left:0;width:auto;",
    "max-width:none;height:auto;max-height:none;border-radius:0}.open .launcher{display:none}}"
  ].join("");

  var host = el("div", { id: "salesbot-widget" });
  // Inline !important beats any host-page rule, even `div{display:none!important}`.
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("display", "block", "important");
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();  // not an inline <style>: allowed under a strict CSP
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (e) { root.appendChild(el("style", {}, CSS)); }

  var shell = el("div");
  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false" });
  launcher.appendChild(chatIcon());
  var badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  launcher.appendChild(badge);
  var panel = el("section", { class: "panel", role: "dialog", "aria-labelledby": "sb-title",
    hidden: "" });
  var head = el("div", { class: "head" });
  var avatar = el("img", { alt: "", hidden: "" });
  var title = el("h2", { id: "sb-title" });
  var closeBtn = el("button", { type: "button", "aria-label": t("close") }, "\u00d7");
  [avatar, title, closeBtn].forEach(function (n) { head.appendChild(n); });
  var banner = el("div", { class: "banner", role: "status", hidden: "" });
  // Not a live region itself: streamed text would be read out piece by piece. `live` is.
  var log = el("div", { class: "log", role: "log", "aria-live": "off", tabindex: "0",
    "aria-label": t("messages") });
  var notice = el("div", { class: "notice", hidden: "" });
  var acceptBtn = el("button", { type: "button" }, t("accept"));
  var typing = el("div", { class: "typing", hidden: "" }, t("typing"));
  var live = el("div", { class: "sr", "aria-live": "polite" });
  var form = el("form");
  var input = el("textarea", { "aria-label": t("message"), placeholder: t("placeholder") });
  var sendBtn = el("button", { type: "submit" }, t("send"));
  form.appendChild(input);
  form.appendChild(sendBtn);
  [head, banner, log, form, live].forEach(function (n) { panel.appendChild(n); });
  shell.appendChild(launcher);
  shell.appendChild(panel);
  root.appendChild(shell);

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

  // ---- state ---------------------------------------------------------------------------------
  var config = null;
  var mounted = false;
  var refused = false;
  var items = {};        // "c<client id>", "m<server id>", "greeting", "timeout" -> message item
  var lastSent = null;   // the visitor item showing "Sent"
  var outbox = saved("outbox");  // frames not yet acknowledged, in order; kept over reloads
  if (!Array.isArray(outbox)) outbox = [];
  var identity = saved("identity");  // {email, name, signature, id, conversation}: identify()
  var consented = !!saved("consented");
  var mustConsent = false;  // the server asked for consent (the cached configuration did not)
  var conversation = null;
  var agent = null;  // the name of the person from the team in the chat; null: the assistant
  var unread = 0;
  var ws = null, ready = false, attempts = 0, resends = 0, lastSeen = 0;
  var retryTimer = null, resendTimer = null, beat = null, replyTimer = null;
  var held = false;  // a message the server told to wait for the reply in flight ("busy")
  var idle = false;  // the server closed the idle socket: open it when the visitor is back

  // ---- messages ------------------------------------------------------------------------------
  function item(key, role, before) {
    var it = items[key];
    if (!it) {
      var kind = role === "visitor" ? "visitor" : role === "agent" ? "agent" : "assistant";
      it = items[key] = { node: el("div", { class: "msg " + kind }), role: kind, text: "" };
      it.body = it.node.appendChild(el("div", { class: "body" }));
      log.insertBefore(it.node, before || typing);
    }
    return it;
  }

  function setText(it, text) {
    it.text = text;
    if (it.role === "visitor") it.body.textContent = text; else format(it.body, text);
    scroll();
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function button(it, label, onClick) {
    if (it.button) it.button.remove();
    it.button = it.node.appendChild(el("button", { type: "button" }, label));
    it.button.addEventListener("click", function () { it.button.remove(); it.button = null; onClick(); });
  }

  function setState(it, state, detail, retry) {
    if (!it.state) it.state = it.node.appendChild(el("span", { class: "state" }));
    it.state.textContent = t(state) + (detail ? " " + detail : "");
    it.node.classList.toggle("failed", state === "failed");
    if (state === "failed") announce(it.state.textContent);
    if (it.button) { it.button.remove(); it.button = null; }
    if (retry) button(it, t("retry"), function () { setState(it, "sending"); queue(it.frame); });
    if (state === "sent") {
      if (lastSent && lastSent !== it && lastSent.state) { lastSent.state.remove(); lastSent.state = null; }
      lastSent = it;
    }
  }

  function announce(text) {
    live.appendChild(el("div", {}, text));
    while (live.childNodes.length > 3) live.removeChild(live.firstChild);
  }

  function firstPending() {
    for (var i = 0; i < outbox.length; i++) {
      var it = items["c" + outbox[i].id];
      if (it) return it.node;
    }
    return null;
  }

  function visitorItem(frame, state) {
    var it = item("c" + frame.id, "visitor");
    it.frame = frame;
    setText(it, frame.text);
    if (state) setState(it, state);
    return it;
  }

  // ---- typing and the wait for a reply ------------------------------------------------------
  function expectReply(show) {
    if (show) typing.hidden = false;
    clearTimeout(replyTimer);
    replyTimer = setTimeout(replyTimedOut, config.reply_timeout_seconds * 1000);
    scroll();
  }

  function replyDone() {
    typing.hidden = true;
    clearTimeout(replyTimer);
    var late = items.timeout;
    if (late) { late.node.remove(); delete items.timeout; }
    if (held) { held = false; outbox.forEach(send); }  // what waited for this reply ("busy")
  }

  function replyTimedOut() {
    typing.hidden = true;
    var it = item("timeout", "assistant");
    setText(it, t("timeout"));
    it.node.classList.add("failed");
    announce(t("timeout"));
  }

  // ---- the connection ------------------------------------------------------------------------
  function saveOutbox() { saved("outbox", outbox.length ? outbox : null); }

  function send(frame) {
    if (ws && ready) ws.send(JSON.stringify(frame));
  }

  function queue(frame) {
    outbox = outbox.filter(function (f) { return f.id !== frame.id; });
    outbox.push(frame);
    saveOutbox();
    send(frame);
    connect();
  }

  function unqueue(id) {
    var found = null;
    outbox = outbox.filter(function (f) { if (f.id === id) found = f; return f.id !== id; });
    saveOutbox();
    return found;
  }

  function connect() {
    if (ws || retryTimer || refused || !mounted) return;
    idle = false;
    var sock = ws = new WebSocket(WS_URL);
    sock.onopen = function () {
      lastSeen = Date.now();
      sock.send(JSON.stringify({ type: "hello", visitor: saved("visitor") }));
      // No welcome in time (a stalled server): try again, with back-off.
      setTimeout(function () { if (sock === ws && !ready) drop(); }, 4 * config.heartbeat_seconds * 1000);
    };
    sock.onmessage = function (event) {
      if (sock !== ws) return;
      lastSeen = Date.now();
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    };
    sock.onclose = function (event) { if (sock === ws) lost(event.code); };
  }

  // 4408: closed for being idle, opened again when the visitor comes back; 4429: the network
  // holds too many chats, tried again in a minute; a refused hello says when (`wait`).
  function lost(code, wait, text) {
    ws = null;
    ready = false;
    clearInterval(beat);
    typing.hidden = true;
    clearTimeout(replyTimer);
    if (code === 4403) { refuse("this page's origin may not open the chat"); return; }
    if (code === 4408) { idle = true; return; }
    if (code === 4410) forget();  // the conversation was erased: start afresh
    banner.textContent = text || t("offline");
    banner.hidden = false;
    wait = wait || (code === 4429 ? 60000 : backoff(attempts++, 30000));
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, wait);
  }

  // Everything this browser kept of the conversation: what shows, what waits, who it was.
  function forget() {
    saved("visitor", null);
    identity = saved("identity", null);
    outbox = [];
    saveOutbox();
    Object.keys(items).forEach(function (key) {
      if (key !== "greeting" && items[key].node) { items[key].node.remove(); delete items[key]; }
    });
    lastSent = null;
    attempts = 0;
  }

  // A socket that stopped answering (half-open: no close ever comes) is dropped, not waited on.
  function drop(wait, text) {
    var sock = ws;
    if (!sock) return;
    ws = null;
    sock.onclose = null;
    try { sock.close(); } catch (e) { /* already closing */ }
    lost(1006, wait, text);
  }

  // Dead when a ping has had no answer for a whole interval. Measured from the ping, not by the
  // clock: a hidden tab's timers run late, and that is no reason to drop a healthy socket.
  function heartbeat() {
    var every = config.heartbeat_seconds * 1000, pinged = 0;
    clearInterval(beat);
    beat = setInterval(function () {
      if (pinged && lastSeen < pinged && Date.now() - pinged > every) return drop();
      if (!pinged || lastSeen >= pinged) { pinged = Date.now(); send({ type: "ping" }); }
    }, every);
  }

  function sendIdentity() {
    if (identity && identity.conversation !== conversation && !consentNeeded()) {
      send({ type: "identify", id: identity.id, email: identity.email, name: identity.name,
        user_id: identity.user_id || "", expires: identity.expires || 0,
        signature: identity.signature });
    }
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome": return welcome(frame);
      case "ack": return ack(frame);
      case "typing": return frame.on ? expectReply(true) : replyDone();
      case "delta":
        var it = item("m" + frame.message, "assistant");
        if (it.node.classList.contains("failed")) {  // a retry of a reply that had failed
          it.node.classList.remove("failed");
          if (it.button) { it.button.remove(); it.button = null; }
          it.text = "";
        }
        setText(it, it.text + frame.text);
        expectReply(true);
        return;
      case "agent":
        setAgent(frame.status === "joined" ? frame.name || "" : null, true);
        return;
      case "reply":
        var done = item("m" + frame.message, frame.role);
        if (frame.role === "agent") label(done, frame.name);
        done.node.classList.remove("failed");
        if (done.button) { done.button.remove(); done.button = null; }
        setText(done, frame.text);
        replyDone();
        announce((frame.role === "agent" && frame.name || config.title || t("assistant")) + ": " + done.text);
        if (panel.hidden) setUnread(unread + 1);
        return;
      case "pong":
        attempts = 0;  // a connection that answers: the next loss starts the back-off afresh
        return;
      case "lead":  // the event fires once per conversation, whatever the tabs and reloads
        if (frame.status !== "qualified" || saved("qualified") === conversation) return;
        saved("qualified", conversation);
        emit("lead-qualified", { conversation: conversation });
        return;
      case "error": return error(frame);
    }
  }

  // A person from the team joined (name) or left (null): no typing or reply timeout meanwhile.
  function setAgent(name, tell) {
    if (name === agent) return;
    agent = name;
    if (agent !== null) replyDone();
    if (!tell) return;
    var it = item("s" + Date.now(), "system");
    it.node.className = "msg system";
    setText(it, agent !== null ? t("joined", agent) : t("left"));
    announce(it.text);
  }

  function label(it, name) {
    if (!it.who && name) it.who = it.node.insertBefore(el("span", { class: "who" }, name), it.body);
  }

  function welcome(frame) {
    saved("visitor", frame.visitor);
    conversation = frame.conversation;
    setAgent(frame.agent ? frame.agent.name || "" : null, false);
    ready = true;
    banner.hidden = true;
    setConsented(!!frame.consent || outbox.some(function (f) { return f.type === "consent"; }));
    (frame.history || []).forEach(function (m) {
      var key = m.client_id ? "c" + m.client_id : "m" + m.id;
      var it = items[key] || items["m" + m.id] || item(key, m.role, firstPending());
      items["m" + m.id] = it;
      if (m.client_id) {
        it.frame = { type: "message", id: m.client_id, text: m.text };
        if (unqueue(m.client_id)) setState(it, "sent");  // stored; only its ack was lost
      }
      if (it.text !== m.text) setText(it, m.text);
      if (m.role === "agent") label(it, m.name);
    });
    heartbeat();
    outbox.forEach(send);  // what was never acknowledged; the same ids make it exactly-once
    sendIdentity();
  }

  function ack(frame) {
    resends = 0;
    if (identity && frame.id === identity.id) {
      identity.conversation = conversation;
      saved("identity", identity);
      return;
    }
    var sent = unqueue(frame.id);
    if (!sent) return;
    if (sent.type === "consent") { setConsented(true); return; }
    var it = items["c" + sent.id];
    if (it) {
      items["m" + frame.message] = it;
      setState(it, "sent");
    }
    if (agent === null) expectReply(false);  // a person answers in their own time
  }

  function error(frame) {
    if (identity && frame.id === identity.id) {
      if (frame.code === "unavailable" || frame.code === "consent_required") return;  // next welcome
      if (window.console) console.warn("salesbot.identify: " + frame.detail);
      identity = saved("identity", null);
      return;
    }
    if (frame.code === "reply_failed") {
      var it = item("m" + frame.message, "assistant");
      replyDone();
      setText(it, frame.detail);
      it.node.classList.add("failed");
      var asked = items["m" + frame.in_reply_to];
      if (frame.retryable && asked && asked.frame) {
        button(it, t("retry"), function () { queue(asked.frame); expectReply(true); });
      }
      announce(frame.detail);
      return;
    }
    if (frame.code === "unavailable") {
      if (!ready) return drop();  // hello failed: reconnect with back-off
      if (resendTimer) return;    // this round's other answers
      if (resends < RESENDS) return scheduleResend();
      outbox.forEach(function (f) {  // the server keeps refusing: let the visitor decide
        var pending = items["c" + f.id];
        if (pending) setState(pending, "failed", "", true);
      });
      outbox = outbox.filter(function (f) { return !items["c" + f.id]; });
      saveOutbox();
      resends = 0;
      return;
    }
    if (frame.code === "busy") { held = true; return; }  // sent again once the reply is done
    if (frame.code === "rate_limited") {  // kept, and sent again when the server says
      var wait = (frame.retry_after || 60) * 1000;
      if (!ready) return drop(wait, frame.detail);
      var slow = frame.id && items["c" + frame.id];
      if (slow) setState(slow, "sending", frame.detail);
      clearTimeout(resendTimer);
      resendTimer = setTimeout(function () { resendTimer = null; outbox.forEach(send); }, wait);
      return;
    }
    if (frame.code === "consent_required") {  // the message waits for the visitor's consent
      mustConsent = true;
      return setConsented(false);
    }
    var failed = frame.id && unqueue(frame.id);
    var mine = failed && items["c" + failed.id];
    if (mine) {
      setState(mine, "failed", frame.detail, false);
      if (!input.value) input.value = failed.text;  // to shorten or fix and send again
    }
  }

  function scheduleResend() {
    resendTimer = setTimeout(function () { resendTimer = null; outbox.forEach(send); },
      backoff(++resends, 30000));
  }

  // ---- consent -------------------------------------------------------------------------------
  function consentNeeded() {
    var required = mustConsent || !!(config && config.privacy && config.privacy.consent_required);
    return required && !consented;
  }

  function setConsented(on) {
    consented = on;
    saved("consented", on || null);
    renderNotice();
  }

  function accept() {
    outbox.unshift({ type: "consent", id: uuid4(), notice: (config.privacy || {}).url || "" });
    saveOutbox();
    setConsented(true);
    outbox.forEach(send);  // the server takes frames in order: consent first
    sendIdentity();
    connect();
    input.focus();
  }

  function renderNotice() {  // in place: the Accept button may have the focus
    var needed = consentNeeded();
    if (needed) notice.hidden = false;
    acceptBtn.hidden = !needed;
    input.disabled = sendBtn.disabled = needed;
  }

  // ---- opening, closing, the host page's API -------------------------------------------------
  function setUnread(n) {
    unread = n;
    badge.textContent = n;
    badge.hidden = !n;
    launcher.setAttribute("aria-label", t("open") + (n ? " (" + t("unread", n) + ")" : ""));
  }

  function toggle(open, focus) {
    if (!mounted || open === !panel.hidden) return;
    panel.hidden = !open;
    shell.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    saved("open", open || null, true);  // a new page of the site opens it again
    if (open) {
      setUnread(0);
      connect();
      scroll();
      if (focus) (input.disabled ? acceptBtn : input).focus();
    } else if (focus) {
      launcher.focus();
    }
    emit(open ? "open" : "close");
  }

  function identify(who) {
    who = who || {};
    var email = typeof who.email === "string" ? who.email.trim() : "";
    var name = typeof who.name === "string" ? who.name.trim() : "";
    var signature = typeof who.signature === "string" ? who.signature : "";
    if (!email && !name) throw new TypeError("salesbot.identify({email, name}) needs an email or a name");
    var userId = who.user_id == null ? "" : String(who.user_id);
    var expires = typeof who.expires === "number" ? Math.floor(who.expires) : 0;
    if (identity && identity.email === email && identity.name === name &&
      identity.signature === signature) return;
    if (identity && identity.email && email && identity.email.toLowerCase() !== email.toLowerCase()) {
      reset();  // another person on this browser: not their conversation
    }
    identity = { email: email, name: name, user_id: userId, expires: expires, signature: signature,
      id: uuid4(), conversation: null };
    saved("identity", identity);
    sendIdentity();
  }

  // Forget the visitor (a log-out, another user on a shared computer) and start afresh.
  function reset() {
    forget();
    if (ws) drop(1); else connect();
  }

  var waiting = [];  // calls made before the configuration arrived
  function whenMounted(fn) {
    return function () {
      var args = arguments;
      if (refused) return;
      if (mounted) fn.apply(null, args); else waiting.push(function () { fn.apply(null, args); });
    };
  }
  var api = {
    version: 1,
    open: whenMounted(function () { toggle(true, true); }),
    close: whenMounted(function () { toggle(false, false); }),
    identify: identify,
    reset: whenMounted(reset),
    push: function (call) {
      try {
        if (call && call[0] !== "push" && typeof api[call[0]] === "function") {
          api[call[0]].apply(null, call.slice(1));
        }
      } catch (e) {
        if (window.console) console.warn("salesbot." + (call && call[0]) + ": " + e.message);
      }
    }
  };
  var early = Array.isArray(window.salesbot) ? window.salesbot : [];
  window.salesbot = api;

  // ---- configuration and mounting ------------------------------------------------------------
  function apply(c) {
    config = c;
    host.style.setProperty("--brand", c.colors.brand);
    host.style.setProperty("--on-brand", c.colors.on_brand);
    host.style.setProperty("--brand-text", c.colors.brand_text);
    shell.classList.toggle("left", c.position === "left");
    title.textContent = c.title;
    avatar.hidden = !c.avatar_url;
    if (c.avatar_url) avatar.src = c.avatar_url;
    input.maxLength = c.max_chars;
    if (c.greeting) setText(item("greeting", "assistant", log.firstChild), c.greeting);
    else if (items.greeting) { items.greeting.node.remove(); delete items.greeting; }
    notice.hidden = !c.privacy;
    notice.textContent = t("notice") + " ";
    if (c.privacy && /^https?:\/\//.test(c.privacy.url)) {
      notice.appendChild(el("a", { href: c.privacy.url, target: "_blank", rel: "noopener noreferrer" },
        t("privacy")));
    }
    notice.appendChild(acceptBtn);
    renderNotice();
  }

  function mount(c) {
    log.appendChild(notice);
    log.appendChild(typing);
    apply(c);
    setUnread(0);
    outbox.forEach(function (f) { if (f.type === "message") visitorItem(f, "sending"); });
    (document.body || document.documentElement).appendChild(host);
    mounted = true;
    if (saved("open", undefined, true)) toggle(true, false);
    if (outbox.length) connect();
    waiting.splice(0).forEach(function (fn) { fn(); });
    emit("ready", { language: LANG });
  }

  function refuse(reason) {
    refused = true;
    saved("config", null);
    if (window.console) console.warn("salesbot: the chat is off on this page: " + reason);
    if (ws) drop();
    clearTimeout(retryTimer);
    clearInterval(beat);
    host.remove();
    mounted = false;
  }

  function fetchConfig(tries) {
    fetch(CONFIG_URL, { credentials: "omit" }).then(function (response) {
      if (response.status === 403 || response.status === 404) {
        return response.json().then(function (body) { refuse(body.detail); });
      }
      if (!response.ok) throw new Error("HTTP " + response.status);  // ask again later
      return response.json().then(function (body) {
        saved("config", { at: Date.now(), config: body });
        if (mounted) apply(body); else if (!refused) mount(body);
      });
    }).catch(function () {
      // Unreachable: keep the cached configuration (if any) and ask again later.
      setTimeout(function () { fetchConfig(tries + 1); }, backoff(tries, 300000));
    });
  }

  launcher.addEventListener("click", function () { toggle(panel.hidden, true); });
  closeBtn.addEventListener("click", function () { toggle(false, true); });
  acceptBtn.addEventListener("click", accept);
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") toggle(false, true);
    if (e.key === "Tab" && matchMedia("(max-width:480px)").matches) trapFocus(e);
  });
  // Back after the server closed an idle chat: the visitor types, or comes back to the page.
  input.addEventListener("focus", function () { if (idle) connect(); });
  document.addEventListener("visibilitychange", function () {
    if (idle && !document.hidden && !panel.hidden) connect();
  });
  window.addEventListener("online", function () {
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; connect(); }
  });

  // Full screen on a phone, the panel is modal: Tab cycles inside it.
  function trapFocus(e) {
    var all = Array.prototype.filter.call(panel.querySelectorAll("button,a[href],textarea"),
      function (n) { return !n.disabled && n.offsetParent !== null; });
    var first = all[0], last = all[all.length - 1], active = root.activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  }

  function submit() {
    var text = input.value.trim();
    if (!text || consentNeeded()) return;
    input.value = "";
    var frame = { type: "message", id: uuid4(), text: text };
    visitorItem(frame, "sending");
    queue(frame);
  }

  early.forEach(api.push);
  var cached = saved("config");
  try {
    if (cached && cached.config) mount(cached.config);
  } catch (e) {  // a copy this version cannot read: fetch a fresh one
    cached = saved("config", null);
  }
  if (!cached || !(Date.now() - cached.at < cached.config.max_age_seconds * 1000)) fetchConfig(0);
})();
