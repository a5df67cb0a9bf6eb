import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';

/** The browser code's entry point. */
export const WEB_ENTRY = resolve(__dirname, 'web', 'main.tsx');

/** What a build wrote: where, and esbuild's account of every output file. */
export interface BuiltAssets {
  dir: string;
  metafile: Metafile;
}

/**
 * Builds the console's browser code into `dir` with esbuild: one ES module entry, code split so
 * that the charting library loads only on the pages that draw charts, minified, with Preact's JSX.
 * Everything the page needs is written here and served by the console: nothing comes from a CDN.
 */
export async function buildConsoleAssets(dir: string): Promise<BuiltAssets> {
  mkdirSync(dir, { recursive: true });
  const result = await build({
    entryPoints: { main: WEB_ENTRY },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    sourcemap: false,
    target: ['chrome120', 'firefox120', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  writeFileSync(join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(join(dir, 'console.css'), CONSOLE_CSS);
  return { dir, metafile: result.metafile };
}

/**
 * The JavaScript a browser loads before the first page renders: the entry and the chunks it
 * imports statically, not the ones behind a dynamic `import()` (the charts).
 */
export function firstPageScripts(assets: BuiltAssets): string[] {
  const outputs = assets.metafile.outputs;
  const entry = Object.keys(outputs).find((o) => outputs[o]?.entryPoint && o.endsWith('.js'));
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of outputs[path]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  if (entry) visit(entry);
  return [...seen];
}

const INDEX_HTML = `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lienthong</title>
<link rel="stylesheet" href="/console.css">
<script type="module" src="/main.js"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;

// Plain CSS, small and readable: the contrast of every pair is at least 4.5:1 (WCAG AA).
const CONSOLE_CSS = `
:root { --ink: #1b1f24; --muted: #4a5560; --line: #c9d1d9; --accent: #0b5394; --bad: #a4161a; --ok: #1e6b30; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: #fff; }
header.top { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: var(--accent); color: #fff; flex-wrap: wrap; }
header.top a, header.top button { color: #fff; }
header.top .brand { font-weight: 700; margin-right: auto; }
nav.roles a { margin-right: .75rem; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
form.inline { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .9rem; color: var(--muted); gap: .15rem; }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid #6e7781; border-radius: 4px; color: var(--ink); background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
a.button { display: inline-block; background: var(--accent); color: #fff; padding: .35rem .75rem; border-radius: 4px; text-decoration: none; }
button.link { background: none; border: none; text-decoration: underline; padding: 0; color: var(--accent); }
header.top button.link { color: #fff; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; background: #fff; }
.meta { color: var(--muted); font-size: .9rem; }
.masked { font-family: ui-monospace, monospace; background: #fff4ce; padding: 0 .2rem; }
.refusal { border-left: 4px solid var(--bad); background: #fdecea; padding: .75rem 1rem; margin: 1rem 0; }
.notice { border-left: 4px solid var(--accent); background: #e8f0fb; padding: .75rem 1rem; margin: 1rem 0; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.chart { width: 100%; height: 320px; }
ul.plain { list-style: none; padding: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: .5rem; background: #fff; color: var(--accent); padding: .25rem .5rem; z-index: 10; }
dl.pairs { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .5rem; }
dl.pairs div { display: contents; }
dl.pairs dt { color: var(--muted); }
dl.pairs dd { margin: 0; }
figure { margin: 0; }
`;
