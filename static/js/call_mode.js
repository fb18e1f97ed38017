// Call mode: a refused outcome (400) still swaps in, because the card it returns says why inside it.
(function () {
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr.status === 400 && evt.detail.target && evt.detail.target.id === "call-card") {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
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
