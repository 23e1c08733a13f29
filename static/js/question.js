/* Question page: a character counter for the answer, and live submission status over a websocket.
   Everything here is an enhancement: without JavaScript or without a socket the page still works. */
(function () {
  "use strict";

  var STATUS_LABELS = { received: "Received", grading: "Grading", graded: "Graded", needs_review: "Needs review" };

  function setupCounter() {
    var area = document.querySelector("textarea[data-max-chars]");
    var out = document.querySelector("[data-char-count]");
    if (!area || !out) return;
    var max = parseInt(area.getAttribute("data-max-chars"), 10);
    function update() {
      var n = area.value.trim().length;
      out.textContent = n.toLocaleString() + " / " + max.toLocaleString() + " characters";
      out.classList.toggle("over", n > max);
    }
    area.addEventListener("input", update);
    update();
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
      if (!item) return;
      setBadge(item, data.status);  // immediate feedback, then the full part (grade, feedback)
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
  setupLive();
})();
