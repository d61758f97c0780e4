// Admin page 差评回访: lists the follow-ups of 差评 (GET /api/v1/admin/followups?status=…) with the rating and comment,
// and closes one with its result (POST /api/v1/admin/followups/{number}/close). Uses staff.js (api, el, Staff.*).
(function () {
  "use strict";
  var el = Staff.el;
  var api = Staff.api;
  var MAX_RESULT = 1000;
  var TITLES = { open: "待回访", closed: "已办结", all: "全部回访" };

  var filter = document.getElementById("filter");
  var status = document.getElementById("status");
  var title = document.getElementById("list-title");
  var count = document.getElementById("count");
  var list = document.getElementById("followups");
  var notice = document.getElementById("notice");
  var listError = document.getElementById("list-error");

  function say(text) {
    Staff.clear(notice);
    notice.appendChild(document.createTextNode(text));
    notice.hidden = false;
  }

  function empty(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function fact(term, value) {
    return el("tr", null, el("th", { scope: "row" }, term), el("td", null, value || "—"));
  }

  function closeForm(item) {
    var id = "result-" + item.number;
    var errorId = "error-" + item.number;
    var input = el("textarea", { id: id, rows: "3", maxlength: String(MAX_RESULT), "aria-describedby": id + "-hint" });
    var error = el("p", { id: errorId, class: "error", role: "alert", hidden: true });
    var button = el("button", { type: "submit", class: "button" }, "办结");
    var form = el("form", { class: "form", novalidate: true, onsubmit: function (event) {
      event.preventDefault();
      Staff.clear(error);
      input.removeAttribute("aria-invalid");
      var text = input.value.trim();
      if (!text) {
        Staff.showError(error, new Error("请填写处理结果：核实了什么、怎样整改、是否已回访。"));
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      button.disabled = true;
      api("/api/v1/admin/followups/" + encodeURIComponent(item.number) + "/close", {
        method: "POST", body: { result: text }
      }).then(function (closed) {
        say("回访 " + closed.number + " 已办结。");
        return load();
      }, function (failure) {
        // the typed result stays in the box so nothing is lost
        Staff.showError(error, failure);
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }).then(function () { button.disabled = false; });
    } },
      el("div", { class: "field" },
        el("label", { for: id }, "处理结果"),
        el("span", { id: id + "-hint", class: "hint" }, "写明核实情况、整改措施和回访结果，最多1000字。"),
        input),
      error,
      el("div", { class: "actions" }, button));
    return form;
  }

  function card(item) {
    var badge = item.status === "open" ? "badge warn" : "badge ok";
    var headingId = "followup-" + item.number;
    var facts = [
      fact("评价等级", item.level + "（" + item.score + "分）"),
      fact("评价内容", item.comment),
      fact("评价渠道", item.channel_label),
      fact("事项编码", item.item_code),
      fact("对话编号", item.conversation_id),
      fact("登记时间", Staff.formatTime(item.created_at)),
      fact("评价时间", Staff.formatTime(item.rated_at))
    ];
    if (item.status === "closed") {
      facts.push(fact("办结时间", Staff.formatTime(item.closed_at)), fact("办结人", item.assignee),
        fact("处理结果", item.result));
    }
    return el("article", { class: "card followup", dataset: { number: item.number }, "aria-labelledby": headingId },
      el("h3", { id: headingId }, "回访编号 " + item.number + " ", el("span", { class: badge }, item.status_label)),
      el("table", { class: "list facts" }, el("tbody", null, facts)),
      item.status === "open" ? closeForm(item) : null);
  }

  function load() {
    var wanted = status.value;
    title.textContent = TITLES[wanted] || "回访";
    Staff.clear(listError);
    return api("/api/v1/admin/followups?status=" + encodeURIComponent(wanted)).then(function (data) {
      empty(list);
      var items = (data && data.followups) || [];
      count.textContent = items.length ? "共 " + items.length + " 条。" :
        (wanted === "open" ? "没有待回访的差评。" : "没有记录。");
      items.forEach(function (item) { list.appendChild(card(item)); });
    }, function (error) {
      count.textContent = "";
      Staff.showError(listError, error);
    });
  }

  filter.addEventListener("submit", function (event) { event.preventDefault(); Staff.clear(notice); load(); });
  status.addEventListener("change", function () { Staff.clear(notice); load(); });
  Staff.ready.then(load, function () { return null; });
})();
