// Reps answer from the app (issue 14): the SMS character and segment count, and the live poll of
// conversation fragments ([data-poll]: htmx "poll" every N ms, only while the page is visible).
(function () {
  "use strict";
  // GSM 03.38 basic set, and the extension characters that count twice.
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€";

  function smsCount(text) {
    var gsm = true, units = 0;
    for (var ch of text) {
      if (GSM.indexOf(ch) >= 0) { units += 1; }
      else if (GSM_EXT.indexOf(ch) >= 0) { units += 2; }
      else { gsm = false; break; }
    }
    if (!gsm) {
      units = 0;
      for (var i = 0; i < text.length; i++) { units += 1; } // UTF-16 code units, as carriers count
    }
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / multi));
    return { chars: units, segments: segments, gsm: gsm };
  }

  function bindCounter(area) {
    var out = document.getElementById(area.dataset.smsCounter);
    if (!out) { return; }
    var update = function () {
      var c = smsCount(area.value);
      out.textContent = c.chars + " characters · " + c.segments + " SMS segment" + (c.segments === 1 ? "" : "s") +
        (c.gsm ? "" : " (special characters: 70 per segment)");
    };
    area.addEventListener("input", update);
    update();
  }

  function poll() {
    if (document.visibilityState !== "visible" || !window.htmx) { return; }
    document.querySelectorAll("[data-poll]").forEach(function (el) { window.htmx.trigger(el, "poll"); });
  }

  // The newest message is at the bottom, like a chat: show it when the thread (re)loads.
  document.body.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".conversation-thread").forEach(function (t) { t.scrollTop = t.scrollHeight; });
  });
  document.querySelectorAll("[data-sms-counter]").forEach(bindCounter);
  // Send once: the button waits after the first click (the server also ignores a second post of the form).
  var compose = document.getElementById("compose-form");
  if (compose) {
    compose.addEventListener("submit", function () {
      var send = document.getElementById("compose-send");
      if (send) { send.disabled = true; send.textContent = "Sending…"; }
    });
  }
  setInterval(poll, 10000);
  // Back on the tab: catch up at once rather than at the next beat.
  document.addEventListener("visibilitychange", poll);
  window.leadfollowSmsCount = smsCount;
})();
