// Custos: progressive enhancement only. Every page works without this file.
// Upload forms (data-upload) show a progress bar: the form is sent by XMLHttpRequest with the
// same fields (the CSRF token first), and the answer replaces the page as a normal submit would.
(function () {
  "use strict";
  function enhance(form) {
    var box = form.querySelector("[data-progress]");
    var bar = box && box.querySelector("progress");
    var text = box && box.querySelector("[data-progress-text]");
    if (!box || !bar || !window.XMLHttpRequest || !window.FormData) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      box.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var pct = Math.floor((e.loaded / e.total) * 100);
          bar.value = pct;
          text.textContent = pct + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
        var summary = document.getElementById("error-summary");
        if (summary) { summary.focus(); }
      });
      xhr.addEventListener("error", function () {
        if (button) { button.disabled = false; }
        text.textContent = "!";
      });
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
