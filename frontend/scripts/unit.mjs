// Run the panel's unit tests (test/*.test.mjs) with Node's test runner: each test is
// bundled with the TypeScript it imports by esbuild first (Node runs no TypeScript).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const tests = fileURLToPath(new URL("../test/", import.meta.url));
const entryPoints = readdirSync(tests)
  .filter((name) => name.endsWith(".test.mjs"))
  .map((name) => join(tests, name));
const outdir = mkdtempSync(join(tmpdir(), "fluxilab-panel-tests-"));
try {
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    outExtension: { ".js": ".mjs" },
    packages: "external",
    logLevel: "warning",
  });
  const files = readdirSync(outdir).map((name) => join(outdir, name));
  const run = spawnSync(process.execPath, ["--test", ...files], {
    stdio: "inherit",
    env: { ...process.env, FLUXILAB_REPO: fileURLToPath(new URL("../../", import.meta.url)) },
  });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
