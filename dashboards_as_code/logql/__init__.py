"""What lint and doctor both know of LogQL: Grafana's own grammar (`@grafana/lezer-logql`, through
Node: `tools/logql/check.js`) read into labels, parsers and the pipeline's stages. Neither keeps a
parser of its own."""
