// Parses LogQL with Grafana's own grammar (@grafana/lezer-logql, the one Grafana's editor uses).
// stdin: [{"id": "...", "expr": "..."}]; stdout: [{"id", "errors": [{from, to}], "selectorLabels": [...],
// "filterLabels": [...], "parsers": [...]}]. Grafana variables should be substituted before calling.
"use strict";
const { parser } = require("@grafana/lezer-logql");

const PARSERS = new Set(["Json", "Logfmt", "Regexp", "Pattern", "Unpack"]);

function inspect(expr) {
  const tree = parser.parse(expr);
  const result = { errors: [], selectorLabels: [], filterLabels: [], parsers: [] };
  const stack = [];
  tree.iterate({
    enter(node) {
      const name = node.type.name;
      if (node.type.isError) result.errors.push({ from: node.from, to: node.to });
      if (name === "Identifier") {
        const parent = stack[stack.length - 1];
        const inSelector = stack.includes("Selector");
        const inFilter = stack.includes("LabelFilter");
        if (parent === "Matcher" && inSelector) result.selectorLabels.push(expr.slice(node.from, node.to));
        else if (inFilter) result.filterLabels.push(expr.slice(node.from, node.to));
      }
      if (PARSERS.has(name)) result.parsers.push(name.toLowerCase());
      stack.push(name);
    },
    leave() {
      stack.pop();
    },
  });
  return result;
}

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(input.map((q) => ({ id: q.id, ...inspect(q.expr) }))));
