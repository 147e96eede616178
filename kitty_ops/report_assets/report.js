// The timeline of a kitty-ops report, drawn from the JSON block of the page.
// Every text from a record is set with textContent or setAttribute, never as
// markup. On success <body data-rendered="N"> holds the number of bars drawn;
// any error is written to <body data-error="..."> (the tests read both).
(function () {
  "use strict";
  var body = document.body;
  window.addEventListener("error", function (event) {
    body.setAttribute("data-error", String(event.message || event));
  });

  var SVG = "http://www.w3.org/2000/svg";
  var ROW = 12, ROW_GAP = 3, LANE_PAD = 6, MAX_ROWS = 8, AXIS = 34, LABEL_WIDTH = 170, MIN_BAR = 2;
  var data = JSON.parse(document.getElementById("kitty-ops-data").textContent);
  var ops = data.ops;
  var now = data.generated_at;
  var zoom = 1;
  var pinned = null;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) { node.setAttribute(key, attrs[key]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function html(name, text, cls, parent) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  // The same form as kitty_ops.durations.format_duration.
  function duration(seconds) {
    var whole = Math.round(Math.max(seconds, 0));
    if (whole < 60) { return whole + "s"; }
    var minutes = Math.floor(whole / 60);
    if (minutes < 60) { return minutes + "m"; }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) { return hours + "h" + (minutes < 10 ? "0" : "") + minutes + "m"; }
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return days + "d" + (hours < 10 ? "0" : "") + hours + "h";
  }

  function utc(ms) { return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC"; }

  function statusOf(op) { return op.status === "open" ? op.state : op.status; }

  function endOf(op) { return op.end === null ? Math.max(now, op.start) : op.end; }

  var TICKS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
               86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400];

  function tickLabel(ms, step) {
    var iso = new Date(ms).toISOString();
    if (step >= 86400) { return iso.slice(0, 10); }
    if (step >= 60) { return iso.slice(11, 16); }
    return iso.slice(11, 19);
  }

  function lanesOf(key) {
    var lanes = {}, names = [];
    ops.forEach(function (op, i) {
      var name = key === "actor" ? (op.actor || "(no actor)") : op.profile;
      if (!lanes[name]) { lanes[name] = []; names.push(name); }
      lanes[name].push(i);
    });
    names.sort();
    return names.map(function (name) { return {name: name, ops: lanes[name]}; });
  }

  // Greedy packing into at most MAX_ROWS rows, in pixels (so that a very short
  // Op still gets its MIN_BAR width); beyond that, the row that frees first.
  function pack(indices, x) {
    var ends = [], rows = {};
    indices.forEach(function (i) {
      var op = ops[i], left = x(op.start), right = Math.max(x(endOf(op)), left + MIN_BAR);
      var row = -1;
      for (var r = 0; r < ends.length; r++) { if (ends[r] + 1 <= left) { row = r; break; } }
      if (row < 0 && ends.length < MAX_ROWS) { row = ends.length; ends.push(0); }
      if (row < 0) {
        row = 0;
        for (r = 1; r < ends.length; r++) { if (ends[r] < ends[row]) { row = r; } }
      }
      ends[row] = right;
      rows[i] = row;
    });
    return {rows: rows, count: Math.max(ends.length, 1)};
  }

  function render() {
    var container = document.getElementById("timeline");
    container.textContent = "";
    if (!ops.length) {
      html("p", "No Ops to show.", "empty", container);
      body.setAttribute("data-rendered", "0");
      return;
    }
    var begin = Infinity, end = -Infinity;
    ops.forEach(function (op) { begin = Math.min(begin, op.start); end = Math.max(end, endOf(op)); });
    var span = Math.max(end - begin, 1000);
    begin -= span * 0.01; end += span * 0.01; span = end - begin;
    var width = Math.max(Math.floor((container.clientWidth || 1000) - LABEL_WIDTH - 4), 300) * zoom;
    var x = function (ms) { return (ms - begin) / span * width; };
    var lanes = lanesOf(document.getElementById("lane-by").value);
    var layout = lanes.map(function (lane) { return pack(lane.ops, x); });
    var height = AXIS;
    layout.forEach(function (packed) { height += packed.count * (ROW + ROW_GAP) + 2 * LANE_PAD; });

    var labels = el("svg", {width: LABEL_WIDTH, height: height, "class": "labels"});
    var scroller = html("div", null, "scroller");
    var plot = el("svg", {width: width, height: height, "class": "plot"});
    var defs = el("defs", {}, plot);
    ["dead", "stale"].forEach(function (state) {
      var hatch = el("pattern", {id: "hatch-" + state, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                                 patternTransform: "rotate(45)"}, defs);
      el("rect", {width: 6, height: 6, "class": "hatch-bg"}, hatch);
      el("line", {x1: 0, y1: 0, x2: 0, y2: 6, "class": "hatch-line s-" + state}, hatch);
    });

    // Time axis and grid.
    var step = TICKS[TICKS.length - 1];
    for (var t = 0; t < TICKS.length; t++) {
      if (width / (span / 1000 / TICKS[t]) >= 90) { step = TICKS[t]; break; }
    }
    var first = Math.ceil(begin / (step * 1000)) * step * 1000;
    for (var tick = first; tick <= end; tick += step * 1000) {
      el("line", {x1: x(tick), x2: x(tick), y1: AXIS - 6, y2: height, "class": "grid"}, plot);
      var label = el("text", {x: x(tick) + 3, y: AXIS - 10, "class": "tick"}, plot);
      label.textContent = tickLabel(tick, step);
    }
    var dayLabel = el("text", {x: 4, y: 12, "class": "day"}, plot);
    dayLabel.textContent = utc(begin).slice(0, 10) + (step < 86400 ? "  (times in UTC)" : "");

    var y = AXIS, drawn = 0, pendingMarks = 0;
    lanes.forEach(function (lane, index) {
      var packed = layout[index];
      var laneHeight = packed.count * (ROW + ROW_GAP) + 2 * LANE_PAD;
      el("rect", {x: 0, y: y, width: width, height: laneHeight, "class": "lane lane-" + (index % 2)}, plot);
      el("rect", {x: 0, y: y, width: LABEL_WIDTH, height: laneHeight, "class": "lane lane-" + (index % 2)}, labels);
      var name = el("text", {x: 8, y: y + laneHeight / 2 - 1, "class": "lane-name"}, labels);
      var count = el("text", {x: 8, y: y + laneHeight / 2 + 12, "class": "lane-count"}, labels);
      count.textContent = lane.ops.length === 1 ? "1 Op" : lane.ops.length + " Ops";
      name.textContent = lane.name.length > 22 ? lane.name.slice(0, 21) + "…" : lane.name;
      var title = el("title", {}, name);
      title.textContent = lane.name + ": " + lane.ops.length + " Ops";
      lane.ops.forEach(function (i) {
        var op = ops[i], left = x(op.start), right = Math.max(x(endOf(op)), left + MIN_BAR);
        var top = y + LANE_PAD + packed.rows[i] * (ROW + ROW_GAP);
        var status = statusOf(op);
        var bar = el("rect", {x: left, y: top, width: right - left, height: ROW, rx: 2,
                              "class": "bar s-" + status + (op.end === null ? " open" : ""),
                              "data-i": i, "data-status": status, "data-id": op.id}, plot);
        drawn++;
        if (op.end === null) {
          el("path", {d: "M" + right + " " + top + "l5 " + ROW / 2 + "l-5 " + ROW / 2 + "z",
                      "class": "open-mark s-" + status, "data-i": i}, plot);
        }
        if (op.pending) {
          el("circle", {cx: right, cy: top, r: 3.5, "class": "pending-mark", "data-i": i}, plot);
          pendingMarks++;
        }
        if (pinned === i) { bar.classList.add("pinned"); }
      });
      y += laneHeight;
    });
    if (ops.some(function (op) { return op.end === null; })) {
      el("line", {x1: x(now), x2: x(now), y1: AXIS - 6, y2: height, "class": "now"}, plot);
      var nowLabel = el("text", {x: x(now) - 3, y: AXIS - 10, "class": "now-label"}, plot);
      nowLabel.textContent = "now";
    }
    container.appendChild(labels);
    scroller.appendChild(plot);
    container.appendChild(scroller);
    plot.addEventListener("mousemove", hover);
    plot.addEventListener("mouseleave", function () { document.getElementById("tooltip").hidden = true; });
    plot.addEventListener("click", click);
    body.setAttribute("data-rendered", String(drawn));
    body.setAttribute("data-pending-marks", String(pendingMarks));
    body.setAttribute("data-lanes", String(lanes.length));
  }

  function legend() {
    var counts = {};
    ops.forEach(function (op) { var s = statusOf(op); counts[s] = (counts[s] || 0) + 1; });
    var pending = ops.filter(function (op) { return op.pending; }).length;
    var box = document.getElementById("legend");
    ["done", "failed", "abandoned", "completed", "running", "dead", "stale", "open"].forEach(function (s) {
      if (!counts[s]) { return; }
      var item = html("span", null, "item", box);
      html("span", null, "swatch s-" + s, item);
      html("span", s + " " + counts[s], null, item);
    });
    if (pending) {
      var item = html("span", null, "item", box);
      html("span", null, "swatch pending", item);
      html("span", "pending " + pending, null, item);
    }
  }

  function indexOf(event) {
    var value = event.target.getAttribute && event.target.getAttribute("data-i");
    return value === null || value === undefined ? null : Number(value);
  }

  function describe(op, full) {
    var rows = [["Op", op.id], ["profile", op.profile]];
    if (op.actor) { rows.push(["actor", op.actor]); }
    rows.push(["action", op.action]);
    var status = op.status === "open" ? "open: " + op.state : op.status;
    if (op.pending) { status += " (pending: completed, not committed)"; }
    rows.push(["status", status]);
    rows.push(["started", utc(op.start)]);
    if (op.end !== null) {
      rows.push(["completed", utc(op.end)]);
      rows.push(["took", duration((op.end - op.start) / 1000)]);
    } else {
      rows.push(["open for", duration((now - op.start) / 1000)]);
    }
    if (op.mission) { rows.push(["mission", op.mission + (op.wp ? " / " + op.wp : "")]); }
    if (full && op.model) { rows.push(["model", op.model]); }
    if (op.request) {
      rows.push(["request", full || op.request.length <= 160 ? op.request : op.request.slice(0, 159) + "…"]);
    }
    if (full && op.closed_by) { rows.push(["closed by", op.closed_by]); }
    if (full && op.evidence) { rows.push(["evidence", op.evidence]); }
    if (op.artifacts.length) {
      rows.push(["artifacts", full ? op.artifacts.join("\n") :
                 op.artifacts.slice(0, 5).join(", ") + (op.artifacts.length > 5 ? ", …" : "")]);
    }
    if (op.commit_links.length) { rows.push(["commits", op.commit_links.join("\n")]); }
    rows.push(["Op commit", op.op_commit || "(not committed)"]);
    var table = html("table", null, "describe");
    rows.forEach(function (row) {
      var tr = html("tr", null, null, table);
      html("th", row[0], null, tr);
      html("td", row[1], null, tr);
    });
    return table;
  }

  function hover(event) {
    var i = indexOf(event), tip = document.getElementById("tooltip");
    if (i === null) { tip.hidden = true; return; }
    tip.textContent = "";
    tip.appendChild(describe(ops[i], false));
    tip.hidden = false;
    var left = event.clientX + 14, top = event.clientY + 14;
    if (left + tip.offsetWidth > window.innerWidth - 8) { left = event.clientX - tip.offsetWidth - 14; }
    if (top + tip.offsetHeight > window.innerHeight - 8) { top = event.clientY - tip.offsetHeight - 14; }
    tip.style.left = Math.max(left, 4) + "px";
    tip.style.top = Math.max(top, 4) + "px";
  }

  function click(event) {
    var i = indexOf(event);
    if (i !== null && window.history && history.replaceState) { history.replaceState(null, "", "#op=" + ops[i].id); }
    pin(i);
  }

  // Pin Op `i` in the details panel (the page's address #op=<id> pins one on load).
  function pin(i) {
    var panel = document.getElementById("details");
    var previous = document.querySelector(".bar.pinned");
    if (previous) { previous.classList.remove("pinned"); }
    if (i === null) { return; }
    pinned = i;
    var bar = document.querySelector('.bar[data-i="' + i + '"]');
    if (bar) { bar.classList.add("pinned"); }
    panel.textContent = "";
    panel.setAttribute("data-op", ops[i].id);
    panel.appendChild(describe(ops[i], true));
  }

  function setZoom(value) {
    var scroller = document.querySelector("#timeline .scroller");
    var centre = scroller ? (scroller.scrollLeft + scroller.clientWidth / 2) / (scroller.scrollWidth || 1) : 0;
    zoom = Math.min(Math.max(value, 1), 4096);
    render();
    scroller = document.querySelector("#timeline .scroller");
    if (scroller) { scroller.scrollLeft = centre * scroller.scrollWidth - scroller.clientWidth / 2; }
  }

  try {
    document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom * 2); });
    document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom / 2); });
    document.getElementById("zoom-fit").addEventListener("click", function () { setZoom(1); });
    document.getElementById("lane-by").addEventListener("change", render);
    document.getElementById("timeline").addEventListener("wheel", function (event) {
      if (!event.ctrlKey) { return; }
      event.preventDefault();
      setZoom(event.deltaY < 0 ? zoom * 1.5 : zoom / 1.5);
    }, {passive: false});
    var resizing = null;
    window.addEventListener("resize", function () { clearTimeout(resizing); resizing = setTimeout(render, 150); });
    legend();
    render();
    var wanted = /^#op=([0-9A-Za-z]{26})$/.exec(window.location.hash);
    if (wanted) {
      for (var k = 0; k < ops.length; k++) { if (ops[k].id === wanted[1].toUpperCase()) { pin(k); break; } }
    }
  } catch (error) {
    body.setAttribute("data-error", String(error && error.stack || error));
    throw error;
  }
}());
