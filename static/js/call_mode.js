// Call mode: a refused outcome (400) still swaps in, because the card it returns says why inside it;
// a booked appointment (the dialog answers for a Today row) loads the next call instead.
(function () {
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var card = document.getElementById("call-card");
    var xhr = evt.detail.xhr;
    if (xhr.status === 400 && evt.detail.target && evt.detail.target.id === "call-card") {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      return;
    }
    var dialog = document.getElementById("call-dialog");
    var booked = card && dialog && dialog.contains(evt.detail.requestConfig.elt)
      && evt.detail.requestConfig.verb === "post" && xhr.status === 200 && !xhr.getResponseHeader("HX-Retarget");
    if (booked) {
      evt.detail.shouldSwap = false;
      htmx.ajax("GET", card.dataset.afterBooking, {target: "#call-card", swap: "outerHTML"});
    }
  });
  document.body.addEventListener("htmx:responseError", function (evt) {
    var card = document.getElementById("call-card");
    if (!card || evt.detail.xhr.status === 400) return;
    var box = document.createElement("div");
    box.className = "alert alert-danger py-2";
    box.setAttribute("role", "alert");
    box.textContent = evt.detail.xhr.status === 404 ? "This call is not yours or no longer exists." : "Something went wrong; reload the page.";
    card.prepend(box);
  });
})();
