// 坐席辅助工作台 (agent-assist console): call notes → top-3 suggested answers with sources, confidence, copy and feedback;
// the handoff queue (refreshed every 15 s) → a ticket's summary, history, 接单 / 办结; the draft 工单, editable and copyable.
// Uses api() and el() from /staff/staff.js. No inline script or style: the page runs under the gateway's strict CSP.
(function () {
  "use strict";

  var QUEUE_REFRESH_MS = 15000;
  var LEVELS = { high: "把握较大", medium: "需核实", low: "仅供参考" };
  var STATUS_CLASS = { answered: "notice", clarify: "warning", not_found: "warning" };

  var $ = function (id) { return document.getElementById(id); };
  var callLog = [];          // what the caller said so far in this call: {text (sent as context), shown (masked)}
  var currentTicket = null;  // number of the ticket shown
  var me = null;             // the signed-in user

  // --- copying ----------------------------------------------------------------------------------------------------
  function announce(message) {
    var status = $("copy-status");
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 30);
  }

  function copyWithSelection(text) {
    var box = $("copy-fallback");
    var active = document.activeElement;
    box.value = text;
    box.focus();
    box.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    box.value = "";
    if (active && active.focus) { active.focus(); }
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); });
    }
    return copyWithSelection(text);
  }

  function copyButton(button, text, label) {
    copyText(text).then(function () {
      button.textContent = "已复制";
      announce(label + "已复制到剪贴板");
      window.setTimeout(function () { button.textContent = button.dataset.label; }, 2000);
    }, function () {
      announce("复制没有成功，请手动选中文字复制。");
    });
  }

  // --- suggestions ------------------------------------------------------------------------------------------------
  function percent(value) { return Math.round(value * 100) + "%"; }

  function sourceLine(suggestion) {
    var c = suggestion.citations[0] || {};
    var line = "来源：" + (c.item_name || suggestion.item_name) + " · " + (c.section || suggestion.section);
    var extra = [];
    if (c.source) { extra.push(c.source); }
    if (c.updated_at) { extra.push("更新于 " + c.updated_at); }
    return extra.length ? line + "（" + extra.join("，") + "）" : line;
  }

  function sendFeedback(suggestion, query, helpful, buttons, state) {
    buttons.forEach(function (b) { b.disabled = true; });
    state.textContent = "正在提交…";
    api("/api/v1/agent/feedback", {
      method: "POST",
      body: {
        query: query, item_code: suggestion.item_code, section: suggestion.section, rank: suggestion.rank,
        confidence: suggestion.confidence, helpful: helpful
      }
    }).then(function () {
      buttons[helpful ? 0 : 1].setAttribute("aria-pressed", "true");
      state.textContent = "已反馈：" + (helpful ? "有帮助" : "没帮助") + "，谢谢。";
    }, function (error) {
      buttons.forEach(function (b) { b.disabled = false; });
      state.textContent = error.message;
    });
  }

  function suggestionCard(suggestion, query) {
    var headingId = "suggestion-" + suggestion.rank;
    var state = el("span", { class: "feedback-state", role: "status" });
    var copy = el("button", { type: "button", class: "button secondary copy", dataset: { label: "复制" },
                              "aria-describedby": headingId }, "复制");
    copy.addEventListener("click", function () { copyButton(copy, suggestion.text, "建议" + suggestion.rank); });
    var good = el("button", { type: "button", class: "button secondary helpful", "aria-pressed": "false",
                              "aria-describedby": headingId }, "有帮助");
    var bad = el("button", { type: "button", class: "button secondary unhelpful", "aria-pressed": "false",
                             "aria-describedby": headingId }, "没帮助");
    var buttons = [good, bad];
    good.addEventListener("click", function () { sendFeedback(suggestion, query, true, buttons, state); });
    bad.addEventListener("click", function () { sendFeedback(suggestion, query, false, buttons, state); });
    var meter = el("meter", { min: "0", max: "1", low: "0.3", high: "0.6", optimum: "1",
                              value: String(suggestion.confidence), "aria-label": "置信度" });
    return el("article", { class: "card suggestion level-" + suggestion.level, dataset: { rank: suggestion.rank } },
      el("h3", { id: headingId }, "建议" + suggestion.rank + "：" + suggestion.item_name + " · " + suggestion.section),
      el("p", { class: "confidence" },
        el("span", { class: "badge level" }, LEVELS[suggestion.level] || suggestion.level), " ",
        el("span", { class: "confidence-text" }, "置信度 " + percent(suggestion.confidence)), " ", meter),
      el("p", { class: "answer pre" }, suggestion.text),
      el("p", { class: "source muted" }, sourceLine(suggestion)),
      el("div", { class: "actions" }, copy, good, bad, state));
  }

  function renderSuggestions(body, query) {
    var box = $("suggestions");
    Staff.clear(box);
    box.hidden = false;
    box.appendChild(el("p", { class: (STATUS_CLASS[body.status] || "notice") + " summary-note" },
      body.suggestions.length ? "找到" + body.suggestions.length + "条建议。" + body.note : body.note));
    body.suggestions.forEach(function (s) { box.appendChild(suggestionCard(s, query)); });
  }

  function renderCallLog() {
    var list = $("call-log");
    Staff.clear(list);
    list.hidden = false;
    callLog.forEach(function (entry) { list.appendChild(el("li", null, entry.shown)); });
    $("call-log-box").hidden = callLog.length === 0;
  }

  function ask(event) {
    if (event) { event.preventDefault(); }
    var notes = $("notes");
    var text = notes.value.trim();
    var error = $("ask-error");
    Staff.clear(error);
    if (!text) {
      Staff.showError(error, new Error("请先输入来电人说的话。"));
      notes.focus();
      return;
    }
    var button = $("ask");
    button.disabled = true;
    $("suggestions").setAttribute("aria-busy", "true");
    var context = callLog.slice(-10).map(function (entry) { return entry.text; });
    api("/api/v1/agent/suggest", { method: "POST", body: { text: text, context: context } })
      .then(function (body) {
        renderSuggestions(body, text);
        fillDraft(body.draft, "根据本次来电记录填写");
        callLog.push({ text: text, shown: body.text });
        renderCallLog();
        notes.value = "";  // only once it was answered: on an error the words stay
      }, function (failure) {
        Staff.showError(error, failure);
      })
      .then(function () {
        button.disabled = false;
        $("suggestions").setAttribute("aria-busy", "false");
      });
  }

  function newCall() {
    callLog = [];
    renderCallLog();
    $("notes").value = "";
    Staff.clear($("ask-error"));
    var box = $("suggestions");
    Staff.clear(box);
    box.hidden = false;
    box.appendChild(el("p", { class: "muted" }, "新来电：请输入来电人的问题。"));
    $("notes").focus();
  }

  // --- the draft 工单 ------------------------------------------------------------------------------------------------
  function fillDraft(draft, origin) {
    $("draft-request").value = draft.request;
    $("draft-item").value = draft.item;
    $("draft-facts").value = draft.facts_text;
    $("draft-channel").value = draft.channel;
    $("draft-time").value = draft.time;
    $("draft-origin").textContent = origin + "，可以修改后复制。";
  }

  function draftText() {
    return [
      "诉求：" + $("draft-request").value.trim(),
      "事项：" + $("draft-item").value.trim(),
      "关键信息：" + $("draft-facts").value.trim(),
      "来源：" + $("draft-channel").value.trim(),
      "时间：" + $("draft-time").value.trim()
    ].join("\n");
  }

  // --- the queue ----------------------------------------------------------------------------------------------------
  function shortTime(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }

  function firstLine(text) {
    var lines = (text || "").split("\n").filter(function (l) { return l.indexOf("诉求") === 0; });
    return lines[0] || (text || "").split("\n")[0] || "";
  }

  function statusBadge(ticket) {
    var kind = ticket.status === "open" ? "warn" : ticket.status === "closed" ? "off" : "ok";
    return el("span", { class: "badge " + kind }, ticket.status_label);
  }

  function loadQueue() {
    return api("/api/v1/agent/handoffs").then(function (body) {
      var list = $("queue");
      Staff.clear($("queue-error"));
      Staff.clear(list);
      list.hidden = false;
      if (!body.tickets.length) {
        list.appendChild(el("li", { class: "muted empty" }, "目前没有等待处理的转人工工单。"));
      }
      body.tickets.forEach(function (t) {
        var button = el("button", { type: "button", class: "queue-item", dataset: { number: t.number },
                                    "aria-current": t.number === currentTicket ? "true" : false },
          el("span", { class: "queue-line" }, el("strong", null, t.number), " ", statusBadge(t), " ",
            el("span", { class: "muted" }, t.age)),
          el("span", { class: "queue-line" }, t.reason_label + " · " + (t.item_name || "事项未确定") + " · " + t.channel +
            (t.assignee ? " · 接单：" + t.assignee : "")),
          el("span", { class: "queue-line muted" }, firstLine(t.summary)));
        button.addEventListener("click", function () { openTicket(t.number, true); });
        list.appendChild(el("li", null, button));
      });
      $("queue-updated").textContent = "每15秒自动刷新，最近刷新 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    }, function (error) {
      Staff.showError($("queue-error"), error);
    });
  }

  function meta(label, value) {
    return [el("dt", null, label), el("dd", null, value || "—")];
  }

  function renderTicket(t) {
    currentTicket = t.number;
    $("ticket").hidden = false;
    $("ticket-title").textContent = "工单 " + t.number;
    var dl = $("ticket-meta");
    Staff.clear(dl);
    dl.hidden = false;
    [
      meta("状态", t.status_label), meta("类型", t.kind_label + "（" + t.reason_label + "）"),
      meta("事项", t.item_name ? t.item_code + " " + t.item_name : "未确定"), meta("来源", t.channel),
      meta("时间", shortTime(t.created_at) + "（" + t.age + "）"), meta("接单人", t.assignee),
      t.resolution ? meta("办理结果", t.resolution) : []
    ].forEach(function (pair) { pair.forEach(function (node) { dl.appendChild(node); }); });
    $("ticket-summary").textContent = t.summary;
    var history = $("history");
    Staff.clear(history);
    history.hidden = false;
    t.history.forEach(function (turn) {
      history.appendChild(el("li", { class: "turn " + turn.role },
        el("span", { class: "who" }, turn.role === "user" ? "用户" : "智能助手"),
        el("span", { class: "when muted" }, shortTime(turn.time)),
        el("span", { class: "said pre" }, turn.text)));
    });
    if (!t.history.length && t.history_available) {
      history.appendChild(el("li", { class: "muted" }, "没有对话记录。"));
    }
    $("history-note").hidden = t.history_available;
    var claim = $("claim");
    claim.hidden = t.status !== "open";
    $("close-form").hidden = t.status === "closed";
    fillDraft(t.draft, "根据工单 " + t.number + " 填写");
  }

  function openTicket(number, focus) {
    Staff.clear($("ticket-error"));
    Staff.clear($("ticket-notice"));
    return api("/api/v1/agent/handoffs/" + encodeURIComponent(number)).then(function (t) {
      renderTicket(t);
      Array.prototype.forEach.call(document.querySelectorAll(".queue-item"), function (b) {
        if (b.dataset.number === number) { b.setAttribute("aria-current", "true"); } else { b.removeAttribute("aria-current"); }
      });
      if (focus) { $("ticket-title").focus(); }
    }, function (error) {
      $("ticket").hidden = false;
      Staff.showError($("ticket-error"), error);
    });
  }

  function notice(message) {
    var box = $("ticket-notice");
    box.textContent = message;
    box.hidden = false;
  }

  function claimTicket() {
    var number = currentTicket;
    $("claim").disabled = true;
    api("/api/v1/agent/handoffs/" + encodeURIComponent(number) + "/claim", { method: "POST" }).then(function () {
      return openTicket(number, false).then(function () { notice("已接单，请尽快处理。"); });
    }, function (error) {
      Staff.showError($("ticket-error"), error);
    }).then(function () {
      $("claim").disabled = false;
      loadQueue();
    });
  }

  function closeTicket(event) {
    event.preventDefault();
    var number = currentTicket;
    var resolution = $("resolution");
    Staff.clear($("ticket-error"));
    if (!resolution.value.trim()) {
      resolution.setAttribute("aria-invalid", "true");
      Staff.showError($("ticket-error"), new Error("请填写办理结果。"));
      resolution.focus();
      return;
    }
    resolution.removeAttribute("aria-invalid");
    $("close").disabled = true;
    api("/api/v1/agent/handoffs/" + encodeURIComponent(number) + "/close", {
      method: "POST", body: { resolution: resolution.value.trim() }
    }).then(function () {
      resolution.value = "";
      return openTicket(number, false).then(function () { notice("工单已办结。"); });
    }, function (error) {
      Staff.showError($("ticket-error"), error);
    }).then(function () {
      $("close").disabled = false;
      loadQueue();
    });
  }

  // --- wiring -------------------------------------------------------------------------------------------------------
  function start() {
    $("ask-form").addEventListener("submit", ask);
    $("notes").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { ask(event); }
    });
    $("new-call").addEventListener("click", newCall);
    $("refresh-queue").addEventListener("click", loadQueue);
    $("claim").addEventListener("click", claimTicket);
    $("close-form").addEventListener("submit", closeTicket);
    var copyDraft = $("copy-draft");
    copyDraft.dataset.label = copyDraft.textContent;
    copyDraft.addEventListener("click", function () { copyButton(copyDraft, draftText(), "工单草稿"); });
    Staff.ready.then(function (user) {
      me = user;
      loadQueue();
      window.setInterval(loadQueue, QUEUE_REFRESH_MS);
    }, function () { return null; });
  }

  window.ZhibanConsole = { copyText: copyText, draftText: draftText, whoAmI: function () { return me; } };
  start();
})();
