// Call mode: a refused outcome (400) still swaps in, because the card it returns says why inside it.
// The appointment dialog and the "Not interested" choices post to Today's endpoints, which answer
// for a Today row: once they succeed, the next call loads instead (the card's data-next-url).
(function () {
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var card = document.getElementById("call-card");
    var xhr = evt.detail.xhr;
    var target = evt.detail.target;
    if (!card || !target) return;
    if (xhr.status === 400 && (target.id === "call-card" || card.contains(target))) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      return;
    }
    var fromToday = target.id !== "call-card" && card.contains(evt.detail.requestConfig.elt);
    var done = fromToday && evt.detail.requestConfig.verb === "post" && xhr.status === 200
      && !xhr.getResponseHeader("HX-Retarget") && xhr.getResponseHeader("X-Today-Row") !== "error";
    if (done && card.dataset.nextUrl) {
      evt.detail.shouldSwap = false;
      htmx.ajax("GET", card.dataset.nextUrl, {target: "#call-card", swap: "outerHTML"});
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
