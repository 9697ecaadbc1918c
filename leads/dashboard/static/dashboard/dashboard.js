// The dashboard's live feed: a WebSocket that tells this page what changed, so that htmx
// fetches the parts that show it (the views decide what the rep may see). Also the rep's
// suggested replies and error messages. No framework, no build step.
(function () {
  "use strict";
  var body = document.body;
  var status = document.getElementById("live-status");
  var toast = document.getElementById("toast");
  var conversation = body.dataset.conversation ? Number(body.dataset.conversation) : null;
  var lead = body.dataset.lead || null;
  var timers = {}, attempts = 0, missed = false;
  var pending = null, suggestedFor = null;

  function fire(name, delay) {
    clearTimeout(timers[name]);
    timers[name] = setTimeout(function () { htmx.trigger(body, name); }, delay == null ? 250 : delay);
  }

  function refreshAll() {
    fire("sb:leads", 0);
    if (lead) fire("sb:lead-" + lead, 0);
    if (conversation) fire("sb:conversation-" + conversation, 0);
  }

  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function say(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(timers.toast);
    timers.toast = setTimeout(function () { toast.hidden = true; }, 8000);
  }

  // ---- the live socket -------------------------------------------------------------------------
  function connect() {
    if (!body.dataset.liveUrl || !window.WebSocket) return;
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + body.dataset.liveUrl);
    ws.onopen = function () {
      attempts = 0;
      if (conversation) ws.send(JSON.stringify({ type: "watch", conversation: conversation }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    ws.onclose = function (event) {
      body.dataset.live = "off";
      status.hidden = false;
      if (event.code === 4401) {
        status.textContent = "Your session has ended: reload the page to log in again.";
        return;
      }
      missed = true;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts++)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "ready":
        status.hidden = true;
        body.dataset.live = "on";
        if (missed) { missed = false; refreshAll(); }  // what changed while the socket was down
        return;
      case "watching": body.dataset.watching = String(frame.conversation); return;
      case "lead":
        if (frame.lead == null) return;  // the widget's own "lead" frame, of a watched chat
        fire("sb:leads"); fire("sb:lead-" + frame.lead); return;
      case "sites": refreshAll(); return;  // joined or left a site's team
      case "message": fire("sb:conversation-" + frame.conversation, 50); return;
      case "typing": return frame.on ? live("") : live(null);
      case "delta": return live((liveText() || "") + frame.text);
      case "reply":
        live(null);
        if (conversation) fire("sb:conversation-" + conversation, 0);
        return;
      case "agent": if (lead) fire("sb:lead-" + lead, 0); return;
      case "suggestion": return suggestion(frame);
    }
  }

  // The assistant's reply as it streams in, below the transcript.
  function live(text) {
    var box = document.getElementById("live-reply");
    if (!box) return;
    box.hidden = text === null;
    box.querySelector(".text").textContent = text || "";
  }

  function liveText() {
    var box = document.getElementById("live-reply");
    return box && !box.hidden ? box.querySelector(".text").textContent : null;
  }

  // ---- suggested replies -----------------------------------------------------------------------
  function requestSuggestion() {
    var box = document.getElementById("suggestion");
    if (!box) return;
    box.hidden = false;
    box.dataset.state = "pending";
    box.querySelector(".text").textContent = "Thinking…";
    pending = "?";
    fetch(box.dataset.url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(function (response) {
        if (response.status === 202) {
          if (pending === "?") pending = response.headers.get("X-Suggestion");
          return;
        }
        var plain = !response.redirected && /^text\/plain/.test(response.headers.get("Content-Type") || "");
        return response.text().then(function (text) {
          suggestion({ done: true, error: (plain && text) || "Suggestions are unavailable (" + response.status + ")." });
        });
      })
      .catch(function () { suggestion({ done: true, error: "Could not reach the server." }); });
  }

  function suggestion(frame) {
    var box = document.getElementById("suggestion");
    if (!box || pending === null) return;
    if (frame.request && pending !== "?" && frame.request !== pending) return;  // an older one
    if (frame.request && pending === "?") pending = frame.request;
    box.querySelector(".text").textContent = frame.error || frame.text;
    if (frame.done) { box.dataset.state = frame.error ? "failed" : "done"; pending = null; }
  }

  // A fresh suggestion when the visitor has written and the rep has not started a reply.
  function maybeSuggest() {
    var composer = document.getElementById("composer");
    var messages = document.querySelectorAll("#transcript .msg[data-message]");
    var last = messages[messages.length - 1];
    if (!composer || composer.value.trim() || !last || !last.classList.contains("visitor")) return;
    if (suggestedFor === last.dataset.message) return;
    suggestedFor = last.dataset.message;
    requestSuggestion();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-suggest]")) requestSuggestion();
    var box = document.getElementById("suggestion");
    if (event.target.closest("[data-use-suggestion]") && box.dataset.state === "done") {
      var composer = document.getElementById("composer");
      composer.value = document.querySelector("#suggestion .text").textContent;
      composer.focus();
    }
  });

  // ---- htmx ------------------------------------------------------------------------------------
  // The newest message in view: the transcript scrolls, and each refresh replaces it.
  function toLatest() {
    var list = document.querySelector("#transcript .messages");
    if (list) list.scrollTop = list.scrollHeight;
  }

  // Whether the rep is busy in the takeover panel (a draft, a suggestion): a live refresh
  // would throw that away, so it waits (a send or hand-back refreshes it anyway).
  window.salesbotComposing = function () {
    var composer = document.getElementById("composer");
    var box = document.getElementById("suggestion");
    return Boolean((composer && composer.value.trim()) || (box && !box.hidden));
  };

  // A live refresh (an "sb:" event) must not throw away what the rep is doing: a fact being
  // edited, a draft. Decided here rather than in hx-trigger filters, which htmx evaluates as
  // code: the Content-Security-Policy allows no eval.
  body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var cause = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (!elt || !cause || !/^sb:/.test(cause.type)) return;
    if ((elt.id === "facts" && elt.querySelector("form")) ||
        (elt.id === "takeover" && window.salesbotComposing())) event.preventDefault();
  });

  // The check above runs when a refresh is asked for; its answer can come back after the rep
  // started typing (a takeover's own event refreshes the panel it just showed). A refresh that
  // would land on a draft is dropped: the panel it brings is no newer than what the rep sees.
  body.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var config = event.detail.requestConfig;
    if (elt && elt.id === "takeover" && config && config.verb === "get" && window.salesbotComposing()) {
      event.detail.shouldSwap = false;
    }
  });

  body.addEventListener("htmx:afterSettle", function (event) {
    var id = event.detail.elt && event.detail.elt.id;
    if (id === "transcript") toLatest();
    if (id === "transcript" || id === "takeover") maybeSuggest();
  });
  body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var detail = /^text\/plain/.test(xhr.getResponseHeader("Content-Type") || "") ? " " + xhr.responseText : "";
    say(xhr.status === 403 ? "You may not do this (403)." + detail
      : xhr.status === 404 ? "This lead is gone, or not on your sites (404)."
      : "The server could not do this (" + xhr.status + "); try again." + detail);
  });
  body.addEventListener("htmx:sendError", function () {
    say("Could not reach the server: check the connection and try again.");
  });

  connect();
  toLatest();
  maybeSuggest();
})();
