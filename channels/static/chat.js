// H5 web chat: sends what the person types to /api/v1/chat and renders the replies. No external libraries.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var send = document.getElementById("send");
  var sessionId = sessionStorage.getItem("zhiban.session") || null;

  function bubble(kind, text) {
    var div = document.createElement("div");
    div.className = "msg " + kind;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function render(reply) {
    var div = bubble("bot", reply.text || "");
    if (reply.buttons && reply.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      reply.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { ask(b.payload, b.title); });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
  }

  function ask(text, shown) {
    bubble("me", shown || text);
    send.disabled = true;
    fetch("/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId, text: text })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) {
        bubble("error", (res.body.error && res.body.error.message) || "请求失败，请稍后再试。");
        if (res.body.error && res.body.error.code === "invalid_session") {
          sessionId = null;
          sessionStorage.removeItem("zhiban.session");
        }
        return;
      }
      sessionId = res.body.session_id;
      sessionStorage.setItem("zhiban.session", sessionId);
      res.body.replies.forEach(render);
    }).catch(function () {
      bubble("error", "网络连接失败，请检查网络后再试。");
    }).then(function () {
      send.disabled = false;
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    ask(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
})();
