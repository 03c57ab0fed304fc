/* qualcode review queue: j/k move between segments, n records the focused segment as
 * "nothing to code here" (the same POST as its button), Enter opens it in its transcript.
 *
 * Progressive enhancement: without this file each button is a plain form that posts and
 * comes back to the queue, which then no longer lists the segment.
 */
(function () {
  "use strict";

  var queue = document.getElementById("queue");
  if (!queue) { return; }

  var toast = window.qualcode.toast;
  var post = window.qualcode.post;

  function items() { return Array.prototype.slice.call(queue.querySelectorAll("li[data-segment]")); }
  items().forEach(function (li) { li.setAttribute("tabindex", "-1"); });

  function current(list) {
    var active = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("li[data-segment]") : null;
    var i = list.indexOf(active);
    return i >= 0 ? i : list.findIndex(function (li) { return li.classList.contains("focused"); });
  }

  function focusItem(list, i) {
    if (!list.length) { return; }
    i = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (li) { li.classList.remove("focused"); });
    list[i].classList.add("focused");
    list[i].focus({ preventScroll: true });
    list[i].scrollIntoView({ block: "center" });
  }

  function markNothing(li) {
    var form = li.querySelector("form.nothing");
    post(form.getAttribute("action"), {}).then(function () {
      var list = items(), i = list.indexOf(li);
      li.remove();
      list = items();
      if (!list.length) {
        var done = document.createElement("li");
        done.className = "muted";
        done.textContent = "Nothing left to code.";
        queue.appendChild(done);
      } else {
        focusItem(list, Math.min(i, list.length - 1));
      }
      toast("Recorded: nothing to code in that segment.");
    }).catch(function (err) { toast(err.message); });
  }

  items().forEach(function (li) {
    li.querySelector("form.nothing").addEventListener("submit", function (e) {
      e.preventDefault();
      markNothing(li);
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable]")) { return; }
    var list = items(), i = current(list);
    if (e.key === "j") { focusItem(list, i + 1); }
    else if (e.key === "k") { focusItem(list, i < 0 ? 0 : i - 1); }
    else if (e.key === "n" && i >= 0) { markNothing(list[i]); }
    else if (e.key === "Enter" && i >= 0 && t === list[i]) { list[i].querySelector(".q-head a").click(); }
    else { return; }
    e.preventDefault();
  });
})();
