// The console's behaviour beyond htmx: error banners, live chat, countdowns, keyboard shortcuts.
(function () {
  "use strict";

  // A refused action (4xx/5xx) shows its banner in #flash instead of being dropped.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status >= 400) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      evt.detail.target = document.getElementById("flash");
    } else if (evt.detail.target && evt.detail.target.id !== "flash") {
      var flash = document.getElementById("flash");
      if (flash && evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get") flash.innerHTML = "";
    }
  });
  // Behaviour that the pages once wrote inline, which the Content-Security-Policy forbids: a banner's
  // close button, and forms emptied after a successful post.
  document.body.addEventListener("click", function (evt) {
    var dismiss = evt.target.closest && evt.target.closest("[data-dismiss]");
    if (dismiss && dismiss.parentElement) dismiss.parentElement.remove();
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (evt.detail.successful && form && form.matches && form.matches("form[data-reset-on-success]")) form.reset();
  });
  document.body.addEventListener("htmx:sendError", function () {
    showBanner("连接服务器失败，请检查网络后重试。");
  });

  // Countdowns: each [data-left] counts down from the seconds the server gave when it rendered.
  function stamp(root) {
    (root || document).querySelectorAll("[data-left]").forEach(function (el) {
      if (!el.dataset.t0) el.dataset.t0 = String(Date.now());
    });
  }
  function words(seconds) {
    seconds = Math.abs(Math.trunc(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
    if (d) return d + "天" + h + "小时";
    if (h) return h + "小时" + m + "分";
    return m + "分钟";
  }
  function tick() {
    document.querySelectorAll("[data-left]").forEach(function (el) {
      var left = Number(el.dataset.left) - (Date.now() - Number(el.dataset.t0)) / 1000;
      var b = el.querySelector("b");
      if (b) b.textContent = (left < 0 ? "超" : "剩") + words(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 3600);
    });
  }
  document.body.addEventListener("htmx:load", function (evt) { stamp(evt.target); });
  stamp(document);
  setInterval(tick, 1000);

  // The top bar: its counts come over a stream of their own ("changed", then fetched again; a 15 s poll
  // stands in while the stream is refused or down). New work rings and shows a browser notification
  // (once the agent has allowed it): a chat starts waiting, a resident writes in a chat the agent holds,
  // a deadline is reminded or breached. The title counts chats and deadlines apart.
  var bar = document.getElementById("alerts");
  var seen = null;
  var sound = null;
  function barCounts() {
    var counts = document.getElementById("alert-counts");
    if (!counts) return null;
    var heard = counts.dataset.heard;
    return {
      waiting: Number(counts.dataset.waiting || 0),
      given: Number(counts.dataset.given || 0),
      unassigned: Number(counts.dataset.unassigned || 0),
      breached: Number(counts.dataset.breached || 0),
      reminded: Number(counts.dataset.reminded || 0),
      heard: heard === "" || heard === undefined ? null : Number(heard)
    };
  }
  function retitle(now) {
    var title = document.querySelector("title");
    if (!title) return;
    var parts = [];
    if (now.waiting) parts.push(now.waiting + "个会话待接入");
    if (now.breached) parts.push(now.breached + "项超时");
    var base = title.dataset.title + " · 供热客服工作台";
    document.title = parts.length ? "(" + parts.join("，") + ") " + base : base;
  }
  function ring() {
    try {
      sound = sound || new (window.AudioContext || window.webkitAudioContext)();
      var tone = sound.createOscillator();
      var gain = sound.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain);
      gain.connect(sound.destination);
      tone.start();
      tone.stop(sound.currentTime + 0.25);
    } catch (e) { /* no sound on this browser: the notification and the title still tell */ }
  }
  function tell(title, body, link) {
    ring();
    if (!window.Notification || Notification.permission !== "granted") return;
    var note = new Notification(title, { body: body, tag: title, lang: "zh-CN" });
    note.onclick = function () { window.focus(); if (link) window.location.href = link; note.close(); };
  }
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    if (!bar || evt.target !== bar) return;
    var now = barCounts();
    if (!now) return;
    retitle(now);
    if (seen) {
      if (now.given > seen.given) tell("有会话分配给您", "请接管：分给您的会话 " + now.given + " 个", "/console/chats");
      else if (now.unassigned > seen.unassigned) tell("有会话等待接入", "待接入 " + now.waiting + " 个", "/console/chats");
      if (now.heard !== null && seen.heard !== null && now.heard > seen.heard) {
        tell("居民发来新消息", "您接待的会话里有居民的新消息", "/console/chats");
      }
      if (now.breached > seen.breached) tell("工单已超时", "超时 " + now.breached + " 项", "/console/orders?due=overdue");
      else if (now.reminded > seen.reminded) tell("工单时限将到", "将到期 " + now.reminded + " 项", "/console/orders?due=soon");
    }
    seen = now;
  });
  var notifyOn = document.getElementById("notify-on");
  if (notifyOn && window.Notification && Notification.permission === "default") {
    notifyOn.hidden = false;
    notifyOn.addEventListener("click", function () {
      ring();  // a click lets the page make sounds from now on
      Notification.requestPermission().then(function () { notifyOn.hidden = true; });
    });
  }

  // Live chat: the server says "changed" (server-sent events) and the transcript is fetched again.
  var panel = document.getElementById("chat-panel");
  var source = null;
  if (panel && window.EventSource) {
    source = new EventSource(panel.dataset.stream);
    source.addEventListener("changed", function () {
      var transcript = document.getElementById("transcript");
      if (transcript) htmx.trigger(transcript, "refresh");
    });
    // Someone else took, assigned, closed or linked the chat, or wrote a note: the panel is fetched anew,
    // keeping what the agent was typing, where the keyboard and caret were, and which forms were open, all
    // read at the swap itself (htmx:beforeSwap and htmx:afterSwap run in one go, no key in between), not
    // when the event came: keys typed while the panel was being fetched are kept.
    var refreshing = 0;  // panel fetches under way (a second event may come before the first is answered)
    var kept = null;
    source.addEventListener("panel", function () {
      refreshing += 1;
      htmx.ajax("GET", panel.dataset.panel, { target: panel, swap: "innerHTML" }).finally(function () {
        refreshing -= 1;
      });
    });
    panel.addEventListener("htmx:beforeSwap", function (evt) {
      if (!refreshing || evt.detail.target !== panel) return;
      var box = document.getElementById("reply");
      kept = {
        draft: box ? box.value : "",
        caret: box ? box.selectionStart : 0,
        focused: box !== null && document.activeElement === box,
        open: Array.prototype.map.call(panel.querySelectorAll("details[open] > summary"), function (s) { return s.textContent; })
      };
    });
    panel.addEventListener("htmx:afterSwap", function (evt) {
      if (!kept || evt.detail.target !== panel) return;
      var again = document.getElementById("reply");
      if (again && kept.draft && !again.value) again.value = kept.draft;
      if (again && kept.focused && !again.disabled) {
        again.focus();
        again.setSelectionRange(kept.caret, kept.caret);
      }
      panel.querySelectorAll("details > summary").forEach(function (s) {
        if (kept.open.indexOf(s.textContent) >= 0) s.parentElement.open = true;
      });
      kept = null;
    });
    source.addEventListener("presence", function () {
      var here = document.getElementById("presence");
      if (here) htmx.trigger(here, "refresh");
    });
    // The server ended the stream for good (logout, expired login, the chat gone): say why, no reconnect.
    source.addEventListener("ended", function (evt) {
      source.close();
      showBanner(evt.data);
    });
    // Refused (too many pages open) or failed: the browser does not try again by itself, so the page
    // fetches the transcript every 5 s instead, and says so.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        showBanner("本页的实时更新已停止（可能同时打开的页面过多），改为每5秒刷新一次。关闭不用的页面后刷新本页可恢复实时更新。");
        setInterval(function () {
          var transcript = document.getElementById("transcript");
          if (transcript) htmx.trigger(transcript, "refresh");
        }, 5000);
      }
    });
  }
  // One stream per page (a browser holds six connections to a server): the chat page's carries the top
  // bar's "bar" events too; every other page opens the bar's own.
  var barSource = source;
  if (!barSource && bar && window.EventSource && bar.dataset.stream) {
    barSource = new EventSource(bar.dataset.stream);
    barSource.addEventListener("ended", function () { barSource.close(); });
  }
  if (barSource) barSource.addEventListener("bar", function () { htmx.trigger(bar, "refresh"); });
  function showBanner(text) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var banner = document.createElement("div");
    banner.className = "banner bad";
    banner.textContent = text;
    flash.replaceChildren(banner);
  }
  function scrollTranscript() {
    var transcript = document.getElementById("transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
  }
  document.body.addEventListener("htmx:afterSettle", scrollTranscript);
  scrollTranscript();

  // The board's bulk dispatch: the count of ticked orders, and no automatic refresh of the board while
  // any is ticked (it would untick them).
  function ticked() { return document.querySelectorAll("#board input[name=order_id]:checked").length; }
  document.body.addEventListener("change", function (evt) {
    if (!evt.target.matches || !evt.target.matches("#board input[name=order_id]")) return;
    var count = document.getElementById("bulk-count");
    var n = ticked();
    if (count) count.textContent = n ? "已勾选 " + n + " 张（勾选时看板暂停自动刷新）" : "勾选工单后可批量派工";
  });
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var board = document.getElementById("board");
    if (board && evt.detail.elt === board && ticked()) evt.preventDefault();
  });
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    var count = document.getElementById("bulk-count");
    if (count && evt.target.id === "board" && !ticked()) count.textContent = "勾选工单后可批量派工";
  });

  // KPI charts: one small line chart per indicator, week by week, with its Table 1 target.
  var data = document.getElementById("kpi-data");
  var holder = document.getElementById("kpi-charts");
  if (data && holder && window.echarts) {
    var kpi = JSON.parse(data.textContent);
    kpi.order.forEach(function (name) {
      var figure = document.createElement("figure");
      figure.className = "chart-box";
      var caption = document.createElement("figcaption");
      caption.textContent = (kpi.names[name] || name) + "（目标 " + (kpi.targets[name] || "") + "）";
      var box = document.createElement("div");
      box.className = "chart";
      box.dataset.kpi = name;
      figure.appendChild(caption);
      figure.appendChild(box);
      holder.appendChild(figure);
      var target = parseFloat(String(kpi.targets[name] || "").replace(/[^0-9.]/g, ""));
      var chart = echarts.init(box);
      chart.setOption({
        grid: { left: 40, right: 12, top: 12, bottom: 24 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: kpi.weeks },
        yAxis: { type: "value", scale: true },
        series: [{
          type: "line", data: kpi.series[name], connectNulls: false, symbolSize: 5,
          markLine: isNaN(target) ? undefined : { symbol: "none", data: [{ yAxis: target, name: "目标" }],
            lineStyle: { color: "#b26a00", type: "dashed" } }
        }]
      });
    });
  }

  // Typing in the reply box tells colleagues on the same chat (at most every 3 s while keys are pressed).
  var typingSaid = 0;
  document.body.addEventListener("input", function (evt) {
    if (evt.target.id !== "reply" || !panel || Date.now() - typingSaid < 3000) return;
    typingSaid = Date.now();
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch(panel.dataset.typing, { method: "POST", headers: headers, credentials: "same-origin" }).catch(function () {});
  });

  // Quick replies: pick one from the list, Alt+1…9, or "/" and a few letters of its title in the reply box;
  // Ctrl+Enter sends. Variables ({单号}, {时限}, {居民称呼}) are filled from the chat as the server gave them;
  // one it could not fill stays, and the server refuses to send it, saying why.
  function filled(text) {
    var form = document.querySelector("form.compose");
    var vars = form ? JSON.parse(form.dataset.vars || "{}") : {};
    return text.replace(/\{(单号|时限|居民称呼)\}/g, function (name) { return vars[name] !== undefined ? vars[name] : name; });
  }
  function insertReply(text, from) {
    var box = document.getElementById("reply");
    if (!box || box.disabled || !text) return;
    var at = from !== undefined ? from : (box.selectionStart || box.value.length);
    var end = box.selectionEnd || at;
    text = filled(text);
    box.value = box.value.slice(0, at) + text + box.value.slice(Math.max(end, at));
    box.focus();
    box.selectionStart = box.selectionEnd = at + text.length;
  }
  var picking = null; // {from: where the "/" is, active: the highlighted option}
  function pickerOptions() {
    var list = document.getElementById("reply-picker");
    return list ? Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (li) { return !li.hidden; }) : [];
  }
  function highlight(li) {
    var box = document.getElementById("reply");
    pickerOptions().forEach(function (o) { o.setAttribute("aria-selected", o === li ? "true" : "false"); });
    if (picking) picking.active = li;
    if (li) { box.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
    else box.removeAttribute("aria-activedescendant");
  }
  function closePicker() {
    var list = document.getElementById("reply-picker");
    var box = document.getElementById("reply");
    if (list) list.hidden = true;
    if (box) box.removeAttribute("aria-activedescendant");
    picking = null;
  }
  function openPicker(box) {
    var list = document.getElementById("reply-picker");
    if (!list) return;
    var before = box.value.slice(0, box.selectionStart);
    var found = /(^|\s)\/([^\s\/]*)$/.exec(before);
    if (!found) { closePicker(); return; }
    var words = found[2].toLowerCase();
    list.querySelectorAll("[role=option]").forEach(function (li) {
      li.hidden = Boolean(words) && (li.dataset.title + li.dataset.text).toLowerCase().indexOf(words) < 0;
    });
    var shown = pickerOptions();
    if (!shown.length) { closePicker(); return; }
    picking = { from: before.length - found[2].length - 1, active: null };
    list.hidden = false;
    highlight(shown[0]);
  }
  function choosePicked(li) {
    var box = document.getElementById("reply");
    var from = picking.from;
    box.value = box.value.slice(0, from) + box.value.slice(box.selectionStart);
    box.selectionStart = box.selectionEnd = from;
    closePicker();
    insertReply(li.dataset.text, from);
  }
  document.body.addEventListener("input", function (evt) {
    if (evt.target.id === "reply") openPicker(evt.target);
  });
  document.body.addEventListener("keydown", function (evt) {
    if (evt.target.id !== "reply" || !picking) return;
    var shown = pickerOptions();
    var at = shown.indexOf(picking.active);
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      highlight(shown[Math.min(shown.length - 1, Math.max(0, at + (evt.key === "ArrowDown" ? 1 : -1)))]);
    } else if ((evt.key === "Enter" && !evt.ctrlKey && !evt.metaKey) || evt.key === "Tab") {
      if (picking.active) { evt.preventDefault(); evt.stopPropagation(); choosePicked(picking.active); }
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      closePicker();
    }
  }, true);
  document.body.addEventListener("mousedown", function (evt) {
    var li = evt.target.closest && evt.target.closest("#reply-picker [role=option]");
    if (li && picking) { evt.preventDefault(); choosePicked(li); }
  });
  document.body.addEventListener("change", function (evt) {
    if (evt.target.id === "canned") { insertReply(evt.target.value); evt.target.value = ""; }
  });
  // After 接管会话 the panel is swapped in anew: the keyboard goes on in the reply box.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var trigger = evt.detail && evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (!trigger || !trigger.hasAttribute || !trigger.hasAttribute("data-focus-reply")) return;
    var box = document.getElementById("reply");
    if (box && !box.disabled) box.focus();
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.altKey && /^[1-9]$/.test(evt.key)) {
      var option = document.querySelector('#canned option[data-key="' + evt.key + '"]');
      if (option) { evt.preventDefault(); insertReply(option.value); }
    }
    if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey) && evt.target.id === "reply") {
      evt.preventDefault();
      htmx.trigger(evt.target.form, "submit");
    }
  });
})();

// 待学习 (the review queue): keyboard-first labelling, entities marked by selecting the text, the intent
// list searched by typing. Without this script the page still labels through its plain forms.
(function () {
  "use strict";
  var list = document.getElementById("review-list");
  if (!list) return;
  var KEYS = { a: "address", p: "phone", t: "temperature", h: "time" };
  var WORDS = { address: "地址", phone: "电话", temperature: "温度", time: "时间" };
  var filter = document.getElementById("intent-filter");
  var options = document.getElementById("intent-options");
  var current = null; // the group being worked on
  var refocus = null; // after a save: the place in the list to go on from

  function groups() { return Array.prototype.slice.call(list.querySelectorAll("[data-review-item]")); }
  function setCurrent(group, focus) {
    if (current && current !== group) {
      current.classList.remove("current");
      var left = current.querySelector("[data-review-text]");
      if (left && left.caret) {
        left.caret = null;
        showCaret(left);
      }
    }
    current = group;
    if (!group) return;
    group.classList.add("current");
    if (focus) {
      group.focus({ preventScroll: true });
      group.scrollIntoView({ block: "nearest" });
    }
  }
  function move(step) {
    var all = groups();
    if (!all.length) return false;
    var at = all.indexOf(current);
    setCurrent(all[at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step))], true);
    return true;
  }
  function say(group, words) {
    var line = group.querySelector("[data-review-say]");
    if (!line) {
      line = document.createElement("p");
      line.className = "hint";
      line.setAttribute("role", "status");
      line.dataset.reviewSay = "";
      var form = group.querySelector("[data-label-form]");
      group.insertBefore(line, form || null);
    }
    line.textContent = words;
  }

  // Offsets: the server counts characters (code points, as Python's str does) while the page's strings
  // count UTF-16 units, in which an emoji is two. Every offset kept here is in code points.
  function offsetOf(text, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(text);
    range.setEnd(node, offset);
    return Array.from(range.toString()).length;
  }
  function pointAt(text, at) {
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    var node, last = null;
    while ((node = walker.nextNode())) {
      var chars = Array.from(node.data);
      if (at <= chars.length) return [node, chars.slice(0, at).join("").length];
      at -= chars.length;
      last = node;
    }
    return last ? [last, last.data.length] : [text, 0];
  }
  function length(text) { return Array.from(text.dataset.text).length; }
  // The part of the text selected (with the mouse or the keys), spaces at its ends left out; null if none.
  function selection(text) {
    var sel = window.getSelection();
    if (!sel.rangeCount || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    if (!range.intersectsNode(text)) return null;
    var whole = document.createRange();
    whole.selectNodeContents(text);
    var start = range.compareBoundaryPoints(Range.START_TO_START, whole) <= 0 ? 0
      : offsetOf(text, range.startContainer, range.startOffset);
    var end = range.compareBoundaryPoints(Range.END_TO_END, whole) >= 0 ? length(text)
      : offsetOf(text, range.endContainer, range.endOffset);
    var chars = Array.from(text.dataset.text);
    while (start < end && !chars[start].trim()) start++;
    while (end > start && !chars[end - 1].trim()) end--;
    return end > start ? { start: start, end: end } : null;
  }
  // The keyboard's caret in a text: ←/→ move it, Shift+←/→ select from where it stood.
  function caretKey(group, evt) {
    var text = group.querySelector("[data-review-text]");
    if (!text) return;
    var sel = window.getSelection();
    var caret = text.caret || { anchor: 0, focus: 0 };
    if (sel.rangeCount && !sel.isCollapsed && text.contains(sel.anchorNode) && text.contains(sel.focusNode)) {
      caret = { anchor: offsetOf(text, sel.anchorNode, sel.anchorOffset), focus: offsetOf(text, sel.focusNode, sel.focusOffset) };
    }
    var focus = Math.min(length(text), Math.max(0, caret.focus + (evt.key === "ArrowRight" ? 1 : -1)));
    text.caret = { anchor: evt.shiftKey ? caret.anchor : focus, focus: focus };
    showCaret(text);
  }
  function showCaret(text) {
    var old = text.querySelector(".caret");
    if (old) {
      old.remove();
      text.normalize();
    }
    var caret = text.caret;
    var sel = window.getSelection();
    if (!caret) return;
    if (caret.anchor === caret.focus) {
      sel.removeAllRanges();
      var place = pointAt(text, caret.focus);
      var mark = document.createElement("span");
      mark.className = "caret";
      var range = document.createRange();
      range.setStart(place[0], place[1]);
      range.insertNode(mark);
      text.normalize();
    } else {
      var from = pointAt(text, caret.anchor), to = pointAt(text, caret.focus);
      sel.setBaseAndExtent(from[0], from[1], to[0], to[1]);
    }
  }

  function entitiesOf(group) {
    var field = group.querySelector("[data-entities]");
    try { return field ? JSON.parse(field.value || "[]") : []; } catch (e) { return []; }
  }
  function keep(group, entities) {
    entities.sort(function (a, b) { return a.start - b.start; });
    group.querySelector("[data-entities]").value = JSON.stringify(entities);
    show(group, entities);
  }
  // The text with its entities marked, and the list of them with 移除 buttons.
  function show(group, entities) {
    var text = group.querySelector("[data-review-text]");
    var chars = Array.from(text.dataset.text);
    var parts = [], at = 0;
    entities.forEach(function (e) {
      if (e.start < at || e.end > chars.length) return;
      if (e.start > at) parts.push(document.createTextNode(chars.slice(at, e.start).join("")));
      var mark = document.createElement("mark");
      mark.className = "entity e-" + e.entity;
      mark.title = WORDS[e.entity] || e.entity;
      mark.textContent = chars.slice(e.start, e.end).join("");
      parts.push(mark);
      at = e.end;
    });
    if (at < chars.length) parts.push(document.createTextNode(chars.slice(at).join("")));
    text.replaceChildren.apply(text, parts);
    var items = entities.map(function (e, i) {
      var li = document.createElement("li");
      var kind = document.createElement("span");
      kind.className = "entity e-" + e.entity;
      kind.textContent = WORDS[e.entity] || e.entity;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.dataset.unmark = String(i);
      remove.textContent = "移除";
      li.append(kind, " " + chars.slice(e.start, e.end).join("") + " ", remove);
      return li;
    });
    var holder = group.querySelector("[data-entity-list]");
    holder.replaceChildren.apply(holder, items);
  }
  function mark(group, kind) {
    var text = group.querySelector("[data-review-text]");
    if (!text || !group.querySelector("[data-entities]")) return;
    var span = selection(text);
    if (!span) { say(group, "请先在原文中选中要标为" + WORDS[kind] + "的字（鼠标拖选，或 Shift+←/→）。"); return; }
    var entities = entitiesOf(group);
    if (entities.some(function (e) { return span.start < e.end && e.start < span.end; })) {
      say(group, "选中的字与已标记的部分重叠：请先移除那一处。");
      return;
    }
    entities.push({ entity: kind, start: span.start, end: span.end });
    window.getSelection().removeAllRanges();
    text.caret = { anchor: span.end, focus: span.end };
    keep(group, entities);
    say(group, "已标为" + WORDS[kind] + "：" + Array.from(text.dataset.text).slice(span.start, span.end).join("") + "（保存后生效）");
  }

  function press(group, selector) {
    var button = group && group.querySelector(selector);
    if (button) button.click(); // a click, so that htmx sends the button's name and value
    return Boolean(button);
  }
  function save(group) {
    var select = group.querySelector("[data-intent-select]");
    if (!select) return;
    if (!select.value) { say(group, "请先选择意图：按 1–3 选机器人的理解，或按 / 搜索意图列表。"); return; }
    press(group, "[data-save]");
  }
  function choose(group, name) {
    var select = group && group.querySelector("[data-intent-select]");
    if (!select || !name) return;
    select.value = name;
    var option = select.options[select.selectedIndex];
    say(group, "已选“" + (option ? option.textContent.replace(/（例：.*$/, "") : name) + "”，按 Enter 保存。");
  }

  // The intent list: typing filters it by name or example, ↑/↓ move, Enter picks for the current group.
  var active = null;
  function visibleOptions() {
    return Array.prototype.slice.call(options.querySelectorAll("[data-intent]")).filter(function (li) { return !li.hidden; });
  }
  function activate(li) {
    if (active) active.setAttribute("aria-selected", "false");
    active = li;
    if (li) {
      li.setAttribute("aria-selected", "true");
      li.scrollIntoView({ block: "nearest" });
      filter.setAttribute("aria-activedescendant", li.id);
    } else {
      filter.removeAttribute("aria-activedescendant");
    }
  }
  function back() {
    if (current) setCurrent(current, true);
  }
  function clearFilter() {
    filter.value = "";
    options.querySelectorAll("[data-intent]").forEach(function (li) { li.hidden = false; });
    activate(null);
  }
  if (filter && options) {
    filter.hidden = false;
    filter.setAttribute("role", "combobox");
    filter.setAttribute("aria-expanded", "true");
    filter.addEventListener("input", function () {
      var words = filter.value.trim().toLowerCase();
      options.querySelectorAll("[data-intent]").forEach(function (li) {
        li.hidden = Boolean(words) && li.textContent.toLowerCase().indexOf(words) < 0;
      });
      activate(visibleOptions()[0] || null);
    });
    filter.addEventListener("keydown", function (evt) {
      var shown = visibleOptions();
      if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
        evt.preventDefault();
        var at = shown.indexOf(active) + (evt.key === "ArrowDown" ? 1 : -1);
        activate(shown[Math.min(shown.length - 1, Math.max(0, at))] || null);
      } else if (evt.key === "Enter") {
        evt.preventDefault();
        if (active && !active.hidden) { choose(current, active.dataset.intent); clearFilter(); back(); }
      } else if (evt.key === "Escape") {
        evt.preventDefault();
        back();
      }
    });
    options.addEventListener("click", function (evt) {
      var li = evt.target.closest("[data-intent]");
      if (!li) return;
      activate(li);
      choose(current || groups()[0], li.dataset.intent);
      if (!current) setCurrent(groups()[0], false);
      back();
    });
  }

  function typing(el) {
    return Boolean(el && el.closest && el.closest("input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]"));
  }
  document.addEventListener("keydown", function (evt) {
    if (evt.defaultPrevented || evt.ctrlKey || evt.altKey || evt.metaKey || typing(evt.target)) return;
    var key = evt.key.length === 1 ? evt.key.toLowerCase() : evt.key;
    var onControl = evt.target.closest && evt.target.closest("button, a, summary, input");
    var group = current && current.isConnected ? current : null;
    var handled = true;
    if (key === "j" || key === "ArrowDown") handled = move(1);
    else if (key === "k" || key === "ArrowUp") handled = move(-1);
    else if (key === "/" && filter) { filter.focus(); filter.select(); }
    else if (!group) handled = false;
    else if (key === "Enter" && !onControl) save(group);
    else if (/^[1-9]$/.test(key)) {
      var reading = group.querySelectorAll("[data-reading]")[Number(key) - 1];
      if (reading && reading.dataset.reading) choose(group, reading.dataset.reading);
      else if (reading) say(group, "这个理解不是可以标注的意图，请在意图列表中选择。");
    }
    else if (key === "o") press(group, "[data-out-of-scope]");
    else if (KEYS[key] && !evt.shiftKey) mark(group, KEYS[key]);
    else if (key === "ArrowLeft" || key === "ArrowRight") caretKey(group, evt);
    else if (key === "x") {
      var box = group.querySelector("[data-approve-check]");
      if (box) box.checked = !box.checked;
    }
    else if (key === "y") press(group, "[data-approve]");
    else handled = false;
    if (handled) evt.preventDefault();
  });

  list.addEventListener("focusin", function (evt) {
    var group = evt.target.closest("[data-review-item]");
    if (group) setCurrent(group, false);
  });
  list.addEventListener("mousedown", function (evt) {
    // the kind buttons keep the selection they act on (a click elsewhere would collapse it)
    if (evt.target.closest("[data-mark]")) evt.preventDefault();
    var text = evt.target.closest("[data-review-text]");
    if (text && text.caret) {
      text.caret = null;
      showCaret(text);
    }
    var group = evt.target.closest("[data-review-item]");
    if (group) setCurrent(group, false);
  });
  list.addEventListener("click", function (evt) {
    var group = evt.target.closest("[data-review-item]");
    var kind = evt.target.closest("[data-mark]");
    var unmark = evt.target.closest("[data-unmark]");
    var all = evt.target.closest("[data-check-all]");
    if (group && kind) mark(group, kind.dataset.mark);
    if (group && unmark) {
      var entities = entitiesOf(group);
      entities.splice(Number(unmark.dataset.unmark), 1);
      keep(group, entities);
      say(group, "已移除（保存后生效）");
    }
    if (all) list.querySelectorAll("[data-approve-check]").forEach(function (box) { box.checked = all.checked; });
  });
  var skip = document.querySelector("[data-skip-review]");
  if (skip) {
    skip.addEventListener("click", function (evt) {
      evt.preventDefault();
      var first = groups()[0];
      if (first) setCurrent(first, true);
      else list.focus();
    });
  }

  // What needs this script is shown once it runs; after a save the list is new, and work goes on at the
  // same place (the next group).
  function enhance() {
    list.querySelectorAll("[data-entity-tools], [data-check-all-label]").forEach(function (el) { el.hidden = false; });
    groups().forEach(function (group) {
      var field = group.querySelector("[data-entities]");
      if (!field) return;
      if (field.dataset.saved === undefined) field.dataset.saved = field.value; // a hidden field has no default of its own
      show(group, entitiesOf(group));
    });
  }
  // Work not yet saved on the other groups (marks, a chosen intent, a tick) survives the list being
  // refreshed, unless the group itself changed meanwhile.
  var unsaved = {};
  function keepUnsaved(source) {
    unsaved = {};
    groups().forEach(function (group) {
      var form = group.querySelector("[data-label-form]");
      if (group === source || !form) return;
      var field = form.querySelector("[data-entities]"), select = form.querySelector("[data-intent-select]");
      var option = select.options[select.selectedIndex];
      var box = group.querySelector("[data-approve-check]");
      unsaved[group.id] = {
        seen: form.elements.seen.value,
        entities: field.value !== field.dataset.saved ? field.value : null,
        intent: option && !option.defaultSelected ? select.value : null,
        ticked: Boolean(box && box.checked)
      };
    });
  }
  function restoreUnsaved() {
    Object.keys(unsaved).forEach(function (id) {
      var group = document.getElementById(id), was = unsaved[id];
      var form = group && group.querySelector("[data-label-form]");
      if (!form || form.elements.seen.value !== was.seen) return;
      if (was.entities !== null) keep(group, JSON.parse(was.entities));
      if (was.intent !== null) form.querySelector("[data-intent-select]").value = was.intent;
      var box = group.querySelector("[data-approve-check]");
      if (box && was.ticked) box.checked = true;
    });
    unsaved = {};
  }
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    if (!list.contains(evt.detail.elt)) return;
    var source = evt.detail.elt.closest("[data-review-item]");
    refocus = Math.max(0, groups().indexOf(source));
    keepUnsaved(source);
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (refocus === null) return;
    var at = refocus;
    refocus = null;
    if (current && current.isConnected) return; // refused: the same group is still there
    enhance();
    restoreUnsaved();
    var all = groups();
    if (all.length) setCurrent(all[Math.min(at, all.length - 1)], true);
    else { current = null; list.focus(); }
  });
  enhance();
})();
