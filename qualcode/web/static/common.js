/* qualcode pages: what every script shares. window.qualcode.toast(message) shows a message
 * for five seconds; window.qualcode.post(url, data) POSTs a form with the page's CSRF token
 * and resolves to the JSON reply, or rejects with the server's one-line error (following a
 * redirect the server asks for, e.g. to choose a coder name first).
 */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function toast(message) {
    var el = document.getElementById("toast");
    if (!el) {
      el = document.createElement("div");
      el.id = "toast";
      el.setAttribute("role", "alert");
      document.body.appendChild(el);
    }
    el.textContent = message;
    el.className = "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.className = ""; }, 5000);
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: new URLSearchParams(data || {}),
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (resp) {
      return resp.json().catch(function () { return { error: resp.statusText }; }).then(function (body) {
        if (!resp.ok) {
          if (body.redirect) { window.location.assign(body.redirect); }
          throw new Error(body.error || ("request failed: " + resp.status));
        }
        return body;
      });
    });
  }

  window.qualcode = { toast: toast, post: post };
}());
