// The live connection: one graphql-transport-ws socket for every
// subscription of the page. The session cookie authenticates the upgrade
// (connectionParams stay empty). graphql-ws resubscribes every active
// subscription after a reconnect; each subscription's first push is then
// a snapshot, which the screens merge by id.
import { createClient, type Client } from "graphql-ws";
import { signal } from "@preact/signals";
import type { TypedDocumentString } from "../gql/generated";
import { ApiError, consoleApi, unauthenticated } from "./api";
import { backoffDelay } from "./backoff";

export type LinkState = "connecting" | "connected" | "reconnecting";
/** Whether the socket is up; the shell shows "Reconnecting…" otherwise. */
export const linkState = signal<LinkState>("connecting");
/** Bumped on every (re)connection after the first: screens refetch. */
export const reconnects = signal(0);
/** Bumped when the socket is shut for good (sign-out): stores restart. */
export const generation = signal(0);

let client: Client | null = null;
let socket: WebSocket | null = null;
let wake: (() => void) | null = null;
let pongTimer: ReturnType<typeof setTimeout> | undefined;
let everConnected = false;
let lastProbe = 0;

/**
 * A socket that keeps failing may mean the session ended while the
 * network was down (the upgrade is refused, no 4403 arrives): ask the
 * sign-in API, at most every 10 s.
 */
function probeSession(): void {
  const now = Date.now();
  if (now - lastProbe < 10_000) return;
  lastProbe = now;
  consoleApi("GET", "/session").catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 401) {
      shutdown();
      unauthenticated();
    }
  });
}

function url(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql/ws`;
}

function ensureClient(): Client {
  if (client) return client;
  client = createClient({
    url: url(),
    connectionParams: {},
    lazy: true,
    lazyCloseTimeout: 3_000,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Exponential back-off with jitter, capped at ~10 s; `online` and a
    // tab coming back to the front cut the wait short.
    retryWait: (retries) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          if (wake === done) wake = null;
          resolve();
        };
        const timer = setTimeout(done, backoffDelay(retries, Math.random()));
        wake = done;
      }),
    on: {
      connecting: () => {
        if (linkState.value !== "connected") linkState.value = everConnected ? "reconnecting" : "connecting";
      },
      connected: (s) => {
        socket = s as WebSocket;
        linkState.value = "connected";
        if (everConnected) reconnects.value++;
        everConnected = true;
      },
      ping: (received) => {
        // Our keep-alive ping: a server that does not answer within 5 s
        // is gone (a dead network leaves the socket "open").
        if (!received) {
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => socket?.readyState === WebSocket.OPEN && socket.close(4408, "pong timeout"), 5_000);
        }
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: (event) => {
        socket = null;
        clearTimeout(pongTimer);
        const code = (event as CloseEvent | undefined)?.code;
        if (code !== undefined && endsSession(code)) {
          // The session ended (signed out everywhere, expired).
          shutdown();
          unauthenticated();
          return;
        }
        if (everConnected) linkState.value = "reconnecting";
        if (code !== 1000) probeSession();
      },
    },
  });
  return client;
}

function nudge(): void {
  wake?.();
  // A socket that looks open after the network came back may be dead:
  // closing it makes graphql-ws reconnect and resubscribe now.
  if (socket && socket.readyState === WebSocket.OPEN && document.visibilityState === "visible") {
    socket.send(JSON.stringify({ type: "ping" }));
    clearTimeout(pongTimer);
    pongTimer = setTimeout(() => socket?.close(4408, "pong timeout"), 5_000);
  }
}

if (typeof window !== "undefined") {
  window.addEventListener("online", nudge);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") nudge();
  });
}

/** "Retry now": ends the back-off wait at once. */
export function retryNow(): void {
  nudge();
}

/** Closes the socket for good (sign-out). */
export function shutdown(): void {
  const c = client;
  client = null;
  socket = null;
  everConnected = false;
  linkState.value = "connecting";
  generation.value++;
  void c?.dispose();
}

export interface Sink<R> {
  next: (data: R) => void;
  error?: (error: Error) => void;
}

function isCloseEvent(value: unknown): value is { code: number; reason?: string } {
  return typeof value === "object" && value !== null && "code" in value && typeof (value as { code: unknown }).code === "number";
}

/** The session ended: sign in again, never reconnect. */
export function endsSession(code: number): boolean {
  return code === 4403 || code === 4401;
}

/**
 * Subscribes; returns the unsubscribe function. graphql-ws retries a
 * dropped socket itself, but gives up on close codes it deems fatal
 * (1011, 4500, 4400, ...): those are retried here, with the same
 * back-off, forever. The first push after any reconnect is a snapshot.
 */
export function subscribe<R, V>(document: TypedDocumentString<R, V>, variables: V, sink: Sink<R>): () => void {
  let stop: (() => void) | null = null;
  let ended = false;
  let retries = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    if (ended) return;
    stop = ensureClient().subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          retries = 0;
          if (result.errors?.length) {
            sink.error?.(new Error(result.errors.map((e) => e.message).join("; ")));
            return;
          }
          // A screen's bug must not close the socket (graphql-ws closes
          // it with 4004 when a sink throws).
          try {
            if (result.data) sink.next(result.data as R);
          } catch (error) {
            console.error("Livedesk: a live update could not be applied", error);
          }
        },
        error: (error) => {
          if (ended) return;
          if (isCloseEvent(error)) {
            if (endsSession(error.code)) return;
            linkState.value = "reconnecting";
            timer = setTimeout(start, backoffDelay(retries++, Math.random()));
            return;
          }
          sink.error?.(error instanceof Error ? error : new Error("the live connection failed"));
        },
        complete: () => {},
      },
    );
  };
  start();
  return () => {
    ended = true;
    clearTimeout(timer);
    stop?.();
  };
}
