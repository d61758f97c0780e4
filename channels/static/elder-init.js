// Applies the remembered 长辈版 setting and font size before the page is painted (chat.js does the rest).
(function () {
  "use strict";
  try {
    var root = document.documentElement;
    if (localStorage.getItem("zhiban.elder") === "1") { root.classList.add("elder"); }
    var size = parseInt(localStorage.getItem("zhiban.elderSize") || "", 10);
    if (size >= 18 && size <= 32) { root.style.setProperty("--elder-fs", size + "px"); }
  } catch (e) { /* storage blocked: start in the standard version */ }
})();
