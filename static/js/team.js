// Team today (templates/today/team.html). A file, not an inline script: the Content-Security-Policy allows no inline code.
// - "Reassign 3 selected to": the bar counts the checked tasks and leads.
// - "All of these" checks or clears every task and lead in one rep's list.
// - A rejected reassign (400/404/409 with X-Team-Reassign: error) is swapped in like a success, its message in
//   the bar and the selection still checked; any other failure (a server error, no network) is said in the bar.
// Without this script the form still posts and the page comes back with the same messages.
(function () {
  function selectedCount(root) {
    return root.querySelectorAll("input[name=touches]:checked, input[name=leads]:checked").length;
  }

  function refresh() {
    var form = document.getElementById("team-reassign");
    if (!form) return;
    var count = document.getElementById("team-selected-count");
    var n = selectedCount(form);
    if (count) count.textContent = n ? n + " selected" : "selected";
    form.querySelectorAll("details.team-select").forEach(function (box) {
      var all = box.querySelector("[data-select-all]");
      if (!all) return;
      all.closest("[data-select-all-box]").hidden = false;
      var items = box.querySelectorAll("input[name=touches], input[name=leads]");
      var checked = selectedCount(box);
      all.checked = items.length > 0 && checked === items.length;
      all.indeterminate = checked > 0 && checked < items.length;
    });
  }

  function sayInBar(message) {
    var bar = document.getElementById("team-reassign-bar");
    if (!bar) return;
    var box = document.getElementById("team-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "team-error";
      box.className = "alert alert-danger py-1 px-2 small mb-2";
      box.setAttribute("role", "alert");
      bar.insertBefore(box, bar.firstChild);
    }
    box.textContent = message;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.closest || !target.closest("#team-reassign")) return;
    if (target.matches("[data-select-all]")) {
      target.closest("details").querySelectorAll("input[name=touches], input[name=leads]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    refresh();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Team-Reassign") === "error") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.elt && event.detail.elt.id === "team-reassign") {
      sayInBar("Something went wrong (the server answered " + event.detail.xhr.status + "). Reload the page to see what was reassigned.");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt && event.detail.elt.id === "team-reassign") {
      sayInBar("Could not reach the server. Reload the page to see what was reassigned, then try again.");
    }
  });

  document.addEventListener("htmx:afterSettle", refresh);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
})();
