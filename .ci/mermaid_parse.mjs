// Parses Mermaid diagrams with Mermaid's own parser (the npm package `mermaid`, in Node with
// jsdom standing in for the browser). Usage: node mermaid_parse.mjs FILE...; a Markdown file's
// ```mermaid blocks are each parsed, and an insta snapshot's body. Exits 1 if any diagram does
// not parse.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.MERMAID_MODULES + "/");
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import(require.resolve("mermaid"));
mermaid.initialize({ startOnLoad: false });

let diagrams = 0;
let bad = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const blocks = file.endsWith(".md")
    ? [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1])
    : [text];
  for (const block of blocks) {
    diagrams += 1;
    try {
      await mermaid.parse(block);
    } catch (e) {
      bad += 1;
      console.log(`FAIL ${file}: ${e.message}`);
    }
  }
}
console.log(`mermaid: ${diagrams} diagrams, ${bad} that do not parse`);
process.exit(bad || diagrams === 0 ? 1 : 0);
