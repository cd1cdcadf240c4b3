/* The offline console's stand-in for Telegram's telegram-web-app.js: the init data from the link's fragment
   (#tgWebAppData=…, where Telegram puts it too), the browser's own light or dark scheme, no-op buttons. */
"use strict";
(function () {
  const params = new URLSearchParams(location.hash.slice(1));
  const initData = params.get("tgWebAppData") || "";
  if (initData) history.replaceState(null, "", location.pathname + location.search);
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  const noop = function () { return this; };
  const button = { setText: noop, show: noop, hide: noop, onClick: noop, offClick: noop };
  window.Telegram = { WebApp: {
    initData, initDataUnsafe: {}, version: "console", platform: "console",
    colorScheme: dark ? "dark" : "light",
    themeParams: dark ? { bg_color: "#212121", text_color: "#ffffff", hint_color: "#aaaaaa", link_color: "#8774e1",
      button_color: "#8774e1", button_text_color: "#ffffff", secondary_bg_color: "#181818" } : {},
    ready: noop, expand: noop, onEvent: noop, offEvent: noop,
    HapticFeedback: { notificationOccurred: noop, impactOccurred: noop, selectionChanged: noop },
    MainButton: button, BackButton: { show: noop, hide: noop, onClick: noop, offClick: noop },
  } };
})();
