// The civic examples' only script: polls the status of an eligibility check and moves on to the
// result page once the wallet has answered. Without it, the "continue" link does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-poll]");
  if (!box || !window.fetch) {
    return;
  }
  var poll = box.getAttribute("data-poll");
  var next = box.getAttribute("data-next");
  var tries = 0;

  function later(ms) {
    window.setTimeout(check, ms);
  }

  function check() {
    tries += 1;
    if (tries > 400) {
      // The page gives this sentence in its own language.
      box.textContent = box.getAttribute("data-still-waiting") || "Still waiting.";
      return;
    }
    fetch(poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json();
      })
      .then(function (s) {
        if (s.status === "pending") {
          later(2000);
          return;
        }
        box.textContent = s.message;
        if (s.status !== "error" && next) {
          window.setTimeout(function () {
            window.location.assign(next);
          }, 1500);
        }
      })
      .catch(function () {
        later(5000);
      });
  }

  later(1500);
})();
