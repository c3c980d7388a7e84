// The Livedesk chat widget. Embed it on a page with
//
//   <script src="https://livedesk.example.com/widget.js" data-widget-key="KEY" async></script>
//
// It starts (or resumes) the tab's session with the widget API, keeps one
// WebSocket open for live messages, shows a chat window with the
// "Live agent · Name" badge and "Name is typing…", and exposes `Livedesk.user.tag({...})` and
// `Livedesk.user.reset()` for the site's own login and logout code.
// Plain JavaScript, no dependencies; the API is described in docs/widget.md.
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.Livedesk) return;
  const base = new URL(script.src, location.href).origin;
  const widgetKey = script.dataset.widgetKey;
  const api = (path) => `${base}/widget/v1/${path}`;
  const stored = {
    get: (store, name) => {
      try { return store.getItem(`livedesk.${widgetKey}.${name}`); } catch { return null; }
    },
    set: (store, name, value) => {
      try {
        if (value == null) store.removeItem(`livedesk.${widgetKey}.${name}`);
        else store.setItem(`livedesk.${widgetKey}.${name}`, value);
      } catch { /* storage disabled: the session lives as long as the page */ }
    },
  };
  const randomId = () => Math.random().toString(36).slice(2, 12) + Date.now().toString(36);

  // One tab id per tab: sessionStorage survives reloads, not new tabs.
  let tabId = stored.get(sessionStorage, "tab");
  if (!tabId) {
    tabId = `t-${randomId()}`;
    stored.set(sessionStorage, "tab", tabId);
  }

  let session = null;
  let socket = null;
  let heartbeat = null;
  let reconnectDelay = 500;
  const shown = new Set();
  const listeners = { message: [], handledBy: [], session: [], typing: [] };
  // Typing: sent at most every 2 s while keys are pressed, stopped after
  // 4 s without one or on send; an agent's shows for at most 6 s unless
  // repeated (a lost stop never leaves it stuck).
  const TYPING_REPEAT_MS = 2000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOWN_MS = 6000;
  let typingSentAt = 0;
  let typingIdle = null;
  let typingShown = null;

  // --- talking to the widget API -------------------------------------------

  class WidgetError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function call(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (session) headers.Authorization = `Bearer ${session.token}`;
    const response = await fetch(api(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = answer.error || {};
      throw new WidgetError(response.status, error.code || "http_error", error.message || response.statusText);
    }
    if (answer.renewed) adopt(answer.renewed);
    return answer;
  }

  function savedToken() {
    return stored.get(sessionStorage, "token") || stored.get(localStorage, "token");
  }

  function savedVisitor() {
    return stored.get(localStorage, "visitor") || stored.get(sessionStorage, "visitor");
  }

  // Keeps a session the server answered with, and follows it live.
  function adopt(next) {
    const changed = !session || session.sessionId !== next.sessionId || session.token !== next.token;
    session = next;
    stored.set(sessionStorage, "token", next.token);
    stored.set(localStorage, "token", next.keepSessionAcrossTabs ? next.token : null);
    const keep = next.visitorIdStorage === "local" ? localStorage : sessionStorage;
    const other = keep === localStorage ? sessionStorage : localStorage;
    stored.set(keep, "visitor", next.visitorId);
    stored.set(other, "visitor", null);
    showHandledBy(next.handledBy);
    if (changed) {
      listeners.session.forEach((f) => f(next));
      connect();
    }
  }

  async function start() {
    const request = {
      widgetKey,
      tabId,
      path: location.pathname || "/",
      title: document.title ? document.title.slice(0, 200) : undefined,
      referrer: document.referrer || undefined,
      visitorId: savedVisitor() || undefined,
      token: savedToken() || undefined,
    };
    let next;
    try {
      next = await call("POST", "sessions", request);
    } catch (error) {
      // A token from another server secret or an expired one: start over.
      if (error.code !== "invalid_token" && error.code !== "token_expired" && error.code !== "visitor_reset") throw error;
      stored.set(sessionStorage, "token", null);
      stored.set(localStorage, "token", null);
      next = await call("POST", "sessions", { ...request, token: undefined });
    }
    adopt(next);
    await loadHistory();
    return next;
  }

  async function loadHistory() {
    const { conversations } = await call("GET", "history");
    for (const conversation of conversations) {
      if (!conversation.current) continue;
      conversation.messages.forEach(showMessage);
    }
  }

  function connect() {
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    const url = `${api("ws").replace(/^http/, "ws")}?token=${encodeURIComponent(session.token)}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      reconnectDelay = 500;
      stopHeartbeat();
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "message") showMessage(frame.message);
      else if (frame.type === "handled_by" || frame.type === "ready") showHandledBy(frame.handledBy);
      else if (frame.type === "typing") showTyping(frame);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      startHeartbeat();
      if (event.code === 4000) {
        // The session ended (timed out, maximum duration): the next
        // activity starts a new one; start it now while the page is open.
        setTimeout(() => start().catch(() => {}), 100);
        return;
      }
      setTimeout(() => { if (!socket && session) connect(); }, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15000);
    };
  }

  // Without a WebSocket, a heartbeat keeps the session alive.
  function startHeartbeat() {
    if (heartbeat || !session) return;
    heartbeat = setInterval(() => call("POST", "heartbeat", {}).catch(() => {}), (session.heartbeatSecs || 10) * 1000);
  }

  function stopHeartbeat() {
    clearInterval(heartbeat);
    heartbeat = null;
  }

  // The visitor pressed a key in the input. Only once their conversation
  // exists (their first message opens it): before, nobody could see it.
  function typed(value) {
    if (!session || shown.size === 0) return;
    if (!value.trim()) {
      stoppedTyping();
      return;
    }
    const now = Date.now();
    if (!typingSentAt || now - typingSentAt >= TYPING_REPEAT_MS) {
      typingSentAt = now;
      call("POST", "typing", { typing: true }).catch(() => {});
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stoppedTyping, TYPING_IDLE_MS);
  }

  function stoppedTyping() {
    clearTimeout(typingIdle);
    typingIdle = null;
    if (!typingSentAt) return;
    typingSentAt = 0;
    call("POST", "typing", { typing: false }).catch(() => {});
  }

  async function send(body) {
    const text = String(body || "").trim();
    if (!text) return null;
    stoppedTyping();
    const answer = await call("POST", "messages", { body: text, clientMessageId: `c-${randomId()}` });
    if (answer.message) showMessage(answer.message);
    showHandledBy(answer.handledBy);
    return answer;
  }

  // --- the chat window ----------------------------------------------------

  const css = `
    #livedesk-root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      font: 14px/1.4 system-ui, sans-serif; color: #1f2430; }
    #livedesk-open { border: 0; border-radius: 24px; padding: 12px 18px; background: #2450d8;
      color: #fff; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.2); }
    #livedesk-window { display: none; flex-direction: column; width: 320px; height: 440px;
      background: #fff; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; }
    #livedesk-root.open #livedesk-window { display: flex; }
    #livedesk-root.open #livedesk-open { display: none; }
    #livedesk-header { display: flex; align-items: center; justify-content: space-between;
      padding: 10px 14px; background: #2450d8; color: #fff; }
    #livedesk-badge { font-weight: 600; }
    #livedesk-badge.agent::before { content: ""; display: inline-block; width: 8px; height: 8px;
      margin-right: 6px; border-radius: 50%; background: #4ade80; }
    #livedesk-close { border: 0; background: none; color: #fff; font-size: 18px; cursor: pointer; }
    #livedesk-messages { flex: 1; overflow-y: auto; padding: 10px; background: #f5f6f8; }
    .livedesk-message { margin: 6px 0; max-width: 85%; }
    .livedesk-message .livedesk-author { font-size: 11px; color: #6b7280; }
    .livedesk-message .livedesk-body { padding: 7px 10px; border-radius: 10px; background: #fff;
      white-space: pre-wrap; word-wrap: break-word; }
    .livedesk-message[data-author="visitor"] { margin-left: auto; text-align: right; }
    .livedesk-message[data-author="visitor"] .livedesk-body { background: #dbe4ff; }
    #livedesk-form { display: flex; border-top: 1px solid #e5e7eb; }
    #livedesk-input { flex: 1; border: 0; padding: 10px; font: inherit; outline: none; }
    #livedesk-send { border: 0; padding: 0 14px; background: none; color: #2450d8; font-weight: 600; cursor: pointer; }
    #livedesk-typing { min-height: 18px; padding: 0 10px; font-size: 12px; font-style: italic;
      color: #6b7280; background: #f5f6f8; }
    #livedesk-human { border: 0; background: none; color: #2450d8; padding: 4px 10px; cursor: pointer;
      font-size: 12px; text-align: left; }
  `;

  let ui = null;

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    children.forEach((child) => node.append(child));
    return node;
  }

  function render() {
    if (ui || !document.body) return;
    const style = element("style");
    style.textContent = css;
    const badge = element("span", { id: "livedesk-badge" }, "Chat");
    const messages = element("div", { id: "livedesk-messages", "aria-live": "polite" });
    const input = element("input", { id: "livedesk-input", placeholder: "Write a message…", autocomplete: "off" });
    const form = element("form", { id: "livedesk-form" }, input, element("button", { id: "livedesk-send", type: "submit" }, "Send"));
    const typing = element("div", { id: "livedesk-typing", "aria-live": "polite" });
    const human = element("button", { id: "livedesk-human", type: "button" }, "Talk to a person");
    const close = element("button", { id: "livedesk-close", type: "button", "aria-label": "Close" }, "×");
    const open = element("button", { id: "livedesk-open", type: "button" }, "Chat with us");
    const root = element("div", { id: "livedesk-root" },
      open,
      element("div", { id: "livedesk-window", role: "dialog", "aria-label": "Chat" },
        element("div", { id: "livedesk-header" }, badge, close), messages, typing, human, form));
    document.head.append(style);
    document.body.append(root);
    open.addEventListener("click", () => root.classList.add("open"));
    close.addEventListener("click", () => root.classList.remove("open"));
    human.addEventListener("click", () => call("POST", "human", {}).catch(() => {}));
    input.addEventListener("input", () => typed(input.value));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value;
      input.value = "";
      send(text).catch((error) => { input.value = text; showNotice(error.message); });
    });
    ui = { root, badge, messages, input, typing };
  }

  function showHandledBy(handledBy) {
    if (!handledBy) return;
    if (ui) {
      ui.badge.textContent = handledBy.label;
      ui.badge.className = handledBy.type;
    }
    listeners.handledBy.forEach((f) => f(handledBy));
  }

  // "Ana is typing…" for at most 6 s without a repeat.
  function showTyping(frame) {
    clearTimeout(typingShown);
    const text = frame.typing && frame.agent ? `${frame.agent.name} is typing…` : "";
    if (ui) ui.typing.textContent = text;
    if (text) typingShown = setTimeout(() => showTyping({ typing: false }), TYPING_SHOWN_MS);
    listeners.typing.forEach((f) => f(frame));
  }

  function showMessage(message) {
    if (!message || shown.has(message.id)) return;
    shown.add(message.id);
    // The agent's message is what their typing was.
    if (message.author && message.author.type === "agent" && ui && ui.typing.textContent) showTyping({ typing: false });
    if (ui) {
      const author = message.author || {};
      const node = element("div", { class: "livedesk-message", "data-author": author.type || "system" },
        element("div", { class: "livedesk-author" }, author.label || ""),
        element("div", { class: "livedesk-body" }, message.body));
      ui.messages.append(node);
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
    listeners.message.forEach((f) => f(message));
  }

  function showNotice(text) {
    if (!ui) return;
    ui.messages.append(element("div", { class: "livedesk-message", "data-author": "system" },
      element("div", { class: "livedesk-body" }, text)));
  }

  function clearMessages() {
    shown.clear();
    if (ui) ui.messages.replaceChildren();
  }

  // --- the page's life ----------------------------------------------------

  document.addEventListener("visibilitychange", () => {
    if (!session) return;
    call("POST", "visibility", { state: document.visibilityState === "visible" ? "active" : "idle" }).catch(() => {});
  });

  // `pagehide` fires on tab close and navigation away; sendBeacon outlives
  // the page (it cannot set headers, so the token goes in the body).
  window.addEventListener("pagehide", () => {
    if (!session) return;
    navigator.sendBeacon(api("leave"), JSON.stringify({ token: session.token }));
  });

  const ready = new Promise((resolve, reject) => {
    const go = () => {
      render();
      start().then(resolve, reject);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
    else go();
  });
  ready.catch((error) => console.warn("Livedesk:", error.message));

  window.Livedesk = {
    ready,
    open: () => ui && ui.root.classList.add("open"),
    send,
    session: () => session,
    on: (kind, listener) => listeners[kind] && listeners[kind].push(listener),
    user: {
      /** Identify the visitor: {email, firstName, lastName, labels, assignedUser, externalUserId, signature}. */
      tag: async (fields) => {
        await ready;
        return call("POST", "tag", fields || {});
      },
      /** The visitor logged out: they become a new anonymous visitor. */
      reset: async () => {
        await ready;
        const next = await call("POST", "reset", {});
        clearMessages();
        adopt(next);
        return next;
      },
    },
  };
})();
