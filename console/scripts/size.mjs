// Prints the console's download size: the JS and CSS a cold first load
// fetches (what index.html references, with their static imports), and
// the lazy chunks (Admin) on their own; brotli and gzip, as served.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
if (!existsSync(join(dist, "index.html"))) {
  console.error("size: no dist/index.html; run `npm run build` first");
  process.exit(1);
}

const sizes = (name) => {
  const plain = readFileSync(join(dist, name));
  const br = existsSync(join(dist, `${name}.br`))
    ? readFileSync(join(dist, `${name}.br`)).length
    : brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const gz = existsSync(join(dist, `${name}.gz`)) ? readFileSync(join(dist, `${name}.gz`)).length : gzipSync(plain, { level: 9 }).length;
  return { plain: plain.length, br, gz };
};

// What the first load fetches: index.html's scripts and styles, and what
// those import statically (Vite writes `import ... from "./x.js"`).
const html = readFileSync(join(dist, "index.html"), "utf8");
const first = new Set([...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]));
const queue = [...first].filter((n) => n.endsWith(".js"));
while (queue.length) {
  const name = queue.pop();
  const code = readFileSync(join(dist, name), "utf8");
  for (const m of code.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    const dep = `assets/${m[1]}`;
    if (!first.has(dep)) {
      first.add(dep);
      queue.push(dep);
    }
  }
}
const all = readdirSync(join(dist, "assets"))
  .filter((n) => /\.(js|css)$/.test(n))
  .map((n) => `assets/${n}`);
const lazy = all.filter((n) => !first.has(n));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const total = (names) => names.map(sizes).reduce((a, s) => ({ plain: a.plain + s.plain, br: a.br + s.br, gz: a.gz + s.gz }), { plain: 0, br: 0, gz: 0 });

for (const name of [...first, ...lazy]) {
  const s = sizes(name);
  console.log(`${first.has(name) ? "first" : "lazy "}  ${name.padEnd(40)} ${String(s.plain).padStart(8)} B  br ${String(s.br).padStart(7)} B  gz ${String(s.gz).padStart(7)} B`);
}
const f = total([...first]);
const l = total(lazy);
const TARGET = 200 * 1024;
console.log(`console first load (JS+CSS): ${f.br} bytes brotli (${kib(f.br)}), ${f.gz} bytes gzip (${kib(f.gz)}), ${f.plain} bytes plain; target < 200 KiB: ${f.br < TARGET && f.gz < TARGET ? "met" : "MISSED"}`);
console.log(`lazy chunks (Admin): ${l.br} bytes brotli (${kib(l.br)}), ${l.gz} bytes gzip (${kib(l.gz)})`);
if (f.gz >= TARGET) process.exitCode = 1;
