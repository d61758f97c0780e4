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
      items.forEach(function (item, i) {
        list.appendChild(el("li", "", itemText(item)));
        spoken.push((i + 1) + ". " + itemText(item));
      });
      box.appendChild(list);
    }
    if (reply.receipt_no && (reply.text || "").indexOf(reply.receipt_no) < 0) {
      box.appendChild(el("p", "text", "受理编号：" + reply.receipt_no));
      spoken.push("受理编号：" + reply.receipt_no);
    }
    if (reply.ticket) {
      box.appendChild(el("p", "text", "已为您转人工服务，工单号：" + reply.ticket));
      spoken.push("已为您转人工服务，工单号：" + reply.ticket);
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
    if (spoken.length) {
      var read = el("button", "read");
      read.type = "button";
      showReading(read, false);
      read.addEventListener("click", function () { toggleReading(read, box, spoken.join("\n")); });
      box.appendChild(read);
    }
    if (box.childNodes.length) { show(box); }
  }

  // ---- 朗读: a reply read aloud by the gateway (POST /api/v1/tts → MP3, elder voice in 长辈版), one at a time ----
  var reader = document.getElementById("reader");
  var TTS_FAILED = "语音朗读暂时不可用，请稍后再试，或直接阅读文字回答。";
  var speeches = new WeakMap(); // read button → {standard|elder: Promise of a blob: URL}, so a second 朗读 is instant
  var reading = null; // {button, box} of the reply being read (or fetched)
  var readTurn = 0; // bumped by every start and stop: a late answer of an abandoned turn is not played
  var unlocked = false;

  function showReading(button, on) {
    button.textContent = on ? "停止" : "朗读";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.setAttribute("aria-label", on ? "停止朗读" : "朗读这条回答");
  }

  function readNote(box, message) {
    var note = box.querySelector(".read-error");
    if (!message) {
      if (note) { note.parentNode.removeChild(note); }
      return;
    }
    if (!note) {
      note = el("p", "read-error");
      note.setAttribute("role", "alert");
      box.appendChild(note);
    }
    note.textContent = message;
  }

  function Failure(message) { this.message = message; }

  function errorMessage(body, fallback) {
    var message = (body && body.error && body.error.message) || fallback;
    return /[。！？]$/.test(message) ? message : message + "。";
  }

  function fetchSpeech(text, elderVoice) {
    return fetch("/api/v1/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text, elder: elderVoice })
    }).then(function (r) {
      if (r.ok) { return r.blob().then(function (audio) { return URL.createObjectURL(audio); }); }
      return r.json().then(function (body) { throw new Failure(errorMessage(body, TTS_FAILED)); },
        function () { throw new Failure(TTS_FAILED); });
    }, function () {
      throw new Failure("网络连接失败，暂时无法朗读，请检查网络后再试。");
    });
  }

  // Mobile Safari lets a media element play later, outside a tap, only once it has played inside one: a few
  // milliseconds of silence are played on the first tap, while the speech is still being fetched.
  function unlockAudio() {
    if (unlocked) { return; }
    unlocked = true;
    var rate = 8000;
    var samples = 80;
    var wav = new DataView(new ArrayBuffer(44 + samples * 2));
    var header = [[0, "RIFF"], [8, "WAVE"], [12, "fmt "], [36, "data"]];
    header.forEach(function (field) {
      for (var i = 0; i < 4; i++) { wav.setUint8(field[0] + i, field[1].charCodeAt(i)); }
    });
    wav.setUint32(4, 36 + samples * 2, true);
    wav.setUint32(16, 16, true);
    wav.setUint16(20, 1, true);
    wav.setUint16(22, 1, true);
    wav.setUint32(24, rate, true);
    wav.setUint32(28, rate * 2, true);
    wav.setUint16(32, 2, true);
    wav.setUint16(34, 16, true);
    wav.setUint32(40, samples * 2, true);
    reader.src = URL.createObjectURL(new Blob([wav.buffer], { type: "audio/wav" }));
    var started = reader.play();
    if (started) { started.catch(function () { /* replaced by the speech, or refused: the speech will say */ }); }
  }

  function stopReading() {
    readTurn += 1;
    if (!reading) { return; }
    showReading(reading.button, false);
    reading = null;
    reader.pause();
  }

  function toggleReading(button, box, text) {
    if (reading && reading.button === button) { stopReading(); return; }
    stopReading();
    stopTalking(false);
    var turn = readTurn;
    var profile = elder ? "elder" : "standard";
    reading = { button: button, box: box };
    showReading(button, true);
    readNote(box, "");
    unlockAudio();
    var cached = speeches.get(button) || {};
    speeches.set(button, cached);
    if (!cached[profile]) {
      cached[profile] = fetchSpeech(text, profile === "elder");
      cached[profile].catch(function () { delete cached[profile]; }); // a failure is not kept: 朗读 tries again
    }
    cached[profile].then(function (url) {
      if (turn !== readTurn) { return null; }
      reading.url = url;
      reader.src = url;
      return reader.play();
    }).catch(function (error) {
      if (turn !== readTurn) { return; }
      stopReading();
      readNote(box, error instanceof Failure ? error.message : "无法播放语音，请再点一次“朗读”，或直接阅读文字回答。");
    });
  }

  // events of the reply's speech, not of the silence that unlocked the element
  function readingNow() { return reading && reading.url && reader.src === reading.url; }
  reader.addEventListener("ended", function () {
    if (readingNow()) { stopReading(); }
  });
  reader.addEventListener("error", function () {
    if (!readingNow()) { return; }
    var box = reading.box;
    stopReading();
    readNote(box, "无法播放这段语音，请再点一次“朗读”，或直接阅读文字回答。");
  });

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

  // typed: the text is in the question box (kept there if sending fails); focusAfter: where the focus goes afterwards
  // (the question box, or the 按住说话 button for voice input, so a phone's keyboard does not pop up).
  function ask(text, shown, typed, focusAfter) {
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
      (focusAfter || input).focus();
    });
  }

  // ---- 按住说话: hold-to-talk voice input → POST /api/v1/asr → the recognised text is sent as the message ----
  // Mouse and touch: hold the button, speak, let go. Keyboard and screen readers (a click with detail 0): Space or Enter
  // starts, the same again stops and sends, Esc cancels.
  var talk = document.getElementById("talk");
  var talkLabel = talk.querySelector(".talk-label");
  var voiceLine = document.getElementById("voice-line");
  var MAX_SECONDS = 60;
  var STOP_AT = MAX_SECONDS - 0.5; // the recorder needs a moment to stop: the recording stays within the gateway's limit
  var MIN_SECONDS = 0.5;
  var ASR_FAILED = "语音识别暂时不可用，请稍后再试，或直接输入文字。";
  var RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg"];
  var rec = null; // the recording: {mode: "pointer"|"key", state: "opening"|"released"|"recording"|"stopping", …}
  var recognising = false;

  function voiceSay(message, isError) {
    voiceLine.textContent = message;
    voiceLine.classList.toggle("error", Boolean(isError));
  }

  // The running count is shown, not announced: the live region speaks only when the message changes.
  function showElapsed(seconds) {
    var count = voiceLine.querySelector(".elapsed");
    if (!count) {
      count = el("span", "elapsed");
      count.setAttribute("aria-hidden", "true");
      voiceLine.insertBefore(count, voiceLine.firstChild);
    }
    count.textContent = seconds + " 秒";
  }

  function showTalking(on, mode) {
    talk.setAttribute("aria-pressed", on ? "true" : "false");
    talk.classList.toggle("recording", on);
    talkLabel.textContent = !on ? "按住说话" : mode === "key" ? "结束并发送" : "松开发送";
  }

  function micProblem(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
      return "没有使用麦克风的权限。请在浏览器设置里允许本网站使用麦克风，或直接输入文字。";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return "没有找到麦克风。请连接麦克风后再试，或直接输入文字。";
    }
    if (name === "NotReadableError" || name === "AbortError") {
      return "麦克风正被其他程序使用，请关闭它后再试，或直接输入文字。";
    }
    return "无法打开麦克风，请稍后再试，或直接输入文字。";
  }

  function recordingType() {
    if (typeof MediaRecorder.isTypeSupported !== "function") { return ""; }
    for (var i = 0; i < RECORDING_TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported(RECORDING_TYPES[i])) { return RECORDING_TYPES[i]; }
    }
    return "";
  }

  function release(session) {
    clearInterval(session.timer);
    if (session.stream) { session.stream.getTracks().forEach(function (track) { track.stop(); }); }
    if (rec === session) { rec = null; }
    showTalking(false);
  }

  function tick(session) {
    var seconds = (Date.now() - session.started) / 1000;
    if (seconds >= STOP_AT) {
      session.full = true;
      stopTalking(true);
      return;
    }
    var shown = Math.floor(seconds);
    if (shown === session.shown) { return; }
    if (session.shown < 0) {
      voiceSay("正在录音（最长" + MAX_SECONDS + "秒），" + (session.mode === "key" ?
        "说完请再按一次空格键或回车键发送，按 Esc 键取消。" : "松开按钮发送。"));
    }
    session.shown = shown;
    showElapsed(shown);
  }

  function startTalking(mode) {
    if (rec || recognising) { return; }
    if (busy) {
      voiceSay("请等上一条回答出来后再说话。", true);
      return;
    }
    if (!window.isSecureContext) {
      voiceSay("语音输入需要安全连接（https），请直接输入文字。", true);
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      voiceSay("您的浏览器不支持语音输入，请直接输入文字。", true);
      return;
    }
    stopReading();
    var session = { mode: mode, state: "opening", send: true, chunks: [], shown: -1 };
    rec = session;
    showTalking(true, mode);
    voiceSay("正在打开麦克风…");
    navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } })
      .then(function (stream) {
        session.stream = stream;
        if (rec !== session) { release(session); return; }
        if (session.state === "released") { // let go while the browser was asking for permission
          release(session);
          voiceSay(session.send ? "麦克风已准备好。请按住按钮说话，说完再松开。" : "已取消录音。");
          return;
        }
        var type = recordingType();
        try {
          session.recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
        } catch (e) {
          release(session);
          voiceSay("您的浏览器无法录音，请直接输入文字。", true);
          return;
        }
        session.recorder.addEventListener("dataavailable", function (e) {
          if (e.data && e.data.size) { session.chunks.push(e.data); }
        });
        session.recorder.addEventListener("stop", function () { finish(session); });
        session.recorder.start(1000);
        session.state = "recording";
        session.started = Date.now();
        tick(session);
        session.timer = setInterval(function () { tick(session); }, 200);
      }, function (error) {
        if (rec !== session) { return; }
        release(session);
        voiceSay(micProblem(error), true);
      });
  }

  function stopTalking(send) {
    var session = rec;
    if (!session || session.state === "released" || session.state === "stopping") { return; } // the first word counts
    session.send = send;
    if (session.state === "opening") { session.state = "released"; return; }
    session.state = "stopping";
    session.seconds = (Date.now() - session.started) / 1000;
    clearInterval(session.timer);
    session.recorder.stop(); // the last data, then "stop": finish()
  }

  function finish(session) {
    release(session);
    if (!session.send) {
      voiceSay("已取消录音。");
      return;
    }
    if (session.seconds < MIN_SECONDS) {
      voiceSay("说话时间太短。请按住按钮说话，说完再松开。", true);
      return;
    }
    var type = session.recorder.mimeType || (session.chunks.length && session.chunks[0].type) || "audio/webm";
    var audio = new Blob(session.chunks, { type: type });
    if (!audio.size) {
      voiceSay("没有录到声音，请检查麦克风后再试，或直接输入文字。", true);
      return;
    }
    recognise(audio, session.full);
  }

  function recognise(audio, full) {
    recognising = true;
    talk.setAttribute("aria-disabled", "true");
    voiceSay(full ? "录音已满" + MAX_SECONDS + "秒，正在识别您说的话…" : "正在识别您说的话…");
    fetch("/api/v1/asr", { method: "POST", headers: { "Content-Type": audio.type }, body: audio }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
        return { ok: false, body: null };
      });
    }).then(function (res) {
      var text = res.ok && res.body && typeof res.body.text === "string" ? res.body.text.trim() : "";
      if (!text) {
        voiceSay(res.ok ? "没有听清您说的话，请靠近话筒再说一遍，或直接输入文字。" : errorMessage(res.body, ASR_FAILED), true);
        return;
      }
      input.value = text;
      if (busy) { // a typed message is still on its way: this one waits in the box
        voiceSay("已识别，文字在输入框里，请稍后点“发送”。");
        return;
      }
      voiceSay("");
      ask(text, text, true, talk);
    }, function () {
      voiceSay("网络连接失败，录音没有发出去。请检查网络后再试，或直接输入文字。", true);
    }).then(function () {
      recognising = false;
      talk.removeAttribute("aria-disabled");
    });
  }

  talk.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    e.preventDefault(); // no text selection or focus move while the button is held
    if (rec) { stopTalking(true); return; } // recording by keyboard: a press ends it
    try { talk.setPointerCapture(e.pointerId); } catch (err) { /* the pointer is already gone */ }
    startTalking("pointer");
  });
  function letGo(send) {
    return function () { if (rec && rec.mode === "pointer") { stopTalking(send); } };
  }
  talk.addEventListener("pointerup", letGo(true));
  talk.addEventListener("lostpointercapture", letGo(true));
  talk.addEventListener("pointercancel", letGo(false));
  talk.addEventListener("click", function (e) {
    if (e.detail !== 0) { return; } // a pointer's click: pointerdown and pointerup did the work
    if (rec) { stopTalking(true); } else { startTalking("key"); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && rec) { e.preventDefault(); stopTalking(false); }
  });
  talk.addEventListener("contextmenu", function (e) { e.preventDefault(); }); // a long press is not a menu
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { stopTalking(false); stopReading(); }
  });

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
