// 好差评 on the H5 page: an inline panel at the end of the conversation (never a pop-up: 适老化), five large labelled
// choices (a native radio group: Tab into it, arrow keys to choose), an optional comment, 提交评价.
// It offers itself when a conversation comes to an end — a reply hands over to a person (type "handoff"), a reply
// carries a 受理编号 (an application submitted, or its progress told), or the chat response says state.ended — and is
// opened at any time with 评价 in the header. chat.js tells it about every turn with the DOM event "zhiban:turn"
// (detail {replies, state, session_id}). One rating per conversation; rating again within 24 hours replaces it.
(function () {
  "use strict";
  var LEVELS = [
    { score: 5, label: "非常满意" },
    { score: 4, label: "满意" },
    { score: 3, label: "基本满意" },
    { score: 2, label: "不满意" },
    { score: 1, label: "非常不满意" }
  ];
  var MAX_COMMENT = 500;

  var container = document.getElementById("rating-panel");
  var opener = document.getElementById("rate-open");
  if (!container) { return; }

  function load(key) {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { sessionStorage.setItem(key, value); } catch (e) { /* storage blocked: remembered until the page closes */ }
  }

  var sessionId = load("zhiban.session");
  var offered = false; // offered by itself once per conversation; 评价 in the header opens it any time

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // ---- the panel ----
  var intro = el("p", { "class": "rating-intro", id: "rating-intro", "aria-live": "polite" });
  var choices = LEVELS.map(function (level) {
    var input = el("input", { type: "radio", name: "rating-score", value: String(level.score), id: "rating-" + level.score });
    var label = el("label", { "class": "rating-choice rating-" + level.score, "for": input.id },
      [input, el("span", { "class": "rating-label", text: level.label })]);
    return label;
  });
  var group = el("fieldset", { "class": "rating-levels" }, [
    el("legend", { text: "您对这次服务满意吗？（必选）" }),
    el("div", { "class": "rating-choices" }, choices)
  ]);
  var comment = el("textarea", {
    id: "rating-comment", name: "comment", rows: "3", maxlength: String(MAX_COMMENT),
    "aria-describedby": "rating-comment-hint"
  });
  var commentBox = el("div", { "class": "rating-comment" }, [
    el("label", { "for": "rating-comment", text: "想说的话（可不填）" }),
    el("p", { id: "rating-comment-hint", "class": "rating-hint", text: "最多500字。请不要填写身份证号、手机号等个人信息。" }),
    comment
  ]);
  var error = el("p", { "class": "rating-error", id: "rating-error", role: "alert" });
  error.hidden = true;
  var submit = el("button", { type: "submit", id: "rating-submit", text: "提交评价" });
  var later = el("button", { type: "button", id: "rating-later", "class": "secondary", text: "暂不评价" });
  var form = el("form", { id: "rating-form", "class": "rating-form", novalidate: "" }, [
    group, commentBox, error, el("div", { "class": "rating-actions" }, [submit, later])
  ]);
  var result = el("div", { "class": "rating-result", id: "rating-result", role: "status", tabindex: "-1" });
  var change = el("button", { type: "button", id: "rating-change", "class": "secondary", text: "修改评价" });
  change.hidden = true;
  var heading = el("h2", { id: "rating-title", tabindex: "-1", text: "服务评价" });
  var panel = el("section", { "class": "rating", id: "rating", "aria-labelledby": "rating-title" },
    [heading, intro, form, result, change]);
  panel.hidden = true;
  container.appendChild(panel);

  function chosen() {
    var checked = form.querySelector("input[name=rating-score]:checked");
    return checked ? parseInt(checked.value, 10) : 0;
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function clearResult() {
    while (result.firstChild) { result.removeChild(result.firstChild); }
  }

  function resetFor(newSession) {
    // a new conversation (the gateway issued another session id): the earlier rating belongs to the old one
    sessionId = newSession;
    offered = false;
    form.reset();
    form.hidden = false;
    change.hidden = true;
    error.hidden = true;
    clearResult();
  }

  function open(byItself) {
    var rated = sessionId && load("zhiban.rated") === sessionId;
    form.hidden = !sessionId || rated;
    change.hidden = !rated;
    if (!sessionId) {
      intro.textContent = "请先提问，对话之后就可以为这次服务评价。";
    } else if (rated) {
      intro.textContent = result.firstChild ? "" : "您已经评价过这次服务，24小时内可以修改。";
    } else {
      intro.textContent = byItself
        ? "这次服务就到这里。如果方便，请选择一个满意程度，帮助我们改进。"
        : "请选择一个满意程度，也可以写下您的意见。";
    }
    panel.hidden = false;
    if (byItself) {
      // the person keeps typing where they were: the panel is shown below the conversation, focus stays put
      return;
    }
    panel.scrollIntoView({ block: "start" });
    heading.focus();
  }

  function close() {
    panel.hidden = true;
    var question = document.getElementById("text");
    if (question) { question.focus(); }
  }

  function ended(detail) {
    if (detail.state && detail.state.ended) { return true; }
    return (detail.replies || []).some(function (reply) {
      return reply && (reply.type === "handoff" || reply.receipt_no);
    });
  }

  document.addEventListener("zhiban:turn", function (event) {
    var detail = event.detail || {};
    if (detail.session_id && detail.session_id !== sessionId) { resetFor(detail.session_id); }
    if (!offered && sessionId && ended(detail) && load("zhiban.rated") !== sessionId) {
      offered = true;
      open(true);
    }
  });

  if (opener) {
    opener.addEventListener("click", function () {
      var current = load("zhiban.session");
      if (current && current !== sessionId) { resetFor(current); }
      open(false);
    });
  }
  later.addEventListener("click", close);
  change.addEventListener("click", function () {
    form.hidden = false;
    change.hidden = true;
    var checked = form.querySelector("input[name=rating-score]:checked") || form.querySelector("input[name=rating-score]");
    checked.focus();
  });

  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    error.hidden = true;
    var score = chosen();
    if (!score) {
      showError("请先选择一个满意程度（从“非常满意”到“非常不满意”）。");
      form.querySelector("input[name=rating-score]").focus();
      return;
    }
    if (comment.value.length > MAX_COMMENT) {
      showError("想说的话太长了，请控制在" + MAX_COMMENT + "字以内（现在" + comment.value.length + "字）。");
      comment.focus();
      return;
    }
    busy = true;
    submit.setAttribute("aria-disabled", "true");
    fetch("/api/v1/rating", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId, score: score, comment: comment.value, channel: "h5" })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
        return { ok: false, body: null };
      });
    }).then(function (res) {
      if (!res.ok || !res.body || !res.body.level) {
        var message = (res.body && res.body.error && res.body.error.message) || "评价没有提交成功，请稍后再试。";
        showError(message + "您选择的内容还在，可以稍后再提交。");
        return;
      }
      save("zhiban.rated", sessionId);
      clearResult();
      result.appendChild(el("p", { "class": "rating-thanks", text: res.body.message }));
      if (res.body.followup_number) {
        result.appendChild(el("p", { "class": "rating-number" }, [
          document.createTextNode("回访编号："),
          el("strong", { id: "rating-followup", text: res.body.followup_number })
        ]));
      }
      form.hidden = true;
      change.hidden = false;
      intro.textContent = "";
      result.focus();
    }).catch(function () {
      showError("网络连接失败，评价没有提交。您选择的内容还在，请检查网络后再提交。");
    }).then(function () {
      busy = false;
      submit.removeAttribute("aria-disabled");
    });
  });
})();
