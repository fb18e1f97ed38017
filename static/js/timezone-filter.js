// A text box above every timezone select (select[data-zone-filter], accounts.forms.TimezoneField):
// typing "york", "pacific", "india" or "+05:30" narrows the list to the zones whose label or IANA
// name has every word typed. Options are taken out and put back (hiding an <option> does not work
// in every browser); the empty choice and the selected zone always stay. Without JavaScript the
// select still works, the region's common zones on top.
(function () {
  function normalise(text) {
    return text.toLowerCase().replace(/_/g, " ").replace(/\u2212/g, "-");
  }

  function setUp(select) {
    if (select.dataset.zoneFilterReady) return;
    select.dataset.zoneFilterReady = "1";
    var groups = Array.prototype.map.call(select.children, function (node) {
      var options = node.tagName === "OPTGROUP" ? Array.prototype.slice.call(node.children) : [node];
      return { node: node, options: options };
    });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Find a zone: city, region or UTC offset";
    box.setAttribute("aria-label", "Find a timezone");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    var empty = document.createElement("option");
    empty.disabled = true;
    empty.textContent = "No zone matches";
    select.parentNode.insertBefore(box, select);
    var firstMatch = null;

    function matches(option, words) {
      var text = normalise(option.textContent + " " + option.value);
      return words.every(function (word) { return text.indexOf(word) !== -1; });
    }

    function filter() {
      var words = normalise(box.value).split(/\s+/).filter(Boolean);
      var selected = select.value;
      firstMatch = null;
      while (select.firstChild) select.removeChild(select.firstChild);
      groups.forEach(function (group) {
        var keep = group.options.filter(function (option) {
          var match = option.value !== "" && matches(option, words);
          if (match && !firstMatch) firstMatch = option;
          return match || option.value === "" || option.value === selected;
        });
        if (!keep.length) return;
        if (group.node.tagName === "OPTGROUP") {
          while (group.node.firstChild) group.node.removeChild(group.node.firstChild);
          keep.forEach(function (option) { group.node.appendChild(option); });
          select.appendChild(group.node);
        } else {
          select.appendChild(group.node);
        }
      });
      if (words.length && !firstMatch) select.appendChild(empty);
      select.value = selected;
    }

    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      // Enter picks the first zone that matches instead of sending the form half filled in.
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (firstMatch) {
        select.value = firstMatch.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        select.focus();
      }
    });
  }

  function setUpAll(root) {
    var selects = root.querySelectorAll ? root.querySelectorAll("select[data-zone-filter]") : [];
    Array.prototype.forEach.call(selects, setUp);
  }

  if (window.htmx) {
    htmx.onLoad(setUpAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  }
})();
