// H5 web chat: sends what the person types to /api/v1/chat and renders the replies. No external libraries.
// 长辈版 (elder mode): larger type (18–32 px, default 24), larger controls, `elder: true` sent with every message.
(function () {
  "use strict";
  var root = document.documentElement;
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var send = document.getElementById("send");
  var elderSwitch = document.getElementById("elder");
  var smaller = document.getElementById("smaller");
  var bigger = document.getElementById("bigger");
  var sizeNow = document.getElementById("size-now");
  var status = document.getElementById("status");

  var SIZE_MIN = 18;
  var SIZE_MAX = 32;
  var SIZE_DEFAULT = 24;
  var SIZE_STEP = 2;

  function load(store, key) {
    try { return store.getItem(key); } catch (e) { return null; }
  }
  function save(store, key, value) {
    try {
      if (value === null) { store.removeItem(key); } else { store.setItem(key, value); }
    } catch (e) { /* storage blocked: the setting lasts until the page is closed */ }
  }

  var sessionId = load(sessionStorage, "zhiban.session");
  var busy = false;

  // ---- 长辈版 and font size ----
  var elder = load(localStorage, "zhiban.elder") === "1";
  var size = parseInt(load(localStorage, "zhiban.elderSize") || "", 10);
  if (!(size >= SIZE_MIN && size <= SIZE_MAX)) { size = SIZE_DEFAULT; }

  function applyElder() {
    root.classList.toggle("elder", elder);
    root.style.setProperty("--elder-fs", size + "px");
    elderSwitch.setAttribute("aria-pressed", elder ? "true" : "false");
    sizeNow.textContent = String(size);
    smaller.disabled = size <= SIZE_MIN;
    bigger.disabled = size >= SIZE_MAX;
  }
  elderSwitch.addEventListener("click", function () {
    elder = !elder;
    save(localStorage, "zhiban.elder", elder ? "1" : null);
    applyElder();
  });
  function resize(delta) {
    size = Math.max(SIZE_MIN, Math.min(SIZE_MAX, size + delta));
    save(localStorage, "zhiban.elderSize", String(size));
    applyElder();
  }
  smaller.addEventListener("click", function () { resize(-SIZE_STEP); });
  bigger.addEventListener("click", function () { resize(SIZE_STEP); });
  applyElder();

  // ---- rendering ----
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function show(node) {
    log.appendChild(node);
    node.scrollIntoView({ block: "end" });
    return node;
  }

  function bubble(kind, text) {
    return show(el("div", "msg " + kind, text));
  }

  function citationLine(c) {
    var parts = [c.item_name || c.item_code, c.section].filter(Boolean);
    return "来源：" + parts.join(" · ");
  }

  // The text of a reply is written for plain-text channels too: it repeats the list lines and the source line.
  // The page shows those as a list and as source lines, so they are taken out of the text.
  function strip(text, items, citations) {
    var wanted = {};
    items.forEach(function (item) { wanted[itemText(item)] = true; });
    return text.split("\n").filter(function (line) {
      var bare = line.trim().replace(/^(\d+[.、）)]|[-•·])\s*/, "");
      if (citations.length && /^来源：/.test(line.trim())) { return false; }
      return !(items.length && (wanted[bare] || wanted[line.trim()]));
    }).join("\n").replace(/^\n+|\n+$/g, "");
  }

  function itemText(item) {
    if (item === null || item === undefined) { return ""; }
    if (typeof item !== "object") { return String(item); }
    return String(item.text || item.name || item.title || item.label || JSON.stringify(item));
  }

  function safeUrl(url) {
    var parsed;
    try { parsed = new URL(url, location.href); } catch (e) { return null; }
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  }

  function speak(text) {
    window.speechSynthesis.cancel();
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function render(reply) {
    var items = reply.items || [];
    var citations = reply.citations || [];
    var box = el("div", "msg bot reply-" + (reply.type || "text"));
    var spoken = [];
    if (reply.title) {
      box.appendChild(el("h3", "title", reply.title));
      spoken.push(reply.title);
    }
    var text = strip(reply.text || "", items, citations);
    if (text) {
      box.appendChild(el("p", "text", text));
      spoken.push(text);
    }
    if (items.length) {
      var list = el("ol", "items");
      items.forEach(function (item) {
        list.appendChild(el("li", "", itemText(item)));
        spoken.push(itemText(item));
      });
      box.appendChild(list);
    }
    if (reply.receipt_no && (reply.text || "").indexOf(reply.receipt_no) < 0) {
      box.appendChild(el("p", "text", "受理编号：" + reply.receipt_no));
    }
    if (reply.ticket) {
      box.appendChild(el("p", "text", "已为您转人工服务，工单号：" + reply.ticket));
    }
    citations.forEach(function (c) {
      box.appendChild(el("p", "source", citationLine(c)));
    });
    var links = (reply.links || []).filter(function (l) { return safeUrl(l.url); });
    if (links.length) {
      var linkRow = el("div", "links");
      links.forEach(function (l) {
        var a = el("a", "", l.title || l.url);
        a.href = safeUrl(l.url);
        a.target = "_blank";
        a.rel = "noopener";
        linkRow.appendChild(a);
      });
      box.appendChild(linkRow);
    }
    if (reply.buttons && reply.buttons.length) {
      var row = el("div", "buttons");
      reply.buttons.forEach(function (b) {
        var btn = el("button", "choice", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () { ask(b.payload, b.title, false); });
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
    if (spoken.length && "speechSynthesis" in window) {
      var read = el("button", "read", "朗读");
      read.type = "button";
      read.setAttribute("aria-label", "朗读这条回答");
      read.addEventListener("click", function () { speak(spoken.join("\n")); });
      box.appendChild(read);
    }
    if (box.childNodes.length) { show(box); }
  }

  // ---- the conversation's state: what it is about, how far a form has got ----
  var STAGES = { resume: "待确认是否接着填草稿", reuse: "待确认是否沿用以前的信息", materials: "核对材料", confirm: "核对信息，待提交" };
  var FORM_DONE = { paused: "已暂存", submitted: "已提交", cancelled: "已取消" };

  function statusText(state) {
    if (!state) { return ""; }
    var form = state.active_form;
    var progress = state.form_progress;
    if (form && form.status === "filling") {
      var line = "正在填写：" + form.name;
      if (progress && progress.stage === "fields") {
        line += " · 已填 " + progress.answered + "/" + progress.total + " 项";
      } else if (progress && STAGES[progress.stage]) {
        line += " · " + STAGES[progress.stage];
      }
      return line;
    }
    if (form && FORM_DONE[form.status]) { return FORM_DONE[form.status] + "：" + form.name; }
    if (state.ended) { return "对话已结束。还有问题可以继续问我。"; }
    if (state.current_item) { return "当前事项：" + state.current_item.name; }
    return "";
  }

  // state null means the gateway could not read it this turn: the last known line stays.
  function showState(state, remember) {
    if (state === null || state === undefined) { return; }
    var line = statusText(state);
    if (status.textContent !== line) { status.textContent = line; }
    if (remember) { save(sessionStorage, "zhiban.status", line || null); }
  }
  if (sessionId) { status.textContent = load(sessionStorage, "zhiban.status") || ""; }

  // ---- talking to the gateway ----
  function fail(message, typed) {
    bubble("error", message + (typed ? "您输入的内容还在输入框里，可以稍后再发送。" : ""));
  }

  function ask(text, shown, typed) {
    if (busy) { return; }
    busy = true;
    send.setAttribute("aria-disabled", "true");
    log.setAttribute("aria-busy", "true");
    bubble("me", shown || text);
    fetch("/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId, text: text, elder: elder })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
        return { ok: false, body: null };
      });
    }).then(function (res) {
      var error = res.body && res.body.error;
      if (!res.ok || !res.body || !res.body.replies) {
        if (error && error.code === "invalid_session") {
          sessionId = null;
          save(sessionStorage, "zhiban.session", null);
          showState({}, true);
        }
        var message = (error && error.message) || "服务暂时不可用，请稍后再试。";
        if (!/[。！？]$/.test(message)) { message += "。"; }
        fail(message, typed);
        return;
      }
      sessionId = res.body.session_id;
      save(sessionStorage, "zhiban.session", sessionId);
      if (typed && input.value.trim() === text) { input.value = ""; }
      if (!res.body.replies.length) {
        bubble("bot", "抱歉，我没有听明白。请换个说法，或拨打 12345 热线。");
      }
      res.body.replies.forEach(render);
      showState(res.body.state, true);
      document.dispatchEvent(new CustomEvent("zhiban:turn", { detail: { replies: res.body.replies, state: res.body.state || null, session_id: sessionId } }));
    }).catch(function () {
      fail("网络连接失败，请检查网络后再试。", typed);
    }).then(function () {
      busy = false;
      send.removeAttribute("aria-disabled");
      log.removeAttribute("aria-busy");
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    ask(text, text, true);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
})();
