// Shared helpers of the staff and admin pages (智办 工作人员端). A classic script, no libraries: load it before the page's
// own script and use its globals (also reachable as window.Staff.*):
//
//   <header class="staff-bar" data-staff-bar data-title="办件工作台"></header>   <!-- filled in: user, links, 退出 -->
//   <script src="/staff/staff.js"></script>
//   <script src="/staff/console.js"></script>
//
//   api(path, options)            fetch JSON from the gateway with the session cookie. options: method ("GET"), body (an
//                                 object, sent as JSON), headers, redirect (true: on 401 go to the login page). Resolves to
//                                 the parsed body (null for an empty one); rejects with an Error whose message is the
//                                 gateway's Chinese message, plus .status, .code and .detail.
//   el(tag, attrs, ...children)   build an element. attrs: class, text, dataset {…}, on<event> handlers (onclick: fn),
//                                 true/false for boolean attributes, anything else as an attribute. children: nodes,
//                                 strings (as text, never HTML), arrays; null/undefined/false are skipped.
//   Staff.ready                   a Promise of the signed-in user {username, display_name, role} (pages with a staff bar);
//                                 a page with data-require-role="admin" on its bar shows a notice to agents instead.
//   Staff.currentUser()           the same Promise, for pages without a bar.
//   Staff.showError(box, error)   put an error's message in box (role="alert"); Staff.clear(box) empties it.
//   Staff.formatTime(iso)         "2026-11-30 14:05" in local time.
//   Staff.loginUrl(next)          /staff/login.html?next=<next>; Staff.safeNext(value) keeps only same-site paths.
(function () {
  "use strict";

  var LOGIN_PAGE = "/staff/login.html";
  var HOME = "/staff/";
  var ROLE_NAMES = { agent: "工作人员", admin: "管理员" };

  // Only a path on this site may be the target after login: "/x", never "//evil.example", "/\evil" or "https://…".
  function safeNext(value) {
    if (typeof value !== "string" || value.charAt(0) !== "/" || value.charAt(1) === "/" || value.charAt(1) === "\\") {
      return HOME;
    }
    if (/[\u0000-\u001f\\]/.test(value)) { return HOME; }
    try {
      var url = new URL(value, window.location.origin);
      if (url.origin !== window.location.origin || url.pathname === LOGIN_PAGE) { return HOME; }
      return url.pathname + url.search + url.hash;
    } catch (e) {
      return HOME;
    }
  }

  function loginUrl(next) {
    var here = next || (window.location.pathname + window.location.search + window.location.hash);
    return LOGIN_PAGE + "?next=" + encodeURIComponent(safeNext(here));
  }

  function apiError(status, body) {
    var info = (body && body.error) || {};
    var message = info.message || (status === 0 ? "无法连接服务器，请检查网络后再试。" : "操作没有成功（" + status + "），请稍后再试。");
    var error = new Error(message);
    error.status = status;
    error.code = info.code || "";
    error.detail = info.detail || [];
    return error;
  }

  function api(path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    var extra = options.headers || {};
    Object.keys(extra).forEach(function (key) { headers[key] = extra[key]; });
    var init = { method: options.method || "GET", credentials: "same-origin", headers: headers };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        if (text) {
          try { body = JSON.parse(text); } catch (e) { body = null; }
        }
        if (response.status === 401 && options.redirect !== false) {
          window.location.assign(loginUrl());
        }
        if (!response.ok) { throw apiError(response.status, body); }
        return body;
      });
    }, function () {
      throw apiError(0, null);
    });
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    attrs = attrs || {};
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "class" || key === "className") {
        node.className = value;
      } else if (key === "text") {
        node.textContent = String(value);
      } else if (key === "dataset") {
        Object.keys(value).forEach(function (name) { node.dataset[name] = value[name]; });
      } else if (key.slice(0, 2) === "on" && typeof value === "function") {
        node.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (value === true) {
        node.setAttribute(key, "");
      } else {
        node.setAttribute(key, String(value));
      }
    });
    function add(child) {
      if (child === null || child === undefined || child === false) { return; }
      if (Array.isArray(child)) { child.forEach(add); return; }
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    for (var i = 2; i < arguments.length; i++) { add(arguments[i]); }
    return node;
  }

  function clear(box) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.hidden = true;
  }

  function showError(box, error) {
    clear(box);
    box.setAttribute("role", "alert");
    box.appendChild(document.createTextNode(error && error.message ? error.message : String(error)));
    box.hidden = false;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatTime(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
      pad(d.getMinutes());
  }

  var userPromise = null;
  function currentUser() {
    if (!userPromise) { userPromise = api("/api/v1/staff/me"); }
    return userPromise;
  }

  function logout() {
    return api("/api/v1/staff/logout", { method: "POST", redirect: false }).catch(function () { return null; })
      .then(function () { window.location.assign(LOGIN_PAGE); });
  }

  function fillBar(bar, user) {
    var links = [el("a", { href: "/staff/" }, "办件工作台")];
    if (user.role === "admin") {
      links.push(el("a", { href: "/admin/" }, "管理后台"));
      links.push(el("a", { href: "/admin/users.html" }, "账号管理"));
    }
    var here = window.location.pathname;
    links.forEach(function (a) {
      if (a.getAttribute("href") === here) { a.setAttribute("aria-current", "page"); }
    });
    clear(bar);
    bar.hidden = false;
    bar.appendChild(el("div", { class: "staff-bar-title" },
      el("strong", null, "智办"), " ", el("span", null, bar.dataset.title || "工作人员端")));
    bar.appendChild(el("nav", { class: "staff-bar-links", "aria-label": "页面" }, links));
    bar.appendChild(el("div", { class: "staff-bar-user" },
      el("span", { id: "staff-user", class: "staff-user" },
        user.display_name + "（" + (ROLE_NAMES[user.role] || user.role) + "）"),
      el("button", { type: "button", class: "button secondary", id: "staff-logout", onclick: logout }, "退出")));
  }

  function mountStaffBar() {
    var bar = document.querySelector("[data-staff-bar]");
    if (!bar) { return null; }
    return currentUser().then(function (user) {
      fillBar(bar, user);
      var needed = bar.dataset.requireRole;
      if (needed && user.role !== needed) {
        var main = document.querySelector("main") || document.body;
        clear(main);
        main.hidden = false;
        main.appendChild(el("p", { class: "error", role: "alert" }, "您的账号没有此页面的权限。"));
        throw new Error("您的账号没有此页面的权限。");
      }
      return user;
    });
  }

  function onDomReady(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  // Asked for lazily, so that a page without a staff bar (the login page) never asks who is signed in.
  var readyPromise = null;
  function whenReady() {
    if (!readyPromise) {
      readyPromise = new Promise(function (resolve) { onDomReady(resolve); }).then(function () {
        return mountStaffBar() || currentUser();
      });
    }
    return readyPromise;
  }
  // a page with a staff bar checks the sign-in at once (and goes to the login page when signed out)
  onDomReady(function () {
    if (document.querySelector("[data-staff-bar]")) {
      whenReady().catch(function () { return null; });
    }
  });

  window.api = api;
  window.el = el;
  window.Staff = {
    api: api,
    el: el,
    currentUser: currentUser,
    logout: logout,
    showError: showError,
    clear: clear,
    formatTime: formatTime,
    loginUrl: loginUrl,
    safeNext: safeNext,
    ROLE_NAMES: ROLE_NAMES
  };
  Object.defineProperty(window.Staff, "ready", { get: whenReady, enumerable: true });
})();
