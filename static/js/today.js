// Today: live "waiting N minutes" for new leads, and a visible message when htmx gets an error back.
(function () {
  function tick() {
    document.querySelectorAll(".waiting[data-since]").forEach(function (el) {
      var minutes = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.since)) / 60000));
      // Same wording as today.selectors.waiting_label.
      var value = minutes, unit = "minute";
      if (minutes >= 48 * 60) { value = Math.floor(minutes / 1440); unit = "day"; }
      else if (minutes >= 120) { value = Math.floor(minutes / 60); unit = "hour"; }
      el.textContent = "waiting " + value + " " + unit + (value === 1 ? "" : "s");
    });
  }
  setInterval(tick, 30000);
  document.body.addEventListener("htmx:responseError", function (evt) {
    var box = document.getElementById("today-error");
    box.textContent = evt.detail.xhr.status === 404 ? "This task is not yours or no longer exists." : evt.detail.xhr.responseText;
    box.classList.remove("d-none");
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    document.getElementById("today-error").classList.add("d-none");
    tick();
  });
})();
