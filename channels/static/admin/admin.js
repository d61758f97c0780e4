// Admin pages: 统计分析 (index.html: period, summary, SVG charts with their data tables, channels) and 知识库
// (knowledge.html: status, sheet import with row errors, background rebuild with status polling). Uses /staff/staff.js.
(function () {
  "use strict";
  var el = Staff.el;
  var api = Staff.api;
  var CHANNEL_NAMES = { h5: "网页（H5）", mini: "小程序", wechat: "公众号", phone: "电话" };

  function percent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function fillSummary(box, pairs) {
    Staff.clear(box);
    box.hidden = false;
    pairs.forEach(function (pair) {
      box.appendChild(el("div", null, el("dt", null, pair[0]), el("dd", { class: pair[2] || "" }, pair[1])));
    });
  }

  // The gateway's SVG (escaped on the server) is parsed as XML, never as HTML, and imported as nodes.
  function svgNode(markup) {
    var doc = new DOMParser().parseFromString(markup, "image/svg+xml");
    if (doc.getElementsByTagName("parsererror").length) { return el("p", { class: "muted" }, "图表无法显示，请看下面的数据表。"); }
    return document.importNode(doc.documentElement, true);
  }

  function dataTable(table, id) {
    // a scrolling box: reachable by keyboard, and named for screen readers
    return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": table.caption + "（数据表）" },
      el("table", { class: "list", id: id },
        el("caption", null, table.caption + "（数据表）"),
        el("thead", null, el("tr", null, table.columns.map(function (c) { return el("th", { scope: "col" }, c); }))),
        el("tbody", null, table.rows.length ? table.rows.map(function (row) {
          return el("tr", null, row.map(function (cell, i) {
            return i === 0 ? el("th", { scope: "row", "data-label": table.columns[0] }, cell)
              : el("td", { "data-label": table.columns[i] }, cell);
          }));
        }) : el("tr", null, el("td", { colspan: String(table.columns.length), class: "muted" }, "这段时间没有数据。")))));
  }

  // ---- 统计分析 ----
  function analyticsPage() {
    var form = document.getElementById("period-form");
    var status = document.getElementById("analytics-status");
    var error = document.getElementById("analytics-error");
    var summary = document.getElementById("summary");
    var charts = document.getElementById("charts");
    var channels = document.getElementById("channels-body");
    var sequence = 0;

    function days() {
      var checked = form.querySelector("input[name=days]:checked");
      return checked ? checked.value : "30";
    }

    function show(data) {
      var a = data.analytics;
      var s = a.summary;
      var r = a.ratings;
      fillSummary(summary, [
        ["对话轮次", String(s.turns)],
        ["会话数", String(s.conversations)],
        ["解决率", percent(s.resolution_rate)],
        ["转人工率", percent(s.handoff_rate)],
        ["未找到答案率", percent(s.not_found_rate)],
        ["评价数", String(r.count)],
        ["平均评分", r.average === null ? "—" : fixed(r.average, 2) + " 分"],
        ["差评", String(r.bad)],
        ["响应时间（中位数）", s.latency_median_ms === null ? "—" : s.latency_median_ms + " 毫秒"]
      ]);
      Staff.clear(charts);
      charts.hidden = false;
      data.charts.forEach(function (chart) {
        charts.appendChild(el("section", { class: "card chart-card", id: chart.id + "-card", "aria-labelledby": chart.id + "-heading" },
          el("h2", { id: chart.id + "-heading" }, chart.title),
          el("figure", null, svgNode(chart.svg)),
          dataTable(chart.table, chart.id + "-table")));
      });
      Staff.clear(channels);
      channels.hidden = false;
      if (!a.channels.length) {
        channels.appendChild(el("tr", null, el("td", { colspan: "6", class: "muted" }, "这段时间没有数据。")));
      }
      a.channels.forEach(function (c) {
        channels.appendChild(el("tr", null,
          el("th", { scope: "row", "data-label": "渠道" }, CHANNEL_NAMES[c.channel] || c.channel),
          el("td", { "data-label": "对话轮次" }, String(c.turns)),
          el("td", { "data-label": "会话数" }, String(c.conversations)),
          el("td", { "data-label": "解决率" }, percent(c.resolution_rate)),
          el("td", { "data-label": "评价数" }, String(c.ratings)),
          el("td", { "data-label": "平均评分" }, fixed(c.average_rating, 2))));
      });
      status.textContent = "已显示" + a.period.first + "至" + a.period.last + "（共" + a.period.days + "天）的统计。";
    }

    function load() {
      var mine = ++sequence;
      Staff.clear(error);
      status.textContent = "正在加载…";
      return api("/api/v1/admin/analytics/charts?days=" + encodeURIComponent(days())).then(function (data) {
        if (mine === sequence) { show(data); }
      }, function (problem) {
        if (mine === sequence) {
          status.textContent = "";
          Staff.showError(error, problem);
        }
      });
    }

    form.addEventListener("change", load);
    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    Staff.ready.then(load, function () { status.textContent = ""; });
  }

  // ---- 知识库 ----
  function knowledgePage() {
    var statusBox = document.getElementById("kb-status");
    var statusError = document.getElementById("status-error");
    var rebuildButton = document.getElementById("rebuild");
    var rebuildStatus = document.getElementById("rebuild-status");
    var rebuildError = document.getElementById("rebuild-error");
    var form = document.getElementById("import-form");
    var fileInput = document.getElementById("sheet");
    var submit = document.getElementById("import-submit");
    var result = document.getElementById("import-result");
    var errors = document.getElementById("import-errors");
    var timer = null;
    var wasRunning = false;

    function showStatus(s) {
      document.getElementById("sheet-hint").textContent = ".xlsx、.csv 或 .jsonl，最大 " + s.upload_max_mb + " MB";
      var documents = s.documents === null ? "—" : s.documents + "（事项" + s.items + "、一件事" + s.bundles + "、政策" +
        s.policies + "、问答" + s.faqs + "）";
      var index = s.index_error ? "没有索引" : s.running ? "正在重建…" : s.up_to_date ? "已是最新" : "知识库有改动，需要重建";
      fillSummary(statusBox, [
        ["文档数", documents, "text"],
        ["检索段落数", s.passages === null ? "—" : String(s.passages)],
        ["索引建立时间", s.built_at ? Staff.formatTime(s.built_at) : "—", "text"],
        ["索引状态", index, "text"]
      ]);
      rebuildButton.disabled = s.running;
      Staff.clear(rebuildError);
      if (s.corpus_error) { Staff.showError(statusError, new Error(s.corpus_error)); } else { Staff.clear(statusError); }
      if (s.running) {
        rebuildStatus.textContent = "正在重建索引，请稍候…（开始于 " + Staff.formatTime(s.started_at) + "）";
      } else if (s.last_error) {
        rebuildStatus.textContent = "";
        Staff.showError(rebuildError, new Error(s.last_error));
      } else if (s.finished_at) {
        rebuildStatus.textContent = "索引已于 " + Staff.formatTime(s.finished_at) + " 重建完成，共 " + s.passages + " 个段落。";
      } else if (wasRunning) {
        rebuildStatus.textContent = "索引已重建完成。";
      }
      wasRunning = s.running;
      clearTimeout(timer);
      if (s.running) { timer = setTimeout(refresh, 1500); }
    }

    function refresh() {
      return api("/api/v1/admin/knowledge/status").then(showStatus, function (problem) {
        Staff.showError(statusError, problem);
      });
    }

    rebuildButton.addEventListener("click", function () {
      Staff.clear(rebuildError);
      rebuildButton.disabled = true;
      rebuildStatus.textContent = "正在开始重建…";
      api("/api/v1/admin/knowledge/rebuild", { method: "POST" }).then(showStatus, function (problem) {
        rebuildButton.disabled = false;
        rebuildStatus.textContent = "";
        Staff.showError(rebuildError, problem);
        refresh();
      });
    });

    function showProblems(problem) {
      Staff.clear(errors);
      errors.appendChild(el("p", null, problem.message));
      if (problem.detail && problem.detail.length) {
        errors.appendChild(el("ul", null, problem.detail.map(function (d) { return el("li", null, d.message); })));
      }
      errors.hidden = false;
      fileInput.setAttribute("aria-invalid", "true");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      Staff.clear(result);
      Staff.clear(errors);
      fileInput.removeAttribute("aria-invalid");
      var file = fileInput.files && fileInput.files[0];
      if (!file) {
        showProblems(new Error("请先选择要导入的文件。"));
        fileInput.focus();
        return;
      }
      var body = new FormData();
      body.append("file", file, file.name);
      submit.disabled = true;
      submit.textContent = "正在导入…";
      // multipart: staff.js's api() sends JSON only, so the upload uses fetch with the same cookie and 401 handling
      fetch("/api/v1/admin/knowledge/import", {
        method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (response.status === 401) { window.location.assign(Staff.loginUrl()); }
          if (!response.ok) {
            var info = (data && data.error) || {};
            var problem = new Error(info.message || "导入没有成功（" + response.status + "），请稍后再试。");
            problem.detail = info.detail || [];
            throw problem;
          }
          return data;
        });
      }, function () {
        throw new Error("无法连接服务器，请检查网络后再试。");
      }).then(function (data) {
        result.textContent = data.message;
        result.hidden = false;
        form.reset();
        refresh();
      }, showProblems).then(function () {
        submit.disabled = false;
        submit.textContent = "导入";
      });
    });

    Staff.ready.then(refresh, function () { return null; });
  }

  var which = document.body.getAttribute("data-admin-page");
  if (which === "analytics") { analyticsPage(); }
  if (which === "knowledge") { knowledgePage(); }
})();
