// Today (templates/today/today.html). A file, not an inline script: the Content-Security-Policy allows no inline code.
// - Each row's time moves on by itself: "due now — waiting 3 min" → "late — waiting 6 min", "Due 10:00" → "Due now"
//   → "Overdue since 10:00", from the moments the server wrote into data-* attributes (today/timing.py).
// - A confirmation where a row was fades after a few seconds; an error notice stays until dismissed.
// - When a lead's cadence ends (the `today:lead-ended` event of an htmx answer) every row of that lead leaves.
// - An answer that says an action could not apply (400/409 with X-Today-Row: error) is swapped into its row;
//   any other failure (a 404, a server error, no network) is written inside the row that asked, never off-screen.
(function () {
  var FADE_AFTER_MS = 4000;

  function waitingLabel(minutes) {
    // Same wording as today.timing.waiting_label.
    minutes = Math.max(0, minutes);
    if (minutes < 120) return "waiting " + minutes + " min";
    if (minutes < 48 * 60) return "waiting " + Math.floor(minutes / 60) + " h";
    var days = Math.floor(minutes / 1440);
    return "waiting " + days + " day" + (days === 1 ? "" : "s");
  }

  function markLate(el) {
    el.classList.add("text-danger", "fw-semibold");
    el.classList.remove("text-warning-emphasis");
    var row = el.closest(".today-row");
    if (row && !row.classList.contains("border-warning")) row.classList.add("border-danger");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".today-due").forEach(function (el) {
      var text = el.querySelector(".today-due-text");
      if (!text) return;
      var lateAt = el.dataset.lateAt ? Date.parse(el.dataset.lateAt) : NaN;
      var late = !isNaN(lateAt) && now >= lateAt;
      if (el.dataset.waitingSince) {
        var minutes = Math.floor((now - Date.parse(el.dataset.waitingSince)) / 60000);
        text.textContent = (late ? "late" : "due now") + " — " + waitingLabel(minutes);
      } else if (late && el.dataset.lateText) {
        text.textContent = el.dataset.lateText;
      } else if (el.dataset.nowAt && now >= Date.parse(el.dataset.nowAt)) {
        text.textContent = "Due now";
      }
      if (late) markLate(el);
    });
  }

  function fade(notice) {
    if (!notice.isConnected) return;
    notice.classList.add("fade");
    notice.classList.remove("show");
    setTimeout(function () { notice.remove(); }, 300);
  }

  function armNotices(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var notices = Array.prototype.slice.call(scope.querySelectorAll("[data-fade]"));
    if (scope.matches && scope.matches("[data-fade]")) notices.push(scope);
    notices.forEach(function (notice) {
      if (notice.dataset.fadeArmed) return;
      notice.dataset.fadeArmed = "1";
      notice.classList.add("fade", "show");
      setTimeout(function () { fade(notice); }, FADE_AFTER_MS);
    });
  }

  function rowOf(el) {
    return el && el.closest ? el.closest(".today-row, .today-notice") : null;
  }

  function sayInRow(row, message) {
    if (!row) return;
    var box = row.querySelector(".today-row-message");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert-danger py-1 px-2 small mb-2 today-row-message";
      box.setAttribute("role", "alert");
      var body = row.querySelector(".card-body") || row;
      body.insertBefore(box, body.firstChild);
    }
    box.textContent = message;
  }

  function failureText(xhr) {
    if (!xhr || !xhr.status) return "Could not reach LeadFollow: check the connection and try again.";
    if (xhr.status === 404) return "This task is not yours or no longer exists. Reload the page to see your list.";
    if (xhr.status === 403) return "You may not do this.";
    if (xhr.status === 400 || xhr.status === 409) {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/plain") === 0 && xhr.responseText) return xhr.responseText.slice(0, 300);
      return "This action could not be applied. Reload the page to see your list.";
    }
    return "Something went wrong on our side: try again in a moment.";
  }

  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status < 400) return;
    if (xhr.getResponseHeader("X-Today-Row") === "error") {
      // The row again (or a notice in its place) with the message inside: swap it like a success.
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      return;
    }
    sayInRow(rowOf(evt.detail.target) || rowOf(evt.detail.elt), failureText(xhr));
  });

  document.body.addEventListener("htmx:sendError", function (evt) {
    sayInRow(rowOf(evt.detail.target) || rowOf(evt.detail.elt), failureText(null));
  });

  document.body.addEventListener("today:lead-ended", function (evt) {
    var lead = evt.detail && evt.detail.lead;
    if (lead === undefined || lead === null) return;
    document.querySelectorAll('.today-row[data-lead="' + String(lead).replace(/[^0-9]/g, "") + '"]').forEach(function (row) {
      row.remove();
    });
  });

  document.body.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-dismiss-notice]");
    if (button) fade(button.closest(".today-notice"));
  });

  document.body.addEventListener("htmx:afterSwap", function () { tick(); });
  htmx.onLoad(armNotices);
  setInterval(tick, 30000);
  tick();
})();
