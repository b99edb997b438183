/* The import run page: follow the run's progress until it ends (polls progress.json). */
(function () {
  var box = document.getElementById("run-state");
  if (!box || box.dataset.running !== "1") return;
  var url = box.dataset.url;
  function set(id, v) { var el = document.getElementById(id); if (el) el.textContent = v; }
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("run-progress").value = s.percent;
        var badge = document.getElementById("run-status");
        badge.textContent = s.status_label; badge.className = "badge lst-status-" + s.status;
        set("run-amount", s.total ? (s.done + " of " + s.total) : (s.done ? s.done + " read" : ""));
        ["created", "updated", "skipped", "rejected", "activities", "seconds"].forEach(function (k) { set("run-" + k, s[k]); });
        set("run-people", s.people_created);
        if (s.error) { var e = document.getElementById("run-error"); e.textContent = s.error; e.hidden = false; }
        if (s.finished) { if (s.rejected) { document.getElementById("run-reload").hidden = false; } return; }
        setTimeout(tick, 700);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
})();
