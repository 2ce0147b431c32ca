// Prints the size of the portal's first load (the JavaScript index.html pulls
// in before anything else: its entry script and the modules it preloads),
// gzipped, and fails the build when it passes the budget (issue 6: 300 KB).
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET = 300 * 1024;
const dist = new URL(`../${process.env.GANTRY_WEB_OUT || 'dist'}/`, import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const first = new Set();
for (const m of html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/([^"]+\.js)"/g)) first.add(m[1]);
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let firstLoad = 0;
for (const f of first) firstLoad += gz(f);
let all = 0;
const chunks = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
for (const f of chunks) all += gz(`assets/${f}`);
console.log(`portal: first load ${kb(firstLoad)} of JavaScript gzipped (${first.size} file${first.size === 1 ? '' : 's'}; budget ${kb(BUDGET)}); all ${chunks.length} chunks ${kb(all)}`);
if (firstLoad > BUDGET) {
  console.error('portal: the first load is over budget');
  process.exit(1);
}
