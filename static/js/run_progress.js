/* Course grader page: follow a retraining run and a bulk regrade by polling their API resources, and
   reload the page when one ends (the decision, the form again). Without JavaScript the page still shows
   each run's state as of the last load. */
(function () {
  "use strict";

  var LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };
  var POLL_MS = 1500;

  function badge(element, status) {
    element.className = "badge badge--run-" + status;
    element.textContent = LABELS[status] || status;
  }

  /* The API's estimate (``seconds_left``, null when it cannot tell) in words. */
  function timeLeft(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return "Less than a minute left";
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) return "About " + minutes + " min left";
    var rest = minutes % 60;
    return "About " + Math.floor(minutes / 60) + " h " + (rest ? rest + " min " : "") + "left";
  }

  function showProgress(bar, progress) {
    bar.value = progress;
    bar.textContent = Math.round(progress * 100) + "%";
  }

  /* Poll ``url`` until the run ends; ``show(run)`` after each answer; after five failures in a row say so
     in ``message``. */
  function follow(url, show, message, what) {
    var failures = 0;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (run) {
          failures = 0;
          show(run);
          if (run.status === "succeeded" || run.status === "failed") {
            window.setTimeout(function () { window.location.reload(); }, 1200);
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures < 5) window.setTimeout(poll, POLL_MS * failures);
          else message.textContent = "Progress unavailable — reload the page to see the " + what + "'s state.";
        });
    }
    poll();
  }

  function followRetraining() {
    var card = document.querySelector("[data-retrain]");
    var url = card && card.getAttribute("data-run-url");
    if (!url) return;
    var box = card.querySelector("[data-run-box]");
    var status = card.querySelector("[data-run-status]");
    var bar = card.querySelector("[data-run-progress]");
    var message = card.querySelector("[data-run-message]");
    var eta = card.querySelector("[data-run-eta]");
    follow(url, function (run) {
      box.hidden = false;
      badge(status, run.status);
      showProgress(bar, run.progress);
      message.textContent = run.message || "";
      eta.textContent = timeLeft(run.seconds_left);
      // The run's row in the table below follows too.
      var rowStatus = document.querySelector('[data-run-row-status="' + String(run.id) + '"]');
      if (rowStatus) badge(rowStatus, run.status);
      var rowBar = document.querySelector('[data-run-row-progress="' + String(run.id) + '"]');
      if (rowBar) rowBar.value = run.progress;
    }, message, "run");
  }

  function followRegrade() {
    var card = document.querySelector("[data-regrade]");
    var url = card && card.getAttribute("data-regrade-url");
    if (!url) return;
    var status = card.querySelector("[data-regrade-status]");
    var count = card.querySelector("[data-regrade-count]");
    var bar = card.querySelector("[data-regrade-progress]");
    var message = card.querySelector("[data-regrade-message]");
    var eta = card.querySelector("[data-regrade-eta]");
    follow(url, function (run) {
      badge(status, run.status);
      count.textContent = run.done + " / " + run.total;
      showProgress(bar, run.progress);
      message.textContent = run.message || "";
      eta.textContent = timeLeft(run.seconds_left);
    }, message, "regrade");
  }

  function setup() {
    followRetraining();
    followRegrade();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
