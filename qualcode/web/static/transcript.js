/* qualcode transcript page: select words and apply a code from a searchable tree, review
 * suggestions with one click or one key (j/k move, a accept, r reject, u undo, n nothing
 * (more) to code in the focused suggestion's turn).
 *
 * Progressive enhancement: every action here is also a plain HTML form that works without
 * this file. Offsets sent to the server are DOCUMENT CODE POINTS: each highlighted piece of
 * a turn carries data-start (its first code point in the document), and JavaScript string
 * indices (UTF-16 code units) are converted by counting code points, so an emoji before
 * the selection counts once, as it does in Python.
 */
(function () {
  "use strict";

  var transcript = document.getElementById("transcript");
  if (!transcript) { return; }
  document.documentElement.classList.add("js");
  var docId = transcript.getAttribute("data-document");
  var panel = document.getElementById("apply-panel");
  var applyForm = document.getElementById("apply-form");
  var info = document.getElementById("selection-info");
  var search = document.getElementById("code-search");
  var tree = document.getElementById("code-tree");
  var undoForm = document.getElementById("undo-form");
  var pending = null;
  panel.hidden = false;

  /* --- helpers ------------------------------------------------------------------------ */
  function cpLen(s) { return Array.from(s).length; }  // code points, not UTF-16 units

  var toast = window.qualcode.toast;
  var post = window.qualcode.post;

  function reloadAt(anchor) {
    if (anchor) { window.location.hash = anchor; }
    window.location.reload();
  }

  /* --- selection -> document offsets ----------------------------------------------------- */
  function boundary(segEl, node, offset) {
    var segStart = +segEl.getAttribute("data-start");
    var segEnd = +segEl.getAttribute("data-end");
    if (!segEl.contains(node)) {
      var pos = segEl.compareDocumentPosition(node);
      return (pos & Node.DOCUMENT_POSITION_PRECEDING) ? segStart : segEnd;
    }
    if (node.nodeType === Node.TEXT_NODE) {
      var piece = node.parentElement.closest("[data-start]");
      return +piece.getAttribute("data-start") + cpLen(node.data.slice(0, offset));
    }
    if (node === segEl) {  // offset counts the pieces before the point
      var child = segEl.children[offset];
      return child ? +child.getAttribute("data-start") : segEnd;
    }
    var el = node.closest("[data-start]");
    return +el.getAttribute("data-start") + (offset === 0 ? 0 : cpLen(el.textContent));
  }

  function segmentsIn(range) {
    return Array.prototype.filter.call(transcript.querySelectorAll(".seg-text"), function (el) {
      return range.intersectsNode(el);
    });
  }

  function readSelection() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) { return null; }
    var range = sel.getRangeAt(0);
    var segs = segmentsIn(range);
    if (segs.length === 0) { return null; }
    if (segs.length > 1) { return { error: "Select words within one turn." }; }
    var segEl = segs[0];
    if (!segEl.hasAttribute("data-codable")) { return { error: "Interviewer turns are not coded." }; }
    var segStart = +segEl.getAttribute("data-start");
    var start = boundary(segEl, range.startContainer, range.startOffset);
    var end = boundary(segEl, range.endContainer, range.endOffset);
    var chars = Array.from(segEl.textContent);  // the segment as code points
    var a = start - segStart, b = end - segStart;
    while (a < b && /\s/.test(chars[a])) { a++; }
    while (b > a && /\s/.test(chars[b - 1])) { b--; }
    if (a >= b) { return null; }
    return { segment: segEl.getAttribute("data-segment"), start: segStart + a, end: segStart + b,
             text: chars.slice(a, b).join("") };
  }

  function setPending(p) {
    pending = p;
    var buttons = tree.querySelectorAll(".code-btn");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = !p; }
    if (!p) {
      info.className = "muted";
      info.textContent = "Select words in a turn with the mouse, then choose a code.";
      return;
    }
    applyForm.setAttribute("action", "/documents/" + docId + "/segments/" + p.segment + "/codes");
    document.getElementById("apply-start").value = p.start === null ? "" : p.start;
    document.getElementById("apply-end").value = p.end === null ? "" : p.end;
    info.className = "ready";
    info.textContent = "";
    if (p.start === null) {
      info.appendChild(document.createTextNode("The whole turn. Choose a code:"));
    } else {
      info.appendChild(document.createTextNode("Selected "));
      var q = document.createElement("q");
      q.textContent = p.text.length > 140 ? p.text.slice(0, 140) + "…" : p.text;
      info.appendChild(q);
      info.appendChild(document.createTextNode(" (characters " + p.start + "–" + p.end + "). Choose a code:"));
    }
  }

  function onSelect(event) {
    if (event && event.target && event.target.closest && event.target.closest("#apply-panel")) { return; }
    var found = readSelection();
    if (found && found.error) { toast(found.error); setPending(null); return; }
    if (found) { setPending(found); return; }
    if (event && event.target && event.target.closest && event.target.closest("#transcript") &&
        !event.target.closest(".chip, .add-link")) { setPending(null); }
  }
  document.addEventListener("mouseup", onSelect);
  document.addEventListener("keyup", function (e) { if (e.shiftKey) { onSelect(e); } });

  Array.prototype.forEach.call(transcript.querySelectorAll(".add-link"), function (link) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      var segEl = link.closest(".seg").querySelector(".seg-text");
      setPending({ segment: segEl.getAttribute("data-segment"), start: null, end: null, text: "" });
      search.focus();
    });
  });

  /* --- the searchable codebook tree ---------------------------------------------------------- */
  search.addEventListener("input", function () {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var items = tree.querySelectorAll("li");
    var keep = {};
    Array.prototype.forEach.call(items, function (li) {
      var hay = li.getAttribute("data-search");
      var hit = terms.length > 0 && terms.every(function (t) { return hay.indexOf(t) >= 0; });
      li.classList.toggle("match", hit);
      if (hit || !terms.length) {
        var parts = li.getAttribute("data-path").split("/");
        for (var i = 1; i <= parts.length; i++) { keep[parts.slice(0, i).join("/")] = true; }
      }
    });
    Array.prototype.forEach.call(items, function (li) { li.hidden = !keep[li.getAttribute("data-path")]; });
  });
  search.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") { return; }
    e.preventDefault();  // never submit the first code in the list by accident
    var enabled = function (b) { return !b.disabled; };
    var first = Array.prototype.find.call(tree.querySelectorAll("li.match .code-btn"), enabled) ||
                Array.prototype.find.call(tree.querySelectorAll("li:not([hidden]) .code-btn"), enabled);
    if (first) { applyForm.requestSubmit(first); }
  });

  applyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!pending) { toast("Select words in a turn first."); return; }
    var code = e.submitter ? e.submitter.value : "";
    var data = { code: code };
    if (pending.start !== null) { data.start = pending.start; data.end = pending.end; }
    post(applyForm.getAttribute("action"), data).then(function (res) {
      reloadAt("c-" + res.coding_id);
    }).catch(function (err) { toast(err.message); });
  });

  /* --- accept / reject in place ------------------------------------------------------------- */
  function chipOf(id) { return document.getElementById("c-" + id); }

  function paint(piece) {
    var ids = (piece.getAttribute("data-codings") || "").split(" ").filter(Boolean);
    var states = {}, lines = [];
    ids.forEach(function (id) {
      var chip = chipOf(id);
      if (!chip) { return; }
      var st = chip.getAttribute("data-state");
      states[st] = true;
      if (chip.getAttribute("data-source") === "human" && st === "accepted") { states.human = true; }
      lines.push(chip.querySelector(".code-name").textContent + " (" + st + "): " + chip.title);
    });
    var names = Object.keys(states).sort();
    if (!names.length) {
      piece.removeAttribute("class");
      piece.removeAttribute("title");
      piece.removeAttribute("data-codings");
      return;
    }
    piece.className = "hl " + names.map(function (s) { return "hl-" + s; }).join(" ");
    piece.title = lines.join("\n");
  }

  function tally() {
    ["suggested", "accepted", "rejected"].forEach(function (st) {
      var el = document.getElementById("n-" + st);
      if (el) { el.textContent = transcript.querySelectorAll('.chip[data-state="' + st + '"]').length; }
    });
  }

  function updateChip(chip, res) {
    var seg = chip.closest(".seg");
    var oldId = String(res.previous_id), newId = String(res.coding_id);
    var pieces = seg.querySelectorAll(".seg-text [data-codings]");
    if (chip.getAttribute("data-source") === "human" && res.status === "rejected") {
      chip.remove();
    } else {
      chip.id = "c-" + newId;
      chip.setAttribute("data-coding", newId);
      chip.setAttribute("data-state", res.status);
      chip.className = chip.className.replace(/\bstate-\w+/, "state-" + res.status);
      chip.querySelector(".state-label").textContent = res.status;
      var form = chip.querySelector("form.decide");
      form.setAttribute("action", form.getAttribute("action").replace(/\/codings\/\d+$/, "/codings/" + newId));
    }
    Array.prototype.forEach.call(pieces, function (p) {
      var ids = p.getAttribute("data-codings").split(" ").map(function (id) { return id === oldId ? newId : id; });
      p.setAttribute("data-codings", ids.join(" "));
      paint(p);
    });
    var nothing = seg.querySelector("form.nothing");
    if (nothing) { nothing.remove(); }  // a decision records the turn as coded already
    tally();
  }

  /* --- nothing to code here ------------------------------------------------------------------ */
  function markNothing(seg) {
    var form = seg.querySelector("form.nothing");
    if (!form) {
      toast("This turn is already recorded as coded by you.");
      return;
    }
    post(form.getAttribute("action"), {}).then(function (res) {
      if (!seg.querySelector('.chip[data-state="accepted"]')) {
        var badge = document.createElement("span");
        badge.className = "badge state-nothing";
        badge.setAttribute("data-nothing", res.segment_id);
        badge.textContent = "nothing to code";
        form.parentNode.insertBefore(badge, form);
      }
      form.remove();
      toast("Recorded: nothing (more) to code in this turn.");
    }).catch(function (err) { toast(err.message); });
  }

  Array.prototype.forEach.call(transcript.querySelectorAll("form.nothing"), function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      markNothing(form.closest(".seg"));
    });
  });

  Array.prototype.forEach.call(transcript.querySelectorAll("form.decide"), function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var chip = form.closest(".chip");
      var decision = e.submitter ? e.submitter.value : "accept";
      post(form.getAttribute("action"), { decision: decision }).then(function (res) {
        updateChip(chip, res);
      }).catch(function (err) { toast(err.message); });
    });
  });

  /* --- hover: show a suggestion's span ------------------------------------------------------ */
  function spotlight(chip, on) {
    var id = chip.getAttribute("data-coding");
    Array.prototype.forEach.call(chip.closest(".seg").querySelectorAll(".seg-text [data-codings]"), function (p) {
      if (p.getAttribute("data-codings").split(" ").indexOf(id) >= 0) { p.classList.toggle("hl-focus", on); }
    });
  }
  Array.prototype.forEach.call(transcript.querySelectorAll(".chip"), function (chip) {
    chip.addEventListener("mouseenter", function () { spotlight(chip, true); });
    chip.addEventListener("mouseleave", function () { if (!chip.classList.contains("focused")) { spotlight(chip, false); } });
  });

  /* --- keys: j/k move, a accept, r reject, u undo ------------------------------------------- */
  function chips() { return Array.prototype.slice.call(transcript.querySelectorAll(".chip")); }

  function focusChip(list, i) {
    if (!list.length) { return; }
    i = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (c) { c.classList.remove("focused"); spotlight(c, false); });
    var chip = list[i];
    chip.classList.add("focused");
    spotlight(chip, true);
    chip.focus({ preventScroll: true });
    chip.scrollIntoView({ block: "center" });
  }

  function undo() {
    post(undoForm.getAttribute("action"), {}).then(function (res) {
      if (!res.undone) { toast("Nothing of yours to undo."); return; }
      reloadAt("c-" + res.undone.coding_id);
    }).catch(function (err) { toast(err.message); });
  }
  undoForm.addEventListener("submit", function (e) { e.preventDefault(); undo(); });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable]")) { return; }
    var list = chips();
    var active = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".chip") : null;
    var idx = list.indexOf(active);
    if (idx < 0) { idx = list.findIndex(function (c) { return c.classList.contains("focused"); }); }
    if (e.key === "j") { focusChip(list, idx + 1); }
    else if (e.key === "k") { focusChip(list, idx < 0 ? 0 : idx - 1); }
    else if ((e.key === "a" || e.key === "r") && idx >= 0) {
      var button = list[idx].querySelector('form.decide button[value="' + (e.key === "a" ? "accept" : "reject") + '"]');
      if (button) { button.form.requestSubmit(button); }
    }
    else if (e.key === "u") { undo(); }
    else if (e.key === "n") {
      var seg = idx >= 0 ? list[idx].closest(".seg") :
        (document.activeElement && document.activeElement.closest ? document.activeElement.closest(".seg") : null);
      if (seg) { markNothing(seg); } else { toast("Move to a suggestion first (j/k), or use the turn's button."); }
    }
    else { return; }
    e.preventDefault();
  });

  var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (target && target.classList.contains("chip")) { focusChip(chips(), chips().indexOf(target)); }
})();
