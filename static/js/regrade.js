/* Course grader page: follow a bulk regrade's progress (answers done of total) by polling its API
   resource. Without JavaScript the page still shows the run's state as of the last load. */
(function () {
  "use strict";

  var LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };
  var POLL_MS = 1500;

  function setup() {
    var card = document.querySelector("[data-regrade]");
    if (!card) return;
    var url = card.getAttribute("data-regrade-url");
    if (!url) return;
    var status = card.querySelector("[data-regrade-status]");
    var count = card.querySelector("[data-regrade-count]");
    var bar = card.querySelector("[data-regrade-progress]");
    var message = card.querySelector("[data-regrade-message]");
    var failures = 0;

    function show(run) {
      status.className = "badge badge--run-" + run.status;
      status.textContent = LABELS[run.status] || run.status;
      count.textContent = run.done + " / " + run.total;
      bar.value = run.progress;
      bar.textContent = Math.round(run.progress * 100) + "%";
      message.textContent = run.message || "";
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (run) {
          failures = 0;
          show(run);
          if (run.status === "succeeded" || run.status === "failed") {
            window.setTimeout(function () { window.location.reload(); }, 1500);  // the form comes back
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures < 5) window.setTimeout(poll, POLL_MS * failures);
          else message.textContent = "Progress unavailable — reload the page to see the regrade's state.";
        });
    }
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
