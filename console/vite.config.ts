import { defineConfig } from "vitest/config";

// `npm run dev` serves the console on :5173 and proxies the API to a
// running server (LIVEDESK_DEV_URL). Sign in as usual: the session cookie
// is set for the dev server's origin and passed on. Optionally the proxy
// adds an API token to /graphql and /graphql/ws instead
// (LIVEDESK_DEV_TOKEN), for a server without the sign-in API. The built
// console never holds a token.
const target = process.env.LIVEDESK_DEV_URL ?? "http://127.0.0.1:8090";
const token = process.env.LIVEDESK_DEV_TOKEN;
const auth = token ? { Authorization: `Bearer ${token}` } : undefined;

export default defineConfig({
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      "/graphql/ws": { target, ws: true, headers: auth },
      "/graphql": { target, headers: auth },
      "/console/api": { target },
      "/reports": { target, headers: auth },
    },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
