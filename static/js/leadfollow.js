// Site-wide behaviour, on every page (templates/base.html), run again for content htmx swaps in.
// Progress bars carry their width as data-progress (0-100) rather than an inline style attribute,
// which the Content-Security-Policy refuses; setting it from a script of ours is allowed.
htmx.onLoad(function (root) {
  var bars = root.matches && root.matches("[data-progress]") ? [root] : [];
  bars.push.apply(bars, root.querySelectorAll ? root.querySelectorAll("[data-progress]") : []);
  bars.forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0));
    bar.style.width = percent + "%";
  });
});
