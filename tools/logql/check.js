// Parses LogQL with Grafana's own grammar (@grafana/lezer-logql, the one Grafana's editor uses).
// stdin: [{"id": "...", "expr": "..."}]; stdout: [{"id", "errors": [{from, to}], "selectorLabels": [...],
// "selectors": [[matcher text, ...] per stream selector],
// "filterLabels": [...], "formatLabels": [...], "parsers": [...], "pipeline": null | {selector: {from, to}, stages: [{from, to,
// kind, labels}]}}]. Grafana variables should be substituted before calling. `pipeline` is a log query's
// stream selector and stages (each line filter its own stage, so each can be tried alone); null for
// a metric query.
"use strict";
const { parser } = require("@grafana/lezer-logql");

const PARSERS = new Set(["Json", "Logfmt", "Regexp", "Pattern", "Unpack"]);

function inspect(expr) {
  const tree = parser.parse(expr);
  const result = { errors: [], selectorLabels: [], selectors: [], filterLabels: [], formatLabels: [], parsers: [] };
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
        else if (parent === "LabelFormatMatcher" && node.node.prevSibling === null) {
          result.formatLabels.push(expr.slice(node.from, node.to)); // every name label_format makes
        }
      }
      if (name === "Selector") result.selectors.push([]); // each stream selector's matchers, as written
      if (name === "Matcher" && stack.includes("Selector") && result.selectors.length) {
        result.selectors[result.selectors.length - 1].push(expr.slice(node.from, node.to));
      }
      if (PARSERS.has(name)) result.parsers.push(name.toLowerCase());
      stack.push(name);
    },
    leave() {
      stack.pop();
    },
  });
  result.pipeline = pipeline(tree, expr);
  return result;
}

// The labels a stage reads (a label filter's) or makes (label_format's new names), by the grammar.
function labelsIn(stage, kind, expr) {
  const found = [];
  const cursor = stage.cursor();
  const end = stage.to;
  while (cursor.next() && cursor.from < end) {
    if (cursor.name !== "Identifier") continue;
    const parent = cursor.node.parent.name;
    const first = cursor.node.prevSibling === null;
    if (kind === "label-filter" || (parent === "LabelFormatMatcher" && first)) {
      found.push(expr.slice(cursor.from, cursor.to));
    }
  }
  return found;
}

function stageKind(stage) {
  for (let child = stage.firstChild; child; child = child.nextSibling) {
    if (child.name === "LabelFilter") return "label-filter";
  }
  return "format";
}

function pipeline(tree, expr) {
  const top = tree.topNode.getChild("Expr");
  const log = top && top.getChild("LogExpr");
  const selector = log && log.getChild("Selector");
  if (!selector) return null;
  const stages = [];
  const lineFilters = (node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.name === "LineFilters") lineFilters(child);
      else if (child.name === "LineFilter") stages.push({ from: child.from, to: child.to, kind: "line-filter", labels: [] });
    }
  };
  const walk = (node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.name === "PipelineExpr") walk(child);
      else if (child.name === "PipelineStage") {
        const filters = child.getChild("LineFilters");
        if (filters) lineFilters(filters);
        else {
          const kind = stageKind(child);
          stages.push({ from: child.from, to: child.to, kind, labels: labelsIn(child, kind, expr) });
        }
      }
    }
  };
  const piped = log.getChild("PipelineExpr");
  if (piped) walk(piped);
  return { selector: { from: selector.from, to: selector.to }, stages };
}

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(input.map((q) => ({ id: q.id, ...inspect(q.expr) }))));
