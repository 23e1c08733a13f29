/* Tutoring chat: one websocket per conversation. The server sends the history on (re)connect,
   each stored message once ("message"), a tutor's answer in parts first ("stream"), typing and
   presence notices, and errors (e.g. the rate limit). Text is always inserted as text, never HTML. */
(function () {
  "use strict";

  var root = document.querySelector("[data-chat]");
  if (!root || !("WebSocket" in window)) return;

  var role = root.getAttribute("data-role");
  var log = root.querySelector("[data-chat-log]");
  var empty = root.querySelector("[data-chat-empty]");
  var typingLine = root.querySelector("[data-chat-typing]");
  var statusBadge = root.querySelector("[data-chat-status]");
  var errorBox = root.querySelector("[data-chat-error]");
  var form = root.querySelector("[data-chat-form]");
  var input = form.querySelector("textarea");
  var sendButton = root.querySelector("[data-chat-send]");
  var socket = null;
  var attempts = 0;
  var typingSent = false;
  var typingTimer = null;
  var LABELS = { student: role === "student" ? "You" : "Student", tutor: "Tutor", teacher: "Teacher" };
  var TYPING = { tutor: "The tutor is typing…", teacher: "Your teacher is typing…", student: "The student is typing…" };

  function setStatus(on, text) {
    statusBadge.hidden = false;
    statusBadge.className = "live " + (on ? "live--on" : "live--off");
    statusBadge.textContent = text;
    sendButton.disabled = !on;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function appendText(parent, text) {
    text.split(/\n/).forEach(function (line, i) {
      if (i) parent.appendChild(document.createElement("br"));
      parent.appendChild(document.createTextNode(line));
    });
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function itemFor(id) {
    return log.querySelector('[data-message-id="' + String(id) + '"]');
  }

  function buildItem(message) {
    var li = document.createElement("li");
    li.className = "chat__msg chat__msg--" + message.sender;
    li.setAttribute("data-message-id", String(message.id));
    li.setAttribute("data-sender", message.sender);
    if (message.reply_to != null) li.setAttribute("data-reply-to", String(message.reply_to));

    var head = document.createElement("div");
    head.className = "chat__meta";
    var who = document.createElement("span");
    who.className = "chat__who";
    who.textContent = message.sender === "teacher" ? message.author + " (teacher)" : LABELS[message.sender] || message.sender;
    head.appendChild(who);
    if (message.intent === "answer_request" && message.sender === "tutor" && message.hint_level) {
      var hint = document.createElement("span");
      hint.className = "pill pill--student";
      hint.textContent = "Hint " + message.hint_level;
      head.appendChild(hint);
    }
    if (message.created_at) {
      var time = document.createElement("time");
      time.dateTime = message.created_at;
      time.textContent = new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });  // as the pages write times
      head.appendChild(time);
    }
    li.appendChild(head);

    var body = document.createElement("div");
    body.className = "chat__text";
    appendText(body, message.text || "");
    li.appendChild(body);

    if (message.citations && message.citations.length) {
      var sources = document.createElement("div");
      sources.className = "chat__sources";
      var label = document.createElement("span");
      label.className = "chat__sources-label";
      label.textContent = message.intent === "next_step" || message.intent === "site_help" ? "Links:" : "Sources:";
      sources.appendChild(label);
      var list = document.createElement("ul");
      message.citations.forEach(function (c) {
        if (!c.url) return;
        var item = document.createElement("li");
        var a = document.createElement("a");
        a.href = c.url;
        a.className = "chip";
        a.textContent = c.section && c.section !== c.title ? c.title + " — " + c.section : c.title;
        item.appendChild(a);
        list.appendChild(item);
      });
      sources.appendChild(list);
      li.appendChild(sources);
    }
    return li;
  }

  function streamingFor(replyTo) {
    return log.querySelector('[data-streaming-for="' + String(replyTo) + '"]');
  }

  function render(message) {
    if (empty) { empty.remove(); empty = null; }
    var item = buildItem(message);
    var existing = itemFor(message.id) || (message.reply_to != null && streamingFor(message.reply_to));
    if (existing) log.replaceChild(item, existing); else log.appendChild(item);
    scrollToEnd();
  }

  function stream(replyTo, delta) {
    if (empty) { empty.remove(); empty = null; }
    var item = streamingFor(replyTo);
    if (!item) {
      if (log.querySelector('.chat__msg--tutor[data-reply-to="' + String(replyTo) + '"]')) return;  // already whole
      item = buildItem({ id: "", sender: "tutor", text: "" });
      item.classList.add("chat__msg--streaming");
      item.setAttribute("data-streaming-for", String(replyTo));
      log.appendChild(item);
    }
    appendText(item.querySelector(".chat__text"), delta);
    scrollToEnd();
  }

  function notice(text) {
    var li = document.createElement("li");
    li.className = "chat__notice muted";
    li.textContent = text;
    log.appendChild(li);
    scrollToEnd();
  }

  function onEvent(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (data.type === "history") {
      Array.prototype.slice.call(log.querySelectorAll(".chat__msg")).forEach(function (el) { el.remove(); });
      data.messages.forEach(render);
    } else if (data.type === "message") {
      render(data.message);
      if (data.message.sender !== role) typingLine.hidden = true;
    } else if (data.type === "stream") {
      stream(data.reply_to, data.delta);
    } else if (data.type === "typing") {
      typingLine.textContent = TYPING[data.sender] || "";
      typingLine.hidden = !data.typing;
    } else if (data.type === "presence") {
      notice(data.joined ? data.name + " (your teacher) joined the conversation." : data.name + " (your teacher) left the conversation.");
    } else if (data.type === "error") {
      showError(data.message);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket-path"));
    socket.addEventListener("open", function () {
      attempts = 0;
      setStatus(true, "Connected");
    });
    socket.addEventListener("message", onEvent);
    socket.addEventListener("close", function (event) {
      setStatus(false, "Disconnected");
      if (event.code === 4401 || event.code === 4403) {
        showError("You cannot use this chat. Sign in again, or check that you are enrolled in the course.");
        return;
      }
      attempts += 1;
      if (attempts <= 8) {
        setStatus(false, "Reconnecting…");
        window.setTimeout(connect, Math.min(30000, 500 * Math.pow(2, attempts)));
      } else {
        showError("The chat connection was lost. Reload the page to reconnect.");
      }
    });
  }

  function sendTyping(on) {
    if (!socket || socket.readyState !== WebSocket.OPEN || typingSent === on) return;
    typingSent = on;
    socket.send(JSON.stringify({ type: "typing", typing: on }));
  }

  input.addEventListener("input", function () {
    sendTyping(input.value.trim().length > 0);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { sendTyping(false); }, 4000);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    showError("");
    socket.send(JSON.stringify({ type: "message", text: text }));
    input.value = "";
    sendTyping(false);
    input.focus();
  });

  connect();
})();
