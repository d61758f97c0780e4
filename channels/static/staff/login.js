// Staff login page: POST /api/v1/staff/login (the gateway sets the HttpOnly session cookie), then go to ?next= — only a
// path on this site (Staff.safeNext), never another site — or to the staff console.
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var username = document.getElementById("username");
  var password = document.getElementById("password");
  var submit = document.getElementById("login-submit");
  var errorBox = document.getElementById("login-error");
  var next = Staff.safeNext(new URLSearchParams(window.location.search).get("next") || "/staff/");

  function invalid(input, message) {
    input.setAttribute("aria-invalid", "true");
    Staff.showError(errorBox, new Error(message));
    input.focus();
  }

  [username, password].forEach(function (input) {
    input.addEventListener("input", function () { input.removeAttribute("aria-invalid"); });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = username.value.trim().toLowerCase();
    if (!name) { invalid(username, "请输入用户名。"); return; }
    if (!password.value) { invalid(password, "请输入密码。"); return; }
    Staff.clear(errorBox);
    submit.disabled = true;
    submit.textContent = "正在登录…";
    Staff.api("/api/v1/staff/login", {
      method: "POST",
      body: { username: name, password: password.value },
      redirect: false
    }).then(function () {
      window.location.assign(next);
    }, function (error) {
      submit.disabled = false;
      submit.textContent = "登录";
      password.value = "";
      invalid(password, error.message);
    });
  });

  username.focus();
})();
