/* Change list: "select all" and the selection counter, as the admin's actions.js does;
   the filters closed on narrow screens (they open with their "Filter" control). */
(function () {
  "use strict";
  var filters = document.getElementById("changelist-filter-panel");
  if (filters && window.matchMedia("(max-width: 767px)").matches) { filters.open = false; }
  var toggle = document.getElementById("action-toggle");
  var counter = document.querySelector(".action-counter");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.action-select"));
  if (!boxes.length) { return; }
  function update() {
    var chosen = boxes.filter(function (b) { return b.checked; });
    boxes.forEach(function (b) { b.closest("tr").classList.toggle("selected", b.checked); });
    if (counter) { counter.textContent = chosen.length + " of " + boxes.length + " selected"; }
    if (toggle) { toggle.checked = chosen.length === boxes.length; toggle.indeterminate = chosen.length > 0 && chosen.length < boxes.length; }
  }
  if (toggle) {
    toggle.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = toggle.checked; }); update(); });
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
})();
