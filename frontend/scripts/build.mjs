// Bundle src/ into the modules the integration serves (and commits, so users need
// no node), in custom_components/fluxilab/frontend/:
//   fluxilab-panel.js  the sidebar panel (src/fluxilab-panel.ts)
//   fluxilab-cards.js  the dashboard card and strategy (src/fluxilab-cards.ts)
//   node scripts/build.mjs          write them
//   node scripts/build.mjs --check  fail when a committed module differs from a fresh build
import { build } from "esbuild";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const BUNDLES = [
  {
    entry: "../src/fluxilab-panel.ts",
    outfile: "../../custom_components/fluxilab/frontend/fluxilab-panel.js",
    banner: "/* FluxiLab panel: built from frontend/src by `npm run build` (esbuild). Do not edit. */",
  },
  {
    entry: "../src/fluxilab-cards.ts",
    outfile: "../../custom_components/fluxilab/frontend/fluxilab-cards.js",
    banner: "/* FluxiLab dashboard cards: built from frontend/src by `npm run build` (esbuild). Do not edit. */",
  },
];

let stale = false;
for (const bundle of BUNDLES) {
  const outfile = fileURLToPath(new URL(bundle.outfile, import.meta.url));
  const result = await build({
    entryPoints: [fileURLToPath(new URL(bundle.entry, import.meta.url))],
    bundle: true,
    format: "esm",
    target: "es2021",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    banner: { js: bundle.banner },
    write: false,
    logLevel: "warning",
  });
  const fresh = result.outputFiles[0].text;
  if (process.argv.includes("--check")) {
    const committed = await readFile(outfile, "utf8").catch(() => "");
    if (committed !== fresh) {
      console.error(`${outfile} is not the build of frontend/src: run \`npm run build\` in frontend/ and commit it.`);
      stale = true;
    } else {
      console.log(`The committed ${outfile.split("/").pop()} is the build of frontend/src.`);
    }
  } else {
    await writeFile(outfile, fresh);
    console.log(`Wrote ${outfile} (${fresh.length} bytes).`);
  }
}
if (stale) process.exit(1);
