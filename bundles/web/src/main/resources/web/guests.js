// The Guests page (bundles/web): lists the guests with their state and live
// counters, starts defined guests, suspends, resumes and destroys running
// ones, shows each guest's console live (server-sent events from
// /lguest/api/guests/ID/console) with a line to type into it, and each
// device's driver bundle and version with a button that updates that bundle
// (the hot swap) while the console keeps streaming.
// Everything shown comes from the server and is put in the page as text
// (textContent), never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("lguest-guests");
  if (!root) { return; }
  var api = root.getAttribute("data-api") || "/lguest/api";
  var statusLine = document.getElementById("lguest-status");
  var runningBody = document.querySelector("#lguest-running tbody");
  var definedBody = document.querySelector("#lguest-defined tbody");
  var consoles = document.getElementById("lguest-consoles");
  var cards = {};   // guest id -> {card, pre, source, devices}

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function say(text, bad) {
    statusLine.textContent = text;
    statusLine.className = "lguest-status" + (bad ? " lguest-bad" : "");
  }
  function post(path, body) {
    return fetch(api + path, {
      method: "POST",
      headers: { "X-Lguest-Action": "1", "Content-Type": "text/plain;charset=utf-8" },
      body: body || ""
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error(j.error || ("HTTP " + r.status)); }
        return j;
      });
    });
  }
  function button(label, action, attrs, onClick) {
    var b = el("button", label, "lguest-button");
    b.type = "button";
    b.setAttribute("data-action", action);
    Object.keys(attrs).forEach(function (k) { b.setAttribute("data-" + k, attrs[k]); });
    b.addEventListener("click", function () {
      b.disabled = true;
      onClick().then(function (msg) { say(msg, false); }, function (err) { say(err.message, true); })
        .then(function () { b.disabled = false; refresh(); });
    });
    return b;
  }
  function seconds(ms) { return (ms / 1000).toFixed(1) + " s"; }
  function num(v) { return v === null || v === undefined || v < 0 ? "-" : String(v); }

  function guestActions(g) {
    var td = el("td");
    if (g.running && !g.paused) {
      td.appendChild(button("suspend", "suspend", { guest: g.id }, function () {
        return post("/guests/" + g.id + "/suspend").then(function () { return "guest " + g.id + " paused"; });
      }));
    }
    if (g.running && g.paused) {
      td.appendChild(button("resume", "resume", { guest: g.id }, function () {
        return post("/guests/" + g.id + "/resume").then(function () { return "guest " + g.id + " running"; });
      }));
    }
    if (g.running) {
      // The power button (lguest:shutdown): the guest decides; it may ignore it, then destroy ends it.
      td.appendChild(button("shutdown", "shutdown", { guest: g.id }, function () {
        return post("/guests/" + g.id + "/shutdown").then(function (r) { return "guest " + g.id + " asked to shut down: " + r.asked; });
      }));
      td.appendChild(button("reboot", "reboot", { guest: g.id }, function () {
        return post("/guests/" + g.id + "/reboot").then(function (r) { return "guest " + g.id + " asked to reboot: " + r.asked; });
      }));
    }
    td.appendChild(button(g.running ? "destroy" : "remove", "destroy", { guest: g.id }, function () {
      return post("/guests/" + g.id + "/destroy").then(function () { return "guest " + g.id + " destroyed"; });
    }));
    return td;
  }

  function openConsole(g) {
    var card = el("section", null, "lguest-card");
    card.id = "lguest-card-" + g.id;
    card.appendChild(el("h3", "Console of " + g.name + " (guest " + g.id + ")", "lguest-h"));
    var pre = el("pre", "", "lguest-console");
    pre.id = "lguest-console-" + g.id;
    pre.setAttribute("data-opens", "0");
    card.appendChild(pre);
    var form = el("form", null, "lguest-input");
    var input = el("input");
    input.id = "lguest-input-" + g.id;
    input.placeholder = "type a line for the guest, Enter sends it";
    input.autocomplete = "off";
    form.appendChild(input);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var line = input.value;
      input.value = "";
      post("/guests/" + g.id + "/input", line + "\n").then(function (j) {
        say("typed " + j.bytes + " bytes at guest " + g.id, false);
      }, function (err) { say(err.message, true); });
    });
    card.appendChild(form);
    var devices = el("table", null, "lguest-table lguest-devices");
    devices.id = "lguest-devices-" + g.id;
    card.appendChild(devices);
    var swaps = el("p", "", "lguest-update");
    swaps.id = "lguest-update-" + g.id;
    card.appendChild(swaps);
    consoles.appendChild(card);

    var source = new EventSource(api + "/guests/" + g.id + "/console");
    source.addEventListener("open", function () {
      pre.setAttribute("data-opens", String(Number(pre.getAttribute("data-opens")) + 1));
    });
    source.addEventListener("output", function (ev) {
      var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(JSON.parse(ev.data)));
      if (atBottom) { pre.scrollTop = pre.scrollHeight; }
    });
    source.addEventListener("end", function (ev) {
      pre.setAttribute("data-ended", JSON.parse(ev.data));
      source.close(); // the guest ended: no reconnection
    });
    cards[g.id] = { card: card, pre: pre, source: source, devices: devices, swaps: swaps };
  }

  // The page is updated in place once a second: rows, buttons and device tables are made again only when
  // what they show changes (a guest's state, its devices, the defined list), never under a pointer about to click.
  var rows = {};        // guest id -> {tr, cells, actions, actionsKey}
  var definedKey = null;

  function showDevices(g) {
    var c = cards[g.id];
    var key = JSON.stringify([g.running, g.devices.map(function (d) { return [d.name, d.backEnd, d.bundle, d.driver, d.version]; })]);
    if (c.devicesKey !== key) {
      c.devicesKey = key;
      c.counterCells = {};
      var table = c.devices;
      while (table.firstChild) { table.removeChild(table.firstChild); }
      var head = el("tr");
      ["Device", "Back end", "Driver bundle", "Version", "Counters", ""].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      g.devices.forEach(function (d) {
        var tr = el("tr");
        tr.appendChild(el("td", d.name));
        tr.appendChild(el("td", d.backEnd));
        tr.appendChild(el("td", d.bundle || d.driver));
        tr.appendChild(el("td", d.version || "-"));
        var counters = el("td", "", "lguest-counters");
        c.counterCells[d.name] = counters;
        tr.appendChild(counters);
        var td = el("td");
        if (d.bundle && g.running) {
          td.appendChild(button("update " + d.bundle, "update", { guest: g.id, device: d.name }, function () {
            return post("/guests/" + g.id + "/devices/" + encodeURIComponent(d.name) + "/update").then(function (j) {
              var report = "updated " + j.bundle + " " + j.version + " in " + j.millis + " ms (" + j.state + ")";
              var n = Number(c.card.getAttribute("data-updates") || "0") + 1;
              c.card.setAttribute("data-updates", String(n));
              c.card.setAttribute("data-last-update", report);
              c.swaps.textContent = "Last driver update: " + report + "; the console kept streaming.";
              return report;
            }, function (err) {
              c.card.setAttribute("data-last-update", "failed: " + err.message);
              c.swaps.textContent = "Last driver update failed: " + err.message;
              throw err;
            });
          }));
        }
        tr.appendChild(td);
        table.appendChild(tr);
      });
    }
    g.devices.forEach(function (d) {
      var text = Object.keys(d.counters).map(function (k) { return k + "=" + d.counters[k]; }).join("  ");
      var cell = c.counterCells[d.name];
      if (cell && cell.textContent !== text) { cell.textContent = text; }
    });
  }

  function showGuest(g) {
    var row = rows[g.id];
    if (!row) {
      var tr = el("tr");
      tr.id = "lguest-guest-" + g.id;
      tr.setAttribute("data-name", g.name);
      var cells = [];
      for (var i = 0; i < 8; i++) { cells.push(tr.appendChild(el("td"))); }
      var actions = tr.appendChild(el("td"));
      runningBody.appendChild(tr);
      row = rows[g.id] = { tr: tr, cells: cells, actions: actions, actionsKey: null };
    }
    row.tr.setAttribute("data-state", g.state);
    [g.id, g.name, g.state, g.memory, seconds(g.uptimeMs), num(g.instructions), num(g.exits), num(g.hypercalls)]
      .forEach(function (v, i) {
        if (row.cells[i].textContent !== String(v)) { row.cells[i].textContent = String(v); }
      });
    var key = g.running + "/" + g.paused;
    if (row.actionsKey !== key) {
      row.actionsKey = key;
      var fresh = guestActions(g);
      row.tr.replaceChild(fresh, row.actions);
      row.actions = fresh;
    }
  }

  function render(data) {
    var listed = {};
    data.guests.forEach(function (g) {
      listed[g.id] = true;
      showGuest(g);
      if (!cards[g.id]) { openConsole(g); }
      showDevices(g);
    });
    Object.keys(rows).forEach(function (id) {
      if (!listed[id]) { // destroyed: its row and console go too
        runningBody.removeChild(rows[id].tr);
        delete rows[id];
        if (cards[id]) {
          cards[id].source.close();
          consoles.removeChild(cards[id].card);
          delete cards[id];
        }
      }
    });
    var stopped = data.defined.filter(function (d) { return !d.running; });
    var key = JSON.stringify(stopped);
    if (key === definedKey) { return; }
    definedKey = key;
    while (definedBody.firstChild) { definedBody.removeChild(definedBody.firstChild); }
    stopped.forEach(function (d) {
      var tr = el("tr");
      tr.setAttribute("data-name", d.name);
      [d.name, d.memory, d.autostart ? "yes" : "no"].forEach(function (v) { tr.appendChild(el("td", v)); });
      var td = el("td");
      td.appendChild(button("start", "start", { name: d.name }, function () {
        return post("/defined/" + encodeURIComponent(d.name) + "/start").then(function (j) {
          return "guest " + j.name + " started (id " + j.id + ")";
        });
      }));
      tr.appendChild(td);
      definedBody.appendChild(tr);
    });
  }

  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(api + "/guests", { cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error("the guest list: HTTP " + r.status); }
      return r.json();
    }).then(function (data) {
      render(data);
      if (statusLine.textContent === "loading the guests…") { say(data.guests.length + " guests", false); }
    }, function (err) { say(err.message, true); }).then(function () { busy = false; });
  }
  refresh();
  setInterval(refresh, 1000);
})();
