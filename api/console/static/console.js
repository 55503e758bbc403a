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
    var counts = document.getElementById("alert-counts");
    var title = document.querySelector("title");
    if (counts && title) {
      var n = Number(counts.dataset.count || 0);
      var base = title.dataset.title + " · 供热客服工作台";
      document.title = n ? "(" + n + ") " + base : base;
    }
  }
  document.body.addEventListener("htmx:load", function (evt) { stamp(evt.target); });
  stamp(document);
  setInterval(tick, 1000);

  // Live chat: the server says "changed" (server-sent events) and the transcript is fetched again.
  var panel = document.getElementById("chat-panel");
  if (panel && window.EventSource) {
    var source = new EventSource(panel.dataset.stream);
    source.addEventListener("changed", function () {
      var transcript = document.getElementById("transcript");
      if (transcript) htmx.trigger(transcript, "refresh");
    });
    // The server ended the stream for good (logout, expired login, the chat gone): say why, no reconnect.
    source.addEventListener("ended", function (evt) {
      source.close();
      showBanner(evt.data);
    });
    // Refused (too many chat pages open) or failed: the browser does not try again by itself.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        showBanner("本页的实时更新已停止（可能同时打开的会话页面过多）。请关闭不用的会话页面后刷新本页。");
      }
    });
  }
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

  // Quick replies: pick one from the list, or Alt+1…9; Ctrl+Enter sends.
  function insertReply(text) {
    var box = document.getElementById("reply");
    if (!box || box.disabled || !text) return;
    var at = box.selectionStart || box.value.length;
    box.value = box.value.slice(0, at) + text + box.value.slice(box.selectionEnd || at);
    box.focus();
  }
  document.body.addEventListener("change", function (evt) {
    if (evt.target.id === "canned") { insertReply(evt.target.value); evt.target.value = ""; }
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
