// The teachers' "Tutor conversations" page, live: the course's activity feed
// (/ws/tutor/<course>/activity/) says when a conversation has a new message or a question was
// flagged or answered; the page then fetches itself and swaps in what changed. New flagged
// questions are added at the top; an answer form a teacher has started typing in is never replaced.
(function () {
  "use strict";
  var feed = document.getElementById("tutor-activity");
  if (!feed || !("WebSocket" in window) || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("activity-status");
  var refreshTimer = null;
  var attempts = 0;

  function say(text) {
    if (status) status.textContent = text;
  }

  function typedIn(item) {
    var box = item.querySelector("textarea");
    return box && (box.value.trim() !== "" || document.activeElement === box);
  }

  function mergeFlags(fresh) {
    var list = document.getElementById("flagged-list");
    var freshList = fresh.getElementById("flagged-list");
    if (!list || !freshList) return 0;
    var added = 0;
    var items = freshList.querySelectorAll(".flagged__item");
    for (var i = items.length - 1; i >= 0; i--) {
      var item = items[i];
      var current = document.getElementById(item.id);
      if (!current) {
        list.insertBefore(document.importNode(item, true), list.firstElementChild);
        added++;
      } else if (current.getAttribute("data-status") !== item.getAttribute("data-status") && !typedIn(current)) {
        current.replaceWith(document.importNode(item, true));
      }
    }
    list.hidden = list.children.length === 0;
    var empty = document.getElementById("no-flags");
    if (empty && !list.hidden) empty.remove();
    var badge = document.getElementById("open-flags");
    var freshBadge = fresh.getElementById("open-flags");
    if (badge && freshBadge) {
      badge.textContent = freshBadge.textContent;
      badge.className = freshBadge.className;
    }
    return added;
  }

  function refresh() {
    refreshTimer = null;
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var added = mergeFlags(fresh);
        var table = document.getElementById("conversations-card");
        var freshTable = fresh.getElementById("conversations-card");
        if (table && freshTable) table.innerHTML = freshTable.innerHTML;
        if (added) say(added === 1 ? "A student's question was flagged for you." : added + " questions were flagged for you.");
      })
      .catch(function () { say("Could not refresh the page; reload it to see the latest activity."); });
  }

  function schedule() {
    // a burst of messages makes one fetch
    if (refreshTimer === null) refreshTimer = window.setTimeout(refresh, 400);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + feed.getAttribute("data-socket"));
    socket.onopen = function () {
      attempts = 0;
      feed.setAttribute("data-connected", "true");
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "activity") schedule();
    };
    socket.onclose = function (event) {
      feed.removeAttribute("data-connected");
      if (event.code === 4401 || event.code === 4403) return;
      attempts++;
      if (attempts <= 6) {
        window.setTimeout(connect, Math.min(30000, 500 * Math.pow(2, attempts)));
      } else {
        say("Live updates stopped. Reload the page to see the latest activity.");
      }
    };
  }

  connect();
})();
