/* Course grader page: follow a retraining run's progress by polling its API resource.
   Without JavaScript the page still shows the run's state as of the last load. */
(function () {
  "use strict";

  var LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };
  var POLL_MS = 2000;

  function setup() {
    var card = document.querySelector("[data-retrain]");
    if (!card) return;
    var url = card.getAttribute("data-run-url");
    if (!url) return;
    var box = card.querySelector("[data-run-box]");
    var status = card.querySelector("[data-run-status]");
    var bar = card.querySelector("[data-run-progress]");
    var message = card.querySelector("[data-run-message]");
    var failures = 0;

    function show(run) {
      box.hidden = false;
      status.className = "badge badge--run-" + run.status;
      status.textContent = LABELS[run.status] || run.status;
      bar.value = run.progress;
      bar.textContent = Math.round(run.progress * 100) + "%";
      message.textContent = run.message || "";
      // The run's row in the table below follows too.
      var rowStatus = document.querySelector('[data-run-row-status="' + String(run.id) + '"]');
      if (rowStatus) { rowStatus.className = status.className; rowStatus.textContent = status.textContent; }
      var rowBar = document.querySelector('[data-run-row-progress="' + String(run.id) + '"]');
      if (rowBar) rowBar.value = run.progress;
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (run) {
          failures = 0;
          show(run);
          if (run.status === "succeeded" || run.status === "failed") {
            window.setTimeout(function () { window.location.reload(); }, 1200);  // show the decision
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures < 5) window.setTimeout(poll, POLL_MS * failures);
          else message.textContent = "Progress unavailable — reload the page to see the run's state.";
        });
    }
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
