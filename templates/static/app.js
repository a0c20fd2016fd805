// Progressive enhancement only: every page works without JavaScript.
// - search boxes with data-suggest-url: questions suggested while typing (ARIA listbox)
// - the contact form with data-matches-url: FAQ answers that may already help, while typing,
//   and the browser's UTC offset in its hidden utc_offset field (the customer's local time)
// - the FAQ editor: live Markdown preview with the portal's own renderer
// - the staff reply box: saved replies filled for the ticket, and FAQ answers, inserted
//   without a reload
// - the staff inbox: keyboard shortcuts (a takes, e resolves the selected rows); a ticket opened at #reply focuses its reply box
// - the staff reply's files: too many or too large are refused before the upload (the server
//   checks again)
// - the customer's text boxes: near their length limit they say so, and at it that the rest of
//   a paste was not added
// - the ticket page: a heartbeat while the tab is visible shows which colleagues have the
//   ticket open or are replying, and what came in since the page was shown; the reply and note
//   boxes keep their text in the tab's sessionStorage, so "show it" (a reload) loses nothing
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  // body: null for a GET, else the FormData of a POST (with the page's CSRF token)
  function requestJSON(method, url, body, onDone) {
    var request = new XMLHttpRequest();
    request.open(method, url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 200) {
        try { onDone(JSON.parse(request.responseText)); } catch (e) { /* ignore bad JSON */ }
      }
    };
    request.send(body);
  }

  function getJSON(url, onDone) { requestJSON("GET", url, null, onDone); }

  // -- suggestions while typing a question ----------------------------------------------------
  function setUpSuggestions(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) { return; }
    var url = input.getAttribute("data-suggest-url");
    var active = -1;
    var latest = 0;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = options();
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", items[active].id);
    }

    function show(suggestions) {
      close();
      if (!suggestions.length) { return; }
      suggestions.forEach(function (s, i) {
        var item = document.createElement("li");
        item.setAttribute("role", "option");
        item.id = list.id + "-" + i;
        var link = document.createElement("a");
        link.href = s.url;
        link.textContent = s.question;  // text, never HTML
        if (s.lang) { link.lang = s.lang; }  // its own language, the page's or not
        link.tabIndex = -1;
        item.appendChild(link);
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    var fetchSuggestions = debounce(function () {
      var text = input.value;
      if (text.trim().length < 2) { close(); return; }
      var ticket = ++latest;
      getJSON(url + "?q=" + encodeURIComponent(text), function (data) {
        if (ticket === latest) { show(data.suggestions || []); }  // drop stale answers
      });
    }, 150);

    input.addEventListener("input", fetchSuggestions);
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = options()[active].querySelector("a").href;
      }
    });
    input.addEventListener("blur", function () {  // unless the focus came back meanwhile
      setTimeout(function () { if (document.activeElement !== input) { close(); } }, 200);
    });
  }

  // -- matching answers while writing to us ---------------------------------------------------
  function setUpContactMatches(form) {
    var offset = form.querySelector("input[name=utc_offset]");
    // getTimezoneOffset is UTC minus local time; the server wants minutes east of UTC
    if (offset) { offset.value = String(-new Date().getTimezoneOffset()); }
    var url = form.getAttribute("data-matches-url");
    var box = document.getElementById("contact-matches");
    if (!box) { return; }
    var list = box.querySelector("ul");
    var subject = form.querySelector("[name=subject]");
    var question = form.querySelector("[name=question]");
    var token = form.querySelector("[name=csrf_token]");
    var latest = 0;
    var update = debounce(function () {
      var text = (subject ? subject.value : "") + "\n" + (question ? question.value : "");
      // a Chinese character counts three (faq/portal.py): 退款 alone is a question
      if (text.trim().replace(/[\u3400-\u9fff\uf900-\ufaff]/g, "xxx").length < 6) { return; }
      var ticket = ++latest;
      // POSTed: in a URL, 2,000 Chinese characters (18 kB encoded) exceed a proxy's request line
      var body = new FormData();
      body.append("q", text.slice(0, 2000));
      if (token) { body.append("csrf_token", token.value); }
      requestJSON("POST", url, body, function (data) {
        if (ticket !== latest) { return; }
        var matches = data.matches || [];
        list.innerHTML = "";
        var none = box.querySelector(".no-matches");
        if (none) { none.remove(); }
        matches.forEach(function (m) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = m.url;
          link.target = "_blank";
          link.rel = "noopener";
          link.textContent = m.question;
          if (m.lang) { link.lang = m.lang; }
          item.appendChild(link);
          list.appendChild(item);
        });
        box.hidden = matches.length === 0;
      });
    }, 400);
    [subject, question].forEach(function (field) {
      if (field) { field.addEventListener("input", update); }
    });
  }

  // -- FAQ editor: live preview ---------------------------------------------------------------
  function setUpPreview(textarea) {
    var url = textarea.getAttribute("data-preview-url");
    var box = document.getElementById("answer-preview");
    var form = textarea.form;
    var token = form && form.querySelector("[name=csrf_token]");
    if (!box || !url) { return; }
    var target = box.querySelector(".answer-body");
    var latest = 0;
    var render = debounce(function () {
      var body = new FormData();
      body.append("answer_md", textarea.value);
      if (token) { body.append("csrf_token", token.value); }
      var ticket = ++latest;
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.onload = function () {
        if (request.status !== 200 || ticket !== latest) { return; }
        try {
          // Sanitized on the server by the same code that renders the published answer.
          target.innerHTML = JSON.parse(request.responseText).html;
          box.hidden = false;
        } catch (e) { /* keep the old preview */ }
      };
      request.send(body);
    }, 500);
    textarea.addEventListener("input", render);
  }

  // -- staff reply box: saved replies -----------------------------------------------------------
  // The server fills the placeholders (and checks access to the ticket); the text goes into the
  // textarea as text. Without JavaScript the same button posts the form and the page comes back
  // with the text inserted.
  function trackCursor(textarea) {
    if (textarea.getAttribute("data-cursor-tracked")) { return; }
    textarea.setAttribute("data-cursor-tracked", "1");
    ["click", "keyup", "select"].forEach(function (name) {
      textarea.addEventListener(name, function () { textarea.setAttribute("data-placed", "1"); });
    });
  }

  // At the cursor once the agent has put it somewhere; else after the text, a blank line apart.
  // Next to a word (the cursor at the end of a signature, or before "Hello,") it is a paragraph
  // of its own, a blank line apart: glued on, "...Andy" and "Your label..." went out as one line.
  function insertText(textarea, text) {
    var atCursor = textarea.getAttribute("data-placed") === "1";
    var value = textarea.value;
    var start = atCursor ? textarea.selectionStart : value.length;
    var end = atCursor ? textarea.selectionEnd : value.length;
    var before = value.slice(0, start);
    var after = value.slice(end);
    if (!atCursor && before.trim() !== "") { before = before.replace(/\s*$/, "") + "\n\n"; }
    if (/\S$/.test(before)) { before = before + "\n\n"; }
    if (/^\S/.test(after)) { after = "\n\n" + after; }
    textarea.value = before + text + after;
    var caret = (before + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.setAttribute("data-placed", "1");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function say(box, attribute) {
    var status = box.querySelector("[role=status]");
    if (status) { status.textContent = box.getAttribute(attribute) || ""; }
  }

  function setUpSavedReplies(picker) {
    var button = picker.querySelector("[data-insert-saved]");
    var select = picker.querySelector("select");
    var textarea = document.getElementById(picker.getAttribute("data-target"));
    if (!button || !select || !textarea) { return; }
    trackCursor(textarea);

    function insert(id) {
      var request = new XMLHttpRequest();
      request.open("GET", picker.getAttribute("data-fill-url") + encodeURIComponent(id));
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        var text = null;
        if (request.status === 200) {
          try { text = JSON.parse(request.responseText).text; } catch (e) { text = null; }
        }
        if (typeof text !== "string") { say(picker, "data-error-text"); return; }
        insertText(textarea, text);
        say(picker, "data-done-text");
      };
      request.onerror = function () { say(picker, "data-error-text"); };
      request.send();
    }

    button.addEventListener("click", function (event) {
      event.preventDefault();
      insert(select.value);
    });
    setUpSavedReplySearch(picker, select, insert);
  }

  // The saved replies as a search box (a combobox over a listbox): typing filters by title
  // and by the opening of the text, every word typed must appear; titles that match come
  // first. Up/Down choose, Enter or a click inserts at the reply box's cursor, Esc closes.
  // The select and its "Insert" stay in the page, hidden, for the form's no-JS path.
  var SHOWN_AT_MOST = 50;

  function setUpSavedReplySearch(picker, select, insert) {
    var replies = Array.prototype.map.call(select.options, function (option) {
      var title = option.textContent || "";
      var text = option.getAttribute("data-text") || "";
      // The server's keys hold each text in Simplified and Traditional too (app.js has no
      // converter): 退货 finds 退貨說明 (support.desk.saved_replies.search_key).
      return { id: option.value, title: title, text: text,
               titleKey: option.getAttribute("data-title-key") || title.toLowerCase(),
               textKey: option.getAttribute("data-text-key") || text.toLowerCase() };
    });
    var label = picker.querySelector("label[for=saved-reply]");
    var wrap = document.createElement("div");
    wrap.className = "saved-reply-search";
    var input = document.createElement("input");
    var list = document.createElement("ul");
    input.type = "text";
    input.id = "saved-reply-search";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "saved-reply-options");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("maxlength", "100");
    input.placeholder = picker.getAttribute("data-placeholder") || "";
    list.id = "saved-reply-options";
    list.className = "saved-reply-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var newLabel = document.createElement("label");
    newLabel.setAttribute("for", input.id);
    newLabel.textContent = label ? label.textContent : "";
    list.setAttribute("aria-label", newLabel.textContent);
    wrap.appendChild(newLabel);
    wrap.appendChild(input);
    wrap.appendChild(list);
    picker.querySelectorAll(".saved-reply-select").forEach(function (part) { part.hidden = true; });
    picker.insertBefore(wrap, picker.firstChild);

    var shown = [];
    var active = -1;

    function matching(query) {
      var words = query.toLowerCase().split(/\s+/).filter(Boolean);
      var inTitle = [], inText = [];
      replies.forEach(function (reply) {
        var all = words.every(function (w) {
          return reply.titleKey.indexOf(w) >= 0 || reply.textKey.indexOf(w) >= 0;
        });
        if (!all) { return; }
        var titled = words.length && words.every(function (w) { return reply.titleKey.indexOf(w) >= 0; });
        (titled || !words.length ? inTitle : inText).push(reply);
      });
      return inTitle.concat(inText).slice(0, SHOWN_AT_MOST);
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function open() {
      shown = matching(input.value);
      list.textContent = "";
      active = -1;
      input.removeAttribute("aria-activedescendant");
      shown.forEach(function (reply, i) {
        var item = document.createElement("li");
        item.id = "saved-reply-option-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var title = document.createElement("strong");
        title.textContent = reply.title;
        item.appendChild(title);
        if (reply.text) {
          var text = document.createElement("span");
          text.className = "muted";
          text.textContent = reply.text;
          item.appendChild(text);
        }
        // mousedown, not click: the box keeps the focus, so the list does not close first.
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(item);
      });
      var note = document.createElement("li");
      note.setAttribute("role", "presentation");
      note.className = shown.length ? "hint" : "none";
      note.textContent = picker.getAttribute(shown.length ? "data-hint" : "data-none-text") || "";
      list.appendChild(note);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function choose(index) {
      var reply = shown[index];
      if (!reply) { return; }
      close();
      input.value = "";
      insert(reply.id);
    }

    input.addEventListener("input", open);
    input.addEventListener("focus", open);
    // Closed a moment after the box loses the focus (a click on an option lands first), unless
    // the focus came back meanwhile: an agent who returned to the box at once saw the list
    // open and then vanish under the pointer.
    input.addEventListener("blur", function () {
      setTimeout(function () { if (document.activeElement !== input) { close(); } }, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { open(); }
        mark(active < 0 && event.key === "ArrowDown" ? 0 : active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        // Never the form's first button (Send): Enter inserts the chosen reply, or the only
        // one left, and does nothing else.
        event.preventDefault();
        if (active >= 0) { choose(active); } else if (shown.length === 1) { choose(0); }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); event.stopPropagation(); close(); }
      }
    });
  }

  // -- staff reply box: the agent's text in Traditional characters, on their click ------------
  // For a customer who writes Traditional: the server converts (support.core.text, the one
  // converter), the box shows the result, and Undo puts back what the agent wrote. Without
  // JavaScript the same button posts the form and the page comes back converted.
  function setUpTraditional(box) {
    var button = box.querySelector("[data-to-traditional]");
    var undo = box.querySelector("[data-undo-traditional]");
    var textarea = document.getElementById(box.getAttribute("data-target"));
    var form = box.closest("form");
    var token = form && form.querySelector("[name$=csrf_token]");
    var written = null;
    if (!button || !textarea) { return; }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var body = new FormData();
      body.append("text", textarea.value);
      if (token) { body.append("csrf_token", token.value); }
      var request = new XMLHttpRequest();
      request.open("POST", box.getAttribute("data-url"));
      if (token) { request.setRequestHeader("X-CSRFToken", token.value); }
      request.onload = function () {
        var text = null;
        if (request.status === 200) {
          try { text = JSON.parse(request.responseText).text; } catch (e) { text = null; }
        }
        if (typeof text !== "string") { say(box, "data-error-text"); return; }
        if (text !== textarea.value) { written = textarea.value; }
        textarea.value = text;
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
        if (undo) { undo.hidden = written === null; }
        say(box, "data-done-text");
      };
      request.onerror = function () { say(box, "data-error-text"); };
      request.send(body);
    });
    if (undo) {
      undo.addEventListener("click", function () {
        if (written === null) { return; }
        textarea.value = written;
        written = null;
        undo.hidden = true;
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
        say(box, "data-undone-text");
      });
    }
  }

  // -- staff reply box: FAQ answers, searched and inserted without a reload ---------------------
  function setUpFaqPicker(picker) {
    var textarea = document.getElementById(picker.getAttribute("data-target"));
    var query = picker.querySelector("input[type=search]");
    var searchButton = picker.querySelector("[data-faq-search]");
    var results = picker.querySelector("[data-faq-results]");
    var form = picker.closest("form");
    var token = form && form.querySelector("[name$=csrf_token]");  // the form's prefix varies
    if (!textarea || !query || !searchButton || !results) { return; }
    trackCursor(textarea);

    function search(event) {
      event.preventDefault();
      getJSON(picker.getAttribute("data-search-url") + "?q=" + encodeURIComponent(query.value),
        function (data) {
          results.innerHTML = "";
          var answers = data.answers || [];
          if (!answers.length) { say(picker, "data-none-text"); return; }
          say(picker, "data-found-text");
          var list = document.createElement("ul");
          answers.forEach(function (a) {
            var item = document.createElement("li");
            var title = document.createElement("strong");
            title.textContent = a.question;  // text, never HTML
            var preview = document.createElement("div");
            preview.className = "muted";
            preview.textContent = a.preview;
            var insert = document.createElement("button");
            insert.type = "submit";
            insert.className = "secondary";
            insert.name = "insert_article";
            insert.value = String(a.id);
            insert.textContent = picker.getAttribute("data-insert-label");
            item.appendChild(title);
            item.appendChild(preview);
            item.appendChild(insert);
            list.appendChild(item);
          });
          results.appendChild(list);
        });
    }

    searchButton.addEventListener("click", search);
    // Opened for the first time with the ticket's subject in the box: its matches at once.
    picker.addEventListener("toggle", function () {
      if (picker.open && !results.children.length && query.value.trim()) {
        search({ preventDefault: function () {} });
      }
    });
    query.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { search(event); }  // not the form's first button, "send"
    });
    results.addEventListener("click", function (event) {
      var button = event.target.closest("button[name=insert_article]");
      if (!button) { return; }
      event.preventDefault();
      var body = new FormData();
      if (token) { body.append("csrf_token", token.value); }
      var request = new XMLHttpRequest();
      request.open("POST", picker.getAttribute("data-use-url") + encodeURIComponent(button.value));
      if (token) { request.setRequestHeader("X-CSRFToken", token.value); }
      request.onload = function () {
        if (request.status !== 200) { say(picker, "data-error-text"); return; }
        try { insertText(textarea, JSON.parse(request.responseText).text); } catch (e) { return; }
        say(picker, "data-done-text");
      };
      request.send(body);
    });
  }

  // -- staff inbox: keyboard shortcuts (j/k move, x select, o/Enter open, r reply, a take, e resolve,
  //    n next page, ? help); off while typing in a field -------------------------------------
  // A ticked checkbox (or another button-like input) keeps the focus but takes no letters: the
  // keys go on working after rows are ticked with the mouse.
  var KEYLESS_INPUTS = { checkbox: 1, radio: 1, button: 1, submit: 1, reset: 1 };

  function isTyping(target) {
    var tag = (target && target.tagName) || "";
    if (tag === "INPUT" && KEYLESS_INPUTS[(target.type || "").toLowerCase()]) { return false; }
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // Back from a ticket (`u`, "‹ inbox"), the row of the ticket just left is current again, so
  // `j` goes on from there, not from the top; once that ticket has left the list (resolved,
  // moved), the row that followed it is. The order last shown is kept per inbox and filters in
  // this tab (sessionStorage) to know which row followed.
  function markWhereTheAgentWas(rows, select) {
    var ids = rows.map(function (row) {
      var box = row.querySelector("input[name=ticket_id]");
      return box ? box.value : "";
    });
    var key = "inbox-order:" + window.location.pathname + window.location.search;
    var shownBefore = null;
    try {
      shownBefore = JSON.parse(window.sessionStorage.getItem(key) || "null");
      window.sessionStorage.setItem(key, JSON.stringify(ids));
    } catch (e) { shownBefore = null; }
    var left = null;
    try {
      var from = new URL(document.referrer);
      var match = from.origin === window.location.origin && /\/staff\/tickets\/(\d+)$/.exec(from.pathname);
      left = match ? match[1] : null;
    } catch (e) { left = null; }
    if (!left) { return; }
    var at = ids.indexOf(left);
    if (at < 0 && Array.isArray(shownBefore)) {
      for (var k = shownBefore.indexOf(left) + 1; k > 0 && k < shownBefore.length && at < 0; k++) {
        at = ids.indexOf(String(shownBefore[k]));
      }
    }
    if (at >= 0) { select(at, true); }
  }

  function setUpInboxKeys(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-ticket-url]"));
    var form = document.getElementById("bulk-form");
    var help = document.getElementById("shortcut-help");
    var current = -1;

    function select(index, quietly) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (current >= 0) { rows[current].classList.remove("current"); rows[current].removeAttribute("aria-current"); }
      current = index;
      rows[current].classList.add("current");
      rows[current].setAttribute("aria-current", "true");
      // Focus follows the row: a screen reader names the ticket, Tab goes on from there.
      var link = rows[current].querySelector("td.subject a");
      if (link && !quietly) { link.focus({ preventScroll: true }); }
      rows[current].scrollIntoView({ block: "nearest" });
    }
    markWhereTheAgentWas(rows, select);

    function isControl(target) {
      var tag = (target && target.tagName) || "";
      return tag === "A" || tag === "BUTTON" || tag === "SUMMARY";
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
      if (help && help.open) { return; }
      var row = current >= 0 ? rows[current] : null;
      switch (event.key) {
        case "j": select(current + 1); break;
        case "k": select(current < 0 ? 0 : current - 1); break;
        case "x":
          if (row) { var box = row.querySelector("input[type=checkbox]"); box.checked = !box.checked; }
          break;
        case "o": case "Enter":
          // Enter on a focused link or button does what it says, not "open the current row".
          if (!row || (event.key === "Enter" && isControl(event.target))) { return; }
          window.location.href = row.getAttribute("data-ticket-url");
          break;
        case "r":
          if (!row) { return; }
          window.location.href = row.getAttribute("data-ticket-url") + "#reply";
          break;
        case "a": case "e":
          // The selected tickets, else the current row: the bulk form's own button, so the
          // same CSRF-protected POST as a click on "Take" or "Resolve".
          if (!form) { return; }
          if (!form.querySelector("tbody input[type=checkbox]:checked")) {
            if (!row) { return; }
            row.querySelector("input[type=checkbox]").checked = true;
          }
          var button = form.querySelector(event.key === "a" ? "button[data-bulk=take]" : "button[data-bulk=resolve]");
          if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
          break;
        case "n":
          var next = document.querySelector("a[rel=next]");
          if (next) { window.location.href = next.href; }
          break;
        case "?":
          if (help && help.showModal) { help.showModal(); }
          break;
        default: return;
      }
      event.preventDefault();
    });
  }

  // The reply's file limits, checked when files are chosen: the form will not send while they
  // are broken, so the agent's text never leaves the page for a refusal.
  function setUpFileLimits(input) {
    var status = input.parentNode.querySelector("[data-files-status]");
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var maxFile = Number(input.getAttribute("data-max-file-bytes"));
      var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
      var message = "";
      if (files.length > Number(input.getAttribute("data-max-files"))) {
        message = input.getAttribute("data-too-many-text");
      } else if (total > Number(input.getAttribute("data-max-total-bytes")) ||
                 files.some(function (file) { return file.size > maxFile; })) {
        message = input.getAttribute("data-too-large-text");
      }
      input.setCustomValidity(message);
      if (status) { status.textContent = message; }
    });
  }

  // -- ticket page: drafts kept across a reload ------------------------------------------------
  // Per form (its action names the ticket), in this tab only; dropped when the form is sent (a
  // refused send comes back with the text filled in by the server).
  function setUpDraft(form) {
    var box = form.querySelector("textarea");
    var key = "draft:" + form.getAttribute("action");
    var store;
    try { store = window.sessionStorage; } catch (e) { return false; }
    if (!box || !store) { return false; }
    var restored = false;
    var kept = store.getItem(key);
    if (kept && !box.value.trim()) {
      box.value = kept;
      restored = true;
    }
    box.addEventListener("input", function () {
      try {
        if (box.value.trim()) { store.setItem(key, box.value); } else { store.removeItem(key); }
      } catch (e) { /* storage full or refused: the text stays in the box */ }
    });
    form.addEventListener("submit", function () { store.removeItem(key); });
    return restored;
  }

  // -- ticket page: who else is here, what came in -----------------------------------------------
  function setUpPresence(live, draftRestored) {
    var url = live.getAttribute("data-presence-url");
    var every = Math.max(5, Number(live.getAttribute("data-interval")) || 20) * 1000;
    var form = document.querySelector("form[action$='/reply']");
    var box = form && form.querySelector("textarea");
    var seen = form && form.querySelector("[name=reply-seen]");
    var token = document.querySelector("[name$=csrf_token]");
    var news = live.querySelector(".ticket-live-news");
    var people = live.querySelector(".ticket-live-people");
    var draft = live.querySelector(".ticket-live-draft");
    var timer = null;
    var sentState = null;

    if (draftRestored && draft) {
      draft.textContent = live.getAttribute("data-draft-text");
      draft.hidden = false;
    }

    function state() { return box && box.value.trim() ? "replying" : "viewing"; }

    function body(value) {
      var data = new FormData();
      data.append("state", value);
      if (seen) { data.append("seen", seen.value); }
      if (token) { data.append("csrf_token", token.value); }
      return data;
    }

    // Only a change is written into the live region: the same words every 20 s are not re-read.
    function showNews(data) {
      var key = data.notice ? data.notice + "|" + data.show : "";
      if (news.getAttribute("data-shown") === key) { return; }
      news.setAttribute("data-shown", key);
      news.textContent = "";
      news.hidden = !key;
      if (!key) { return; }
      var strong = document.createElement("strong");
      strong.textContent = data.notice;  // text, never HTML
      var link = document.createElement("a");
      link.href = window.location.pathname + window.location.search;
      link.textContent = data.show;
      link.setAttribute("data-testid", "show-new");
      news.appendChild(strong);
      news.appendChild(document.createTextNode(" — "));
      news.appendChild(link);
    }

    // The names hold until the server's expiry unless a newer answer comes: a heartbeat that
    // fails (the network, a signed-out session) does not leave a colleague "viewing" for ever.
    var peopleTimer = null;
    function showPeople(data) {
      var text = (data.people || []).map(function (p) { return p.text; }).join(" · ");
      clearTimeout(peopleTimer);
      if (text) {
        peopleTimer = setTimeout(function () { showPeople({}); },
                                 (Number(data.expires) || 60) * 1000);
      }
      if (people.textContent === text) { return; }
      people.textContent = text;
      people.hidden = !text;
    }

    function beat() {
      clearTimeout(timer);
      timer = null;
      if (document.visibilityState === "hidden") { return; }
      var now = state();
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("Accept", "application/json");
      if (token) { request.setRequestHeader("X-CSRFToken", token.value); }
      request.onload = function () {
        if (request.status !== 200) { return; }
        try {
          var data = JSON.parse(request.responseText);
          sentState = now;
          showNews(data);
          showPeople(data);
        } catch (e) { /* keep what is shown */ }
      };
      request.onloadend = function () {
        if (timer === null && document.visibilityState !== "hidden") {
          timer = setTimeout(beat, every);
        }
        // How many beats were answered (and the next one scheduled): for tests and debugging.
        live.setAttribute("data-beats", String(Number(live.getAttribute("data-beats") || 0) + 1));
      };
      request.send(body(now));
    }

    if (box) {
      // Starting or clearing a reply is told at once (after a pause in typing), not at the
      // next beat.
      box.addEventListener("input", debounce(function () {
        if (state() !== sentState) { beat(); }
      }, 800));
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { clearTimeout(timer); timer = null; }
      else { beat(); }
    });
    // Leaving the page takes the agent off the ticket at once (else after a minute).
    window.addEventListener("pagehide", function () {
      clearTimeout(timer);
      if (navigator.sendBeacon) { navigator.sendBeacon(url, body("gone")); }
    });
    // Back or Forward to a page the browser kept (its back-forward cache) loads nothing: the
    // same page comes back after its "gone", so it says it is here again and beats on.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { beat(); }
    });
    beat();
  }

  // -- inbox: who has a ticket open, taken off when their heartbeat stops counting -------------
  // The page is drawn once; a colleague whose browser closed sends nothing more.
  function setUpBusyExpiry(busy) {
    busy.querySelectorAll("[data-expires-in]").forEach(function (entry) {
      var seconds = Number(entry.getAttribute("data-expires-in")) || 60;
      setTimeout(function () {
        entry.remove();
        var first = busy.querySelector("[data-expires-in]");
        if (!first) { busy.remove(); return; }
        var sep = first.querySelector(".sep");
        if (sep) { sep.remove(); }
      }, seconds * 1000);
    });
  }

  // -- ticket page: keyboard shortcuts (r reply, n note, Ctrl/Cmd+Enter send the box being
  //    written in, Esc leave it, a take, e resolve, t tag, j next ticket, u back to the inbox,
  //    ? help) ----------------------------------------------------------------------------------
  function setUpTicketKeys(marker) {
    var help = document.getElementById("shortcut-help");
    var reply = document.querySelector("form[action$='/reply'] textarea");
    var note = document.querySelector("form[action$='/note'] textarea");

    function focusBox(box) {
      if (!box) { return; }
      box.scrollIntoView({ block: "center" });
      box.focus();
    }

    // Ctrl+Enter (Cmd+Enter on a Mac) in the reply or note box sends that form, through its
    // first submit button: the reply's "Check and send", so the phrase check still runs.
    [reply, note].forEach(function (box) {
      if (!box) { return; }
      box.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { box.blur(); return; }
        if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey) { return; }
        event.preventDefault();
        if (!box.value.trim()) { return; }
        var send = box.form.querySelector("[type=submit][name$=send], [type=submit][name$=submit]");
        if (box.form.requestSubmit) { box.form.requestSubmit(send || undefined); } else if (send) { send.click(); }
      });
    });

    // Resolving with a reply written and not sent asks first (the key and the buttons alike).
    var bar = document.querySelector("[data-testid=ticket-actions]");
    document.querySelectorAll("form[data-resolve]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (reply && reply.value.trim() && bar &&
            !window.confirm(bar.getAttribute("data-unsent-text"))) {
          event.preventDefault();
        }
      });
    });

    // a / e: the head's "Take it" and "Resolve", when the page offers them.
    function submitKeyed(key) {
      var form = document.querySelector("form[data-key='" + key + "']");
      if (!form) { return false; }
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      return true;
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
      if (help && help.open) { return; }
      switch (event.key) {
        case "r": focusBox(reply); break;
        case "n": focusBox(note); break;
        case "a": case "e": if (!submitKeyed(event.key)) { return; } break;
        case "t": focusBox(document.querySelector("form.tag-add input[type=text]")); break;
        case "j": window.location.href = marker.getAttribute("data-next-url"); break;
        case "u": window.location.href = marker.getAttribute("data-inbox-url"); break;
        case "?": if (help && help.showModal) { help.showModal(); } break;
        default: return;
      }
      event.preventDefault();
    });
  }

  // -- @mentions in the note box: after "@" and a few letters, the colleagues who may open the
  //    ticket with a word of their name or address that starts so; a click, Enter or Tab puts
  //    "@Name " in the text.
  function setUpMentions(wrapper) {
    var box = wrapper.querySelector("textarea");
    var list = wrapper.querySelector(".mention-list");
    var people = [];
    try { people = JSON.parse(wrapper.getAttribute("data-mentionable") || "[]"); } catch (e) { people = []; }
    if (!box || !list || !people.length) { return; }
    var shown = [], chosen = 0, start = -1;

    function close() { list.hidden = true; list.textContent = ""; shown = []; start = -1; }
    // Whether "word" (lower case) starts one of the words of "text": "@s" offers Sam Li and
    // li.sun@, not Administrator. Each Chinese character starts a word of its own, so "@芳"
    // offers 王芳 (a colleague is called by the given name as often as by the full name).
    function startsAWord(text, word) {
      var lower = text.toLowerCase(), previous = "";
      for (var i = 0; i < lower.length; i += 1) {
        var here = lower.charAt(i);
        if ((i === 0 || !/[\p{L}\p{N}]/u.test(previous) || /\p{Script=Han}/u.test(here)) &&
            lower.slice(i, i + word.length) === word) { return true; }
        previous = here;
      }
      return word === "";
    }
    function typed() {
      var before = box.value.slice(0, box.selectionStart);
      var found = /(^|[^\w.@+-])@([^\s@]{0,40})$/.exec(before);
      if (!found) { return null; }
      start = before.length - found[2].length - 1;
      return found[2].toLowerCase();
    }
    function pick(person) {
      var end = box.selectionStart;
      var text = "@" + person.handle + " ";
      box.value = box.value.slice(0, start) + text + box.value.slice(end);
      var caret = start + text.length;
      box.setSelectionRange(caret, caret);
      close();
      box.focus();
    }
    function mark() {
      list.querySelectorAll("button").forEach(function (b, i) {
        b.setAttribute("aria-selected", i === chosen ? "true" : "false");
      });
    }
    function update() {
      var word = typed();
      if (word === null) { close(); return; }
      shown = people.filter(function (p) {
        return startsAWord(p.name, word) || startsAWord(p.email.split("@")[0], word);
      }).slice(0, 8);
      list.textContent = "";
      if (!shown.length) { list.hidden = true; return; }
      shown.forEach(function (person) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "option");
        button.textContent = person.name + " <" + person.email + ">";
        button.addEventListener("mousedown", function (event) { event.preventDefault(); });
        button.addEventListener("click", function () { pick(person); });
        item.appendChild(button);
        list.appendChild(item);
      });
      chosen = 0;
      mark();
      list.hidden = false;
    }
    box.addEventListener("input", update);
    box.addEventListener("blur", function () {  // unless the focus came back meanwhile
      setTimeout(function () { if (document.activeElement !== box) { close(); } }, 150);
    });
    box.addEventListener("keydown", function (event) {
      if (list.hidden || !shown.length) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        chosen = (chosen + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        mark();
      } else if ((event.key === "Enter" && !(event.ctrlKey || event.metaKey)) || event.key === "Tab") {
        pick(shown[chosen]);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();  // not the page's Esc (leave the box) or Ctrl+Enter
    });
  }

  // -- undo send: "Sending in N s — Undo" counts down; z (not while typing) undoes the newest
  //    held reply of the ticket on the screen, never another ticket's (its banner names it and
  //    has its own Undo): with none here, z does nothing. At 0 the reply has gone to the
  //    outbox: the banner says so, the button goes.
  function setUpUndoSend(banner) {
    var left = parseInt(banner.getAttribute("data-seconds-left"), 10) || 0;
    var shown = banner.querySelector("[data-countdown]");
    var form = banner.querySelector("form");
    function tick() {
      if (left <= 0) {
        afterHold(banner.getAttribute("data-message-id"));
        if (shown) { shown.textContent = banner.getAttribute("data-sent-text"); }
        if (form) { form.querySelectorAll("[data-undo-part], button").forEach(function (b) { b.hidden = true; }); }
        banner.removeAttribute("data-undoable");
        return;
      }
      if (shown) { shown.textContent = shown.getAttribute("data-template").replace("__N__", left); }
      left -= 1;
      setTimeout(tick, 1000);
    }
    tick();
  }

  // The notice above ("goes out in N s: you can undo it until then") and the reply's mark in
  // the conversation ("its author may still undo it") say "in the outbox" once that reply's
  // hold is over: when its banner or its mark counts down to 0; neither here, at once.
  function afterHold(id) {
    document.querySelectorAll("[data-after-hold][data-message-id='" + id + "']").forEach(function (el) {
      el.textContent = el.getAttribute("data-after-hold");
      el.removeAttribute("data-after-hold");
    });
  }

  function setUpHoldMarks() {
    document.querySelectorAll("[data-after-hold][data-seconds-left]").forEach(function (mark) {
      var left = parseInt(mark.getAttribute("data-seconds-left"), 10) || 0;
      var id = mark.getAttribute("data-message-id");
      setTimeout(function () { afterHold(id); }, left * 1000);
    });
    document.querySelectorAll(".flash [data-after-hold]").forEach(function (notice) {
      var id = notice.getAttribute("data-message-id");
      if (!document.querySelector("[data-seconds-left][data-message-id='" + id + "']")) { afterHold(id); }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "z" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
    var banner = document.querySelector("[data-held-reply][data-undoable][data-this-ticket]");
    var form = banner && banner.querySelector("form");
    if (!form) { return; }
    event.preventDefault();
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });

  // -- a text box's limit -----------------------------------------------------------------------
  // The browser stops typing, and cuts a pasted text, at the box's maxlength without a word: a
  // customer who pasted a long mail lost its end unaware. Near the limit the box says how much
  // it holds, and at it that what went beyond was not added.
  function setUpLengthLimit(box) {
    var max = parseInt(box.getAttribute("maxlength"), 10);
    if (!(max > 0)) { return; }
    var status = document.createElement("p");
    status.className = "hint";
    status.id = box.id + "-limit";
    status.setAttribute("role", "status");
    status.setAttribute("data-limit-status", "");
    box.insertAdjacentElement("afterend", status);
    var language = document.documentElement.lang || undefined;
    function fill(text) {
      return (text || "").replace("{count}", box.value.length.toLocaleString(language))
        .replace("{max}", max.toLocaleString(language));
    }
    function update() {
      var length = box.value.length;
      var reached = length >= max;
      status.classList.toggle("error-text", reached);
      if (reached) { status.textContent = fill(box.getAttribute("data-limit-reached")); }
      else if (length >= max * 0.9) { status.textContent = fill(box.getAttribute("data-limit-near")); }
      else { status.textContent = ""; }
    }
    box.addEventListener("input", update);
    update();
  }

  // A ticket opened with #reply (the inbox's "r") starts in its reply box.
  function focusReplyBox() {
    var box = document.querySelector("form[action$='/reply'] textarea");
    var held = document.querySelector("[data-reply-held-back]");
    if (box && held) {
      // A reply held back (its language, a phrase, mail that came in meanwhile): the page
      // came back at its top; the reasons and "Send anyway" come into view, the text focused.
      var reasons = box.form.querySelector(".warnings") || held;
      box.focus({ preventScroll: true });
      box.setSelectionRange(box.value.length, box.value.length);
      reasons.scrollIntoView({ block: "start" });
      return;
    }
    if (window.location.hash !== "#reply") { return; }
    if (box) { box.focus(); }
  }

  // -- the move control's warning ("Moving to Finance unassigns Li Wei"): only while a department
  //    other than the ticket's own that drops the assignee is chosen, naming that one (without
  //    JavaScript the page names all of them).
  function setUpMoveWarning(warning) {
    var form = warning.closest("form");
    var select = form && form.querySelector("select");
    var each = {};
    try { each = JSON.parse(warning.getAttribute("data-warnings") || "{}"); } catch (e) { each = {}; }
    if (!select) { return; }
    var current = warning.getAttribute("data-current");
    function update() {
      var text = select.value !== current ? each[select.value] : undefined;
      warning.hidden = !text;
      if (text) {
        warning.textContent = text;
        select.setAttribute("aria-describedby", warning.id);
      } else {
        select.removeAttribute("aria-describedby");
      }
    }
    select.addEventListener("change", update);
    window.addEventListener("pageshow", update);  // a choice the browser restored on "Back"
    update();
  }

  // On a phone the inbox's filters and the staff tools take a whole screen: folded, unless in
  // use, so the tickets come first (without JavaScript they stay open, as on a wide screen).
  function foldOnPhone(details) {
    if (!details.hasAttribute("data-in-use") && window.matchMedia("(max-width: 640px)").matches) {
      details.open = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(foldOnPhone);
    document.querySelectorAll("table[data-inbox]").forEach(setUpInboxKeys);
    document.querySelectorAll("div.busy").forEach(setUpBusyExpiry);
    document.querySelectorAll(".mention-box[data-mentionable]").forEach(setUpMentions);
    document.querySelectorAll("p.move-warning[data-warnings]").forEach(setUpMoveWarning);
    document.querySelectorAll("[data-ticket-keys]").forEach(setUpTicketKeys);
    setUpHoldMarks();
    document.querySelectorAll("[data-held-reply][data-undoable]").forEach(setUpUndoSend);
    focusReplyBox();
    document.querySelectorAll("input[data-suggest-url]").forEach(setUpSuggestions);
    document.querySelectorAll("form[data-matches-url]").forEach(setUpContactMatches);
    document.querySelectorAll("textarea[data-preview-url]").forEach(setUpPreview);
    document.querySelectorAll(".saved-reply-picker[data-fill-url]").forEach(setUpSavedReplies);
    document.querySelectorAll(".to-traditional[data-url]").forEach(setUpTraditional);
    document.querySelectorAll(".faq-picker[data-search-url]").forEach(setUpFaqPicker);
    document.querySelectorAll("input[type=file][data-max-files]").forEach(setUpFileLimits);
    document.querySelectorAll("textarea[maxlength][data-limit-reached]").forEach(setUpLengthLimit);
    var restored = false;
    document.querySelectorAll("form[data-keep-draft]").forEach(function (form) {
      restored = setUpDraft(form) || restored;
    });
    document.querySelectorAll("[data-presence-url]").forEach(function (live) {
      setUpPresence(live, restored);
    });
  });
})();
