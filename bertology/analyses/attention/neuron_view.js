(function (rootId) {
  "use strict";
  var root = document.getElementById(rootId);
  var data = JSON.parse(root.querySelector("script.bt-nv-data").textContent);
  var layerSelect = root.querySelector("select.bt-nv-layer");
  var headSelect = root.querySelector("select.bt-nv-head");
  var querySelect = root.querySelector("select.bt-nv-query");
  var body = root.querySelector("tbody.bt-nv-rows");
  var state = { layer: 0, head: 0, query: 0 };

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    [["layer", data.layers], ["head", data.heads], ["query", data.tokens]].forEach(function (pair) {
      var value = parseInt(params.get(pair[0]), 10);
      if (!isNaN(value) && value >= 0 && value < pair[1].length) { state[pair[0]] = value; }
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function vector(values, max) {
    var td = el("td", "bt-nv-vector");
    values.forEach(function (v) {
      var alpha = max > 0 ? Math.min(1, Math.abs(v) / max) : 0;
      var span = el("span", "bt-nv-cell");
      span.style.background = (v >= 0 ? "rgba(0,114,178," : "rgba(213,94,0,") + alpha.toFixed(3) + ")";
      span.title = v.toFixed(4);
      td.appendChild(span);
    });
    return td;
  }

  function maxAbs(rows) {
    var m = 0;
    rows.forEach(function (row) { row.forEach(function (v) { m = Math.max(m, Math.abs(v)); }); });
    return m;
  }

  function render() {
    var q = data.queries[state.layer][state.head][state.query];
    var keys = data.keys[state.layer][state.head];
    var products = keys.map(function (k) { return k.map(function (v, e) { return v * q[e]; }); });
    var scores = products.map(function (p) { return p.reduce(function (a, b) { return a + b; }, 0) * data.scale; });
    var top = Math.max.apply(null, scores);
    var exps = scores.map(function (s) { return Math.exp(s - top); });
    var total = exps.reduce(function (a, b) { return a + b; }, 0);
    var weights = exps.map(function (e) { return e / total; });
    var model = data.attention[state.layer][state.head][state.query];
    var vectorMax = maxAbs(keys.concat([q])), productMax = maxAbs(products);
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var queryRow = el("tr", "bt-nv-query-row");
    queryRow.appendChild(el("th", "bt-nv-label", data.tokens[state.query]));
    queryRow.appendChild(vector(q, vectorMax));
    queryRow.appendChild(el("td", "bt-nv-note", "query q"));
    body.appendChild(queryRow);
    keys.forEach(function (k, j) {
      var row = el("tr", "bt-nv-key-row");
      row.setAttribute("data-key", j);
      row.appendChild(el("th", "bt-nv-label", data.tokens[j]));
      row.appendChild(vector(k, vectorMax));
      row.appendChild(vector(products[j], productMax));
      row.appendChild(el("td", "bt-nv-num bt-nv-score", scores[j].toFixed(4)));
      var bar = el("td", "bt-nv-num bt-nv-weight", weights[j].toFixed(3));
      bar.style.background = "rgba(230,159,0," + weights[j].toFixed(3) + ")";
      row.appendChild(bar);
      row.appendChild(el("td", "bt-nv-num bt-nv-model", model[j].toFixed(3)));
      body.appendChild(row);
    });
    layerSelect.value = String(state.layer);
    headSelect.value = String(state.head);
    querySelect.value = String(state.query);
    root.setAttribute("data-layer", state.layer);
    root.setAttribute("data-head", state.head);
    root.setAttribute("data-query", state.query);
    root.setAttribute("data-scores", JSON.stringify(scores));
  }

  [["layer", layerSelect], ["head", headSelect], ["query", querySelect]].forEach(function (pair) {
    pair[1].addEventListener("change", function () { state[pair[0]] = parseInt(pair[1].value, 10); render(); });
  });
  body.addEventListener("click", function (event) {
    var row = event.target.closest("tr.bt-nv-key-row");
    if (row) { state.query = parseInt(row.getAttribute("data-key"), 10); render(); }
  });
  window.addEventListener("hashchange", function () { readHash(); render(); });
  readHash();
  render();
})
