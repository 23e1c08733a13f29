/* Review queue: keyboard shortcuts and saving a review without reloading the page.
   Without JavaScript the forms post and the page comes back with a message. */
(function () {
  "use strict";

  var VERDICTS = ["correct", "partially_correct", "contradictory", "incorrect"];
  var SHARE = { correct: 1, partially_correct: 0.5, contradictory: 0, incorrect: 0 };
  var LABELS = { correct: "Correct", partially_correct: "Partially correct", contradictory: "Contradictory", incorrect: "Incorrect" };
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-review-item]"));
  var status = document.querySelector("[data-review-status]");
  var current = -1;
  if (!items.length) return;

  function open() {
    return items.filter(function (item) { return !item.classList.contains("is-done"); });
  }

  function select(index, focus) {
    if (index < 0 || index >= items.length) return;
    if (current >= 0) items[current].classList.remove("is-current");
    current = index;
    var item = items[current];
    item.classList.add("is-current");
    if (focus !== false) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function move(step) {
    var i = current;
    do { i += step; } while (i >= 0 && i < items.length && items[i].classList.contains("is-done"));
    if (i >= 0 && i < items.length) select(i);
  }

  function say(text) { if (status) status.textContent = text; }

  function finish(item, data) {
    item.classList.add("is-done");
    var actions = item.querySelector("[data-actions]");
    var g = data.grade;
    var done = document.createElement("p");
    done.className = "review-item__done";
    done.setAttribute("data-done", "");
    done.textContent = (data.action === "accepted" ? "Accepted" : "Overridden") + " and released: " +
      g.score + " points, " + (LABELS[g.verdict] || g.verdict) + ".";
    actions.replaceWith(done);
    var left = open().length;
    say(left ? left + " answer" + (left === 1 ? "" : "s") + " left on this page." : "All answers on this page are reviewed. Reload for more.");
    var next = items.indexOf(item);
    while (next < items.length && items[next].classList.contains("is-done")) next += 1;
    if (next >= items.length) { next = items.indexOf(open()[0]); }
    if (next >= 0) select(next);
  }

  function submit(form) {
    var item = form.closest("[data-review-item]");
    var errors = item.querySelector("[data-errors]");
    errors.textContent = "";
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) { finish(item, data); return; }
        var messages = [];
        if (data && data.errors) {
          Object.keys(data.errors).forEach(function (k) { messages = messages.concat(data.errors[k]); });
        } else {
          messages.push("Could not save (" + response.status + ").");
        }
        errors.textContent = messages.join(" ");
      });
    }).catch(function () {
      errors.textContent = "Could not reach the server; nothing was saved.";
    }).then(function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
    });
  }

  items.forEach(function (item, index) {
    item.addEventListener("focusin", function () { if (current !== index) select(index, false); });
    Array.prototype.forEach.call(item.querySelectorAll("form[data-review-form]"), function (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); submit(form); });
    });
  });

  function setVerdict(item, verdict) {
    var selectBox = item.querySelector("[data-verdict]");
    var score = item.querySelector("[data-score]");
    if (!selectBox) return;
    selectBox.value = verdict;
    if (score) score.value = String(Math.round(SHARE[verdict] * parseFloat(item.getAttribute("data-max-points")) * 100) / 100);
    say("Verdict set to " + LABELS[verdict] + "; press Enter in the score or Save override to keep it.");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
    if (typing) {
      if (event.key === "Escape" && current >= 0) { target.blur(); items[current].focus(); }
      return;
    }
    var item = current >= 0 ? items[current] : null;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a":
        if (item && !item.classList.contains("is-done")) submit(item.querySelector("form[data-review-form]"));
        break;
      case "o":
        if (item && !item.classList.contains("is-done")) { var s = item.querySelector("[data-score]"); s.focus(); s.select(); }
        break;
      case "1": case "2": case "3": case "4":
        if (item && !item.classList.contains("is-done")) setVerdict(item, VERDICTS[parseInt(event.key, 10) - 1]);
        break;
      default: return;
    }
    event.preventDefault();
  });

  select(0, false);
})();
