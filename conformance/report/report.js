// Progressive enhancement only: the page is complete without this script.
// It collapses operation rows under their area and filters the test tables. It reads the DOM
// (data-* attributes and text), never parses record data as HTML.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.querySelectorAll("tr.op").forEach(function (row) { row.classList.add("collapsed"); });
  document.querySelectorAll("button.toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var area = button.getAttribute("data-area");
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "\u25be" : "\u25b8";
      document.querySelectorAll('tr.op[data-area="' + area + '"]').forEach(function (row) {
        row.classList.toggle("collapsed", !open);
      });
    });
  });

  var text = document.getElementById("filter-text");
  var outcome = document.getElementById("filter-outcome");
  var shown = document.getElementById("filter-count");
  if (!text || !outcome) { return; }

  function apply() {
    var needle = text.value.trim().toLowerCase();
    var wanted = outcome.value;
    var visible = 0;
    document.querySelectorAll("tr.test").forEach(function (row) {
      var got = row.getAttribute("data-outcome");
      var okOutcome = wanted === "all" || got === wanted ||
        (wanted === "problems" && (got === "failed" || got === "error" || got === "xpassed"));
      var ok = okOutcome && (!needle || row.textContent.toLowerCase().indexOf(needle) !== -1);
      row.classList.toggle("hidden", !ok);
      if (ok) { visible += 1; }
    });
    document.querySelectorAll(".group").forEach(function (group) {
      group.classList.toggle("hidden", !group.querySelector("tr.test:not(.hidden)"));
    });
    if (shown) { shown.textContent = visible + " shown"; }
  }
  // A link ending in #q=TEXT opens the report filtered (e.g. shared in chat: #q=pagination.first_id).
  if (location.hash.indexOf("#q=") === 0) {
    try { text.value = decodeURIComponent(location.hash.slice(3)); } catch (e) { text.value = ""; }
  }
  text.addEventListener("input", apply);
  outcome.addEventListener("change", apply);
  apply();
})();
