// Admin page: list staff accounts, create one, change a role, disable/enable, reset a password. Every change goes
// through POST /api/v1/admin/users[/{username}]; the gateway checks that the signed-in account is an admin.
(function () {
  "use strict";
  var el = Staff.el;
  var api = Staff.api;
  var notice = document.getElementById("notice");
  var body = document.getElementById("users-body");
  var listError = document.getElementById("list-error");
  var form = document.getElementById("create-form");
  var createError = document.getElementById("create-error");
  var fields = {
    username: document.getElementById("new-username"),
    display_name: document.getElementById("new-name"),
    role: document.getElementById("new-role"),
    password: document.getElementById("new-password")
  };
  var me = null;

  function say(text) {
    Staff.clear(notice);
    notice.appendChild(document.createTextNode(text));
    notice.hidden = false;
  }

  // Mark the field an error message is about (the gateway's messages name it), so it is easy to find and fix.
  function markField(message) {
    Object.keys(fields).forEach(function (key) { fields[key].removeAttribute("aria-invalid"); });
    var target = /密码/.test(message) ? fields.password : /用户名/.test(message) ? fields.username :
      /显示名/.test(message) ? fields.display_name : null;
    if (target) { target.setAttribute("aria-invalid", "true"); target.focus(); }
  }

  function change(account, values, done) {
    Staff.clear(listError);
    return api("/api/v1/admin/users/" + encodeURIComponent(account.username), { method: "POST", body: values })
      .then(function () {
        return load().then(function () { say(done); });  // the table is up to date when the notice appears
      }, function (error) { Staff.showError(listError, error); load(); });
  }

  function stateBadge(account) {
    if (!account.active) { return el("span", { class: "badge off" }, "已停用"); }
    if (account.locked_until) { return el("span", { class: "badge warn" }, "已锁定至 " + Staff.formatTime(account.locked_until)); }
    return el("span", { class: "badge ok" }, "正常");
  }

  function passwordRow(account, row) {
    var id = "reset-" + account.username.replace(/[^a-z0-9_-]/g, "_");
    var input = el("input", { id: id, type: "password", autocomplete: "new-password", maxlength: "128" });
    var reset = el("tr", { class: "reset-row" }, el("td", { colspan: "6" },
      el("form", { class: "form inline", novalidate: true, onsubmit: function (event) {
        event.preventDefault();
        if (!input.value) { input.setAttribute("aria-invalid", "true"); input.focus(); return; }
        change(account, { password: input.value },
          "已重设 " + account.username + " 的密码，并解除锁定；该账号原有的登录已全部失效。");
      } },
        el("div", { class: "field" }, el("label", { for: id }, "给 " + account.username + " 设置新密码"), input,
          el("span", { class: "hint" }, "至少10个字符，至少两类字符")),
        el("div", { class: "actions" },
          el("button", { type: "submit", class: "button" }, "确认重设"),
          el("button", { type: "button", class: "button secondary", onclick: function () {
            reset.parentNode.removeChild(reset);
          } }, "取消")))));
    row.parentNode.insertBefore(reset, row.nextSibling);
    input.focus();
  }

  function accountRow(account) {
    var self = me && account.username === me.username;
    var roleId = "role-" + account.username.replace(/[^a-z0-9_-]/g, "_");
    var role = el("select", { id: roleId, disabled: self },
      el("option", { value: "agent", selected: account.role === "agent" }, "工作人员"),
      el("option", { value: "admin", selected: account.role === "admin" }, "管理员"));
    role.addEventListener("change", function () {
      change(account, { role: role.value },
        "已把 " + account.username + " 的角色改为" + Staff.ROLE_NAMES[role.value] + "。");
    });
    var row = el("tr", { dataset: { username: account.username } },
      el("td", { "data-label": "用户名" }, account.username, self ? el("span", { class: "muted" }, "（本人）") : null),
      el("td", { "data-label": "显示名" }, account.display_name),
      el("td", { "data-label": "角色" },
        el("label", { for: roleId, class: "visually-hidden" }, account.username + " 的角色"), role),
      el("td", { "data-label": "状态" }, stateBadge(account)),
      el("td", { "data-label": "最近登录" }, account.last_login_at ? Staff.formatTime(account.last_login_at) : "从未登录"));
    var actions = el("div", { class: "actions" });
    if (!self) {
      actions.appendChild(account.active
        ? el("button", { type: "button", class: "button danger", onclick: function () {
            change(account, { active: false }, "已停用 " + account.username + "，该账号原有的登录已全部失效。");
          } }, "停用", el("span", { class: "visually-hidden" }, " " + account.username))
        : el("button", { type: "button", class: "button secondary", onclick: function () {
            change(account, { active: true }, "已重新启用 " + account.username + "。");
          } }, "启用", el("span", { class: "visually-hidden" }, " " + account.username)));
    }
    actions.appendChild(el("button", { type: "button", class: "button secondary", onclick: function () {
      if (!row.nextSibling || !row.nextSibling.classList || !row.nextSibling.classList.contains("reset-row")) {
        passwordRow(account, row);
      }
    } }, "重设密码", el("span", { class: "visually-hidden" }, " " + account.username)));
    row.appendChild(el("td", { "data-label": "操作" }, actions));
    return row;
  }

  function load() {
    return api("/api/v1/admin/users").then(function (accounts) {
      Staff.clear(body);
      body.hidden = false;
      if (!accounts.length) {
        body.appendChild(el("tr", null, el("td", { colspan: "6", class: "muted" }, "还没有账号。")));
      }
      accounts.forEach(function (account) { body.appendChild(accountRow(account)); });
    }, function (error) { Staff.showError(listError, error); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    Staff.clear(createError);
    var values = {
      username: fields.username.value.trim(),
      display_name: fields.display_name.value.trim(),
      role: fields.role.value,
      password: fields.password.value
    };
    if (!values.username) { Staff.showError(createError, new Error("请填写用户名。")); markField("用户名"); return; }
    if (!values.password) { Staff.showError(createError, new Error("请填写初始密码。")); markField("密码"); return; }
    var submit = document.getElementById("create-submit");
    submit.disabled = true;
    api("/api/v1/admin/users", { method: "POST", body: values }).then(function (account) {
      submit.disabled = false;
      form.reset();
      markField("");
      return load().then(function () {
        say("已创建" + Staff.ROLE_NAMES[account.role] + "账号 " + account.username + "（" + account.display_name + "）。");
      });
    }, function (error) {
      submit.disabled = false;
      Staff.showError(createError, error);  // what was typed stays in the form, to be corrected
      markField(error.message);
    });
  });

  Staff.ready.then(function (user) {
    me = user;
    return load();
  }, function () { /* signed out: staff.js is going to the login page; an agent sees its notice */ });
})();
