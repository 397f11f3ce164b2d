(function (rootId) {
  "use strict";
  var root = document.getElementById(rootId);
  var data = JSON.parse(root.querySelector("script.bt-hv-data").textContent);
  var svg = root.querySelector("svg.bt-hv-lines");
  var layerSelect = root.querySelector("select.bt-hv-layer");
  var filterSelect = root.querySelector("select.bt-hv-filter");
  var wordsBox = root.querySelector("input.bt-hv-words");
  var headButtons = Array.prototype.slice.call(root.querySelectorAll(".bt-hv-head"));
  function cells(selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  var columns = {
    token: { left: cells(".bt-hv-left .bt-hv-token:not(.bt-hv-word)"),
             right: cells(".bt-hv-right .bt-hv-token:not(.bt-hv-word)"),
             attention: data.attention, segments: data.segments },
    word: { left: cells(".bt-hv-left .bt-hv-word"), right: cells(".bt-hv-right .bt-hv-word"),
            attention: data.word_attention, segments: data.word_segments }
  };
  var left, right, n, segments, attention;
  var ROW = 20, WIDTH = 200, MIN_WEIGHT = 0.01, SVGNS = "http://www.w3.org/2000/svg";
  var state = { layer: 0, heads: data.heads.map(function (_, h) { return h; }), hover: null, filter: "all",
                level: "token" };

  function useLevel(level) {
    var c = columns[level];
    state.level = level; state.hover = null;
    left = c.left; right = c.right; n = left.length; segments = c.segments; attention = c.attention;
    root.classList.toggle("bt-hv-wordlevel", level === "word");
    svg.setAttribute("height", n * ROW); svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + n * ROW);
    root.setAttribute("data-level", level);
  }

  function color(head) { return "hsl(" + Math.round(head * 360 / data.heads.length) + ", 70%, 42%)"; }

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var layer = parseInt(params.get("layer"), 10);
    if (!isNaN(layer) && layer >= 0 && layer < data.layers.length) { state.layer = layer; }
    if (params.get("heads")) {
      var heads = params.get("heads").split(",").map(function (h) { return parseInt(h, 10); })
        .filter(function (h) { return !isNaN(h) && h >= 0 && h < data.heads.length; });
      if (heads.length) { state.heads = heads; }
    }
  }

  function allowed(q, k) {
    if (state.filter === "ab") { return segments[q] === 0 && segments[k] === 1; }
    if (state.filter === "ba") { return segments[q] === 1 && segments[k] === 0; }
    return true;
  }

  function render() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var matrices = attention[state.layer];
    var keyWeight = new Array(n).fill(0), queryWeight = new Array(n).fill(0);
    state.heads.forEach(function (h) {
      var m = matrices[h];
      for (var q = 0; q < n; q++) {
        for (var k = 0; k < n; k++) {
          var w = m[q][k];
          if (state.hover && state.hover.side === "left" && state.hover.index === q) { keyWeight[k] += w / state.heads.length; }
          if (state.hover && state.hover.side === "right" && state.hover.index === k) { queryWeight[q] += w / state.heads.length; }
          if (w < MIN_WEIGHT || !allowed(q, k)) { continue; }
          if (state.hover && ((state.hover.side === "left" && state.hover.index !== q) ||
                              (state.hover.side === "right" && state.hover.index !== k))) { continue; }
          var line = document.createElementNS(SVGNS, "line");
          line.setAttribute("x1", 2); line.setAttribute("y1", q * ROW + ROW / 2);
          line.setAttribute("x2", WIDTH - 2); line.setAttribute("y2", k * ROW + ROW / 2);
          line.setAttribute("stroke", color(h)); line.setAttribute("stroke-width", 2);
          line.setAttribute("stroke-opacity", w);
          line.setAttribute("data-head", h); line.setAttribute("data-q", q); line.setAttribute("data-k", k);
          line.setAttribute("data-weight", w);
          svg.appendChild(line);
        }
      }
    });
    left.forEach(function (el, i) {
      el.classList.toggle("bt-hv-active", !!state.hover && state.hover.side === "left" && state.hover.index === i);
      el.style.background = state.hover && state.hover.side === "right" ? "rgba(230,159,0," + queryWeight[i] + ")" : "";
    });
    right.forEach(function (el, i) {
      el.classList.toggle("bt-hv-active", !!state.hover && state.hover.side === "right" && state.hover.index === i);
      el.style.background = state.hover && state.hover.side === "left" ? "rgba(230,159,0," + keyWeight[i] + ")" : "";
    });
    headButtons.forEach(function (button, h) {
      button.classList.toggle("bt-hv-on", state.heads.indexOf(h) >= 0);
    });
    layerSelect.value = String(state.layer);
    root.setAttribute("data-layer", state.layer);
    root.setAttribute("data-heads", state.heads.join(","));
    root.setAttribute("data-hover", state.hover ? state.hover.side + ":" + state.hover.index : "");
    root.setAttribute("data-lines", svg.childNodes.length);
  }

  headButtons.forEach(function (button, h) {
    button.style.background = color(h);
    button.addEventListener("click", function () {
      var at = state.heads.indexOf(h);
      if (at >= 0 && state.heads.length > 1) { state.heads.splice(at, 1); } else if (at < 0) { state.heads.push(h); }
      state.heads.sort(function (a, b) { return a - b; });
      render();
    });
    button.addEventListener("dblclick", function () { state.heads = [h]; render(); });
  });
  layerSelect.addEventListener("change", function () { state.layer = parseInt(layerSelect.value, 10); render(); });
  if (filterSelect) {
    filterSelect.addEventListener("change", function () { state.filter = filterSelect.value; render(); });
  }
  if (wordsBox) {
    wordsBox.addEventListener("change", function () { useLevel(wordsBox.checked ? "word" : "token"); render(); });
  }
  ["token", "word"].forEach(function (level) {
    [["left", columns[level].left], ["right", columns[level].right]].forEach(function (pair) {
      pair[1].forEach(function (el, i) {
        var enter = function () { state.hover = { side: pair[0], index: i }; render(); };
        var leave = function () { state.hover = null; render(); };
        el.addEventListener("mouseenter", enter); el.addEventListener("focus", enter);
        el.addEventListener("mouseleave", leave); el.addEventListener("blur", leave);
      });
    });
  });
  useLevel("token");
  window.addEventListener("hashchange", function () { readHash(); render(); });
  readHash();
  render();
})
