// Bundle src/ into the one module the integration serves (and commits, so users
// need no node): custom_components/fluxilab/frontend/fluxilab-panel.js.
//   node scripts/build.mjs          write it
//   node scripts/build.mjs --check  fail when the committed module differs from a fresh build
import { build } from "esbuild";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const OUTFILE = fileURLToPath(
  new URL("../../custom_components/fluxilab/frontend/fluxilab-panel.js", import.meta.url),
);
const BANNER =
  "/* FluxiLab panel: built from frontend/src by `npm run build` (esbuild). Do not edit. */";

const result = await build({
  entryPoints: [fileURLToPath(new URL("../src/fluxilab-panel.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  target: "es2021",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  banner: { js: BANNER },
  write: false,
  logLevel: "warning",
});
const fresh = result.outputFiles[0].text;

if (process.argv.includes("--check")) {
  const committed = await readFile(OUTFILE, "utf8").catch(() => "");
  if (committed !== fresh) {
    console.error(
      `${OUTFILE} is not the build of frontend/src: run \`npm run build\` in frontend/ and commit it.`,
    );
    process.exit(1);
  }
  console.log("The committed panel module is the build of frontend/src.");
} else {
  await writeFile(OUTFILE, fresh);
  console.log(`Wrote ${OUTFILE} (${fresh.length} bytes).`);
}
