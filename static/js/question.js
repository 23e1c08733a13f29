/* Question page: a character counter for the answer, a submit button that cannot send the answer twice,
   and live submission status over a websocket.
   Everything here is an enhancement: without JavaScript or without a socket the page still works. */
(function () {
  "use strict";

  var STATUS_LABELS = { received: "Received", grading: "Grading", graded: "Graded", needs_review: "Needs review" };

  // What Python's str.strip() removes (str.isspace), which differs from String.prototype.trim().
  var SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+";
  var OUTER_SPACE = new RegExp("^" + SPACE + "|" + SPACE + "$", "g");

  // The length services.validate_answer_text measures: code points (not UTF-16 units, so an emoji is
  // one) of the stripped answer, whose line breaks the browser sends as two characters (CRLF).
  function answerLength(value) {
    var text = value.replace(OUTER_SPACE, "");
    var breaks = text.match(/\n/g);
    return Array.from(text).length + (breaks ? breaks.length : 0);
  }

  function setupCounter() {
    var area = document.querySelector("textarea[data-max-chars]");
    var out = document.querySelector("[data-char-count]");
    if (!area || !out) return;
    var max = parseInt(area.getAttribute("data-max-chars"), 10);
    function update() {
      var n = answerLength(area.value);
      out.textContent = n.toLocaleString() + " / " + max.toLocaleString() + " characters";
      out.classList.toggle("over", n > max);
    }
    area.addEventListener("input", update);
    update();
  }

  function setupSubmitOnce() {
    var area = document.querySelector("textarea[data-max-chars]");
    var form = area && area.form;
    var button = form && form.querySelector('button[type="submit"]');
    if (!button) return;
    var label = button.textContent;
    var timer = null;

    function enable() {
      window.clearTimeout(timer);
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    }

    form.addEventListener("submit", function (event) {
      if (button.disabled) {  // Enter pressed again, or a script submitting
        event.preventDefault();
        return;
      }
      // The button has no name, so disabling it leaves the posted data as it is.
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = "Submitting…";
      // The response replaces the page; if it never comes (stopped, offline), the form works again.
      timer = window.setTimeout(enable, 15000);
    });
    // Back to this page from the browser's cache: the button as it was left, disabled.
    window.addEventListener("pageshow", function (event) { if (event.persisted) enable(); });
  }

  function setupLive() {
    var box = document.querySelector("[data-submissions]");
    var indicator = document.querySelector("[data-live]");
    if (!box || !("WebSocket" in window)) return;
    var attempts = 0;
    var maxAttempts = 5;

    function showState(state) {
      if (!indicator) return;
      indicator.hidden = false;
      indicator.className = "live live--" + state;
      indicator.textContent = state === "on" ? "Live updates" : "Live updates unavailable — reload to see new grades";
    }

    function setBadge(item, status) {
      var badge = item.querySelector("[data-status]");
      if (!badge) return;
      badge.className = "badge badge--" + status;
      badge.textContent = STATUS_LABELS[status] || status;
    }

    function refreshList() {
      var url = box.getAttribute("data-refresh-url");
      return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) { box.innerHTML = html; });
    }

    function onMessage(event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!data || data.submission_id == null) return;
      var item = box.querySelector('[data-submission-id="' + String(data.submission_id) + '"]');
      if (item) {
        setBadge(item, data.status);  // immediate feedback, then the full part (grade, feedback)
      } else if (String(data.question_id) !== box.getAttribute("data-question-id")) {
        return;  // an answer to another question
      }  // else an answer to this question sent from another tab or the API: the list gains it
      refreshList().catch(function () { /* the badge is already right; the grade shows on reload */ });
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket;
      try {
        socket = new WebSocket(scheme + window.location.host + "/ws/submissions/");
      } catch (e) {
        showState("off");
        return;
      }
      socket.addEventListener("open", function () { attempts = 0; showState("on"); });
      socket.addEventListener("message", onMessage);
      socket.addEventListener("close", function () {
        showState("off");
        if (attempts < maxAttempts) {
          attempts += 1;
          window.setTimeout(connect, 1000 * Math.pow(2, attempts));
        }
      });
    }

    connect();
  }

  setupCounter();
  setupSubmitOnce();
  setupLive();
})();
