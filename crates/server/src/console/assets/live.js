// Keeps a console page current without a reload: every 2 s it fetches the
// page's live region (data-src, the page with ?live=1) and swaps it in.
// It waits while the user is typing in that region, keeps open <details>
// open, and reloads the whole page when the session has ended (the fetch
// is then redirected to the sign-in page).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.src) { return; }
  function typing() {
    var a = document.activeElement;
    return a && live.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== "hidden";
  }
  function swap(html) {
    var open = {};
    live.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
    live.innerHTML = html;
    live.querySelectorAll("details[id]").forEach(function (d) {
      if (Object.prototype.hasOwnProperty.call(open, d.id)) { d.open = open[d.id]; }
    });
  }
  function tick() {
    if (document.hidden || typing()) { return later(); }
    fetch(live.dataset.src, { credentials: "same-origin", redirect: "manual", cache: "no-store" })
      .then(function (r) {
        if (r.type === "opaqueredirect") { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null && !typing()) { swap(html); } })
      .catch(function () { /* the service may be restarting: try again at the next tick */ })
      .then(later);
  }
  function later() { window.setTimeout(tick, 2000); }
  later();
})();
