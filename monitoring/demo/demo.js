#!/usr/bin/env node
// A TikTickets-shaped backend on the real OpenTelemetry Node.js SDK, emitting exactly the telemetry
// contract (docs/telemetry-contract.md): the reference the backend team can copy, live data for a fresh
// stack, and the traffic source of the tests. It never talks to Prometheus, Loki or Jaeger: only OTLP
// to the Collector (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318).
//
// How tenant_id reaches every signal (the part to copy):
//   - spans: the HTTP and Express instrumentations' request hooks put the request's tenant on the
//     server span and on every Express span, where the tenant is known (here a header; in the real
//     backend, the authenticated user);
//   - logs: log() runs inside the active span, so the SDK attaches trace_id and span_id, and it adds
//     tenant_id as an attribute (never as a resource attribute: one process serves many tenants);
//   - metrics: every data point names its tenant_id explicitly.
'use strict';

const os = require('node:os');
const http = require('node:http');

// ---------------------------------------------------------------------------------------------------
// Knobs, validated before anything starts.
function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function knob(name, fallback, parse, rule) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = parse(raw);
  if (value === undefined || Number.isNaN(value) || !rule.test(value)) {
    fail(`${name} must be ${rule.text}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
function parseDuration(raw) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  return match ? Number(match[1]) * DURATION_UNITS[match[2]] : undefined;
}

const TENANTS = knob('DEMO_TENANTS', 20, Number, { test: (v) => Number.isInteger(v) && v >= 1 && v <= 10_000, text: 'a whole number from 1 to 10000' });
const RPS = knob('DEMO_RPS', 20, Number, { test: (v) => v > 0 && v <= 2_000, text: 'a number above 0 and at most 2000' });
const ERROR_RATIO = knob('DEMO_ERROR_RATIO', 0.03, Number, { test: (v) => v >= 0 && v <= 1, text: 'a number from 0 to 1' });
const DURATION_MS = knob('DEMO_DURATION', null, parseDuration, { test: (v) => v > 0, text: 'a duration such as 30s, 5m or 1h' });
const STATUS_EVERY_MS = knob('DEMO_STATUS_INTERVAL', 10_000, parseDuration, { test: (v) => v > 0, text: 'a duration such as 10s' });
const PROTOCOL = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
if (!['http/protobuf', 'http/json'].includes(PROTOCOL)) {
  fail(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got ${JSON.stringify(PROTOCOL)}`);
}

// ---------------------------------------------------------------------------------------------------
// The SDK, configured through the standard variables; defaults are set only where none is given.
const defaults = {
  OTEL_SERVICE_NAME: 'tiktickets-backend',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
  OTEL_EXPORTER_OTLP_PROTOCOL: PROTOCOL,
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_METRICS_EXPORTER: 'otlp',
  OTEL_LOGS_EXPORTER: 'otlp',
  OTEL_METRIC_EXPORT_INTERVAL: '15000',
  // The serviceinstance detector would invent a new service.instance.id at every start; env comes last.
  OTEL_NODE_RESOURCE_DETECTORS: 'host,os,process,env',
};
for (const [name, value] of Object.entries(defaults)) {
  if (!process.env[name]) process.env[name] = value;
}
const resourceDefaults = {
  'service.namespace': 'tiktickets',
  'service.instance.id': `demo-${os.hostname()}`,
  'deployment.environment.name': 'demo',
};
const given = (process.env.OTEL_RESOURCE_ATTRIBUTES || '').split(',').filter(Boolean);
const givenKeys = new Set(given.map((pair) => pair.split('=')[0].trim()));
process.env.OTEL_RESOURCE_ATTRIBUTES = [
  ...given,
  ...Object.entries(resourceDefaults).filter(([k]) => !givenKeys.has(k)).map(([k, v]) => `${k}=${v}`),
].join(',');

const api = require('@opentelemetry/api');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { AggregationType } = require('@opentelemetry/sdk-metrics');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');

const TENANT_HEADER = 'x-tenant-id';
const tenantOf = (request) => String((request && request.headers && request.headers[TENANT_HEADER]) || 'unknown');

let exportFailures = 0;
api.diag.setLogger(
  {
    error: () => { exportFailures += 1; },
    warn: () => {},
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  api.DiagLogLevel.ERROR,
);

const sdk = new NodeSDK({
  instrumentations: [
    new HttpInstrumentation({
      requestHook: (span, request) => {
        if (request.headers) span.setAttribute('tenant_id', tenantOf(request));
      },
      // The load loop below stands in for the users; its own client requests are not the backend's.
      ignoreOutgoingRequestHook: () => true,
    }),
    new ExpressInstrumentation({
      requestHook: (span, info) => span.setAttribute('tenant_id', tenantOf(info.request)),
    }),
  ],
  // The contract's HTTP signals come from the Collector's spanmetrics; the instrumentation's own
  // http.server.* histograms carry no tenant_id and are not in the contract, so they are dropped.
  views: [{ instrumentName: 'http.*', aggregation: { type: AggregationType.DROP } }],
});
sdk.start();

// Required after the SDK has patched http, so that express is instrumented.
const express = require('express');
const { Server: SocketServer } = require('socket.io');
const { io: connectSocket } = require('socket.io-client');

const meter = api.metrics.getMeter('tiktickets-backend', '1.0.0');
const sessions = meter.createUpDownCounter('tiktickets.whatsapp.sessions.active', {
  unit: '{session}',
  description: 'WhatsApp sessions currently connected (+1 on connect, -1 on disconnect).',
});
const connections = meter.createUpDownCounter('tiktickets.socketio.connections', {
  unit: '{connection}',
  description: 'Socket.io connections currently open (+1 on connect, -1 on disconnect).',
});
const messagesSent = meter.createCounter('tiktickets.whatsapp.messages.sent', {
  unit: '{message}',
  description: 'WhatsApp messages sent (monotonic).',
});
const logger = api.logs.getLogger('tiktickets-backend', '1.0.0');

function log(severity, tenant, body, attributes = {}) {
  const { SeverityNumber } = api;
  const level = { info: [SeverityNumber.INFO, 'info'], warn: [SeverityNumber.WARN, 'warn'], error: [SeverityNumber.ERROR, 'error'] }[severity];
  // Emitted in the active context: the SDK adds the current span's trace_id and span_id.
  logger.emit({ severityNumber: level[0], severityText: level[1], body, attributes: { tenant_id: tenant, ...attributes } });
}

// ---------------------------------------------------------------------------------------------------
// The backend: TikTickets' routes, with a long-tailed latency and one slow route.
const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i + 1).padStart(3, '0')}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function latency(medianMs) {
  // Log-normal: most requests near the median, a long tail up to ~10x.
  const normal = Math.sqrt(-2 * Math.log(Math.random() || 1e-9)) * Math.cos(2 * Math.PI * Math.random());
  return Math.min(medianMs * Math.exp(0.6 * normal), medianMs * 12);
}

const app = express();
app.use(express.json());
app.use((request, response, next) => {
  request.tenant = tenantOf(request);
  next();
});

function handler(medianMs, work) {
  return async (request, response) => {
    await sleep(latency(medianMs));
    if (request.headers['x-demo-fail'] === '1') {
      log('error', request.tenant, `${request.method} ${request.route.path} failed: upstream WhatsApp API timed out`, { 'http.route': request.route.path });
      response.status(503).json({ error: 'upstream timeout' });
      return;
    }
    if (request.headers['x-demo-missing'] === '1') {
      response.status(404).json({ error: 'not found' });
      return;
    }
    const result = work(request);
    log('info', request.tenant, `${request.method} ${request.route.path} ok`);
    response.json(result);
  };
}

app.get('/api/tickets', handler(25, () => ({ tickets: [] })));
app.get('/api/tickets/:id', handler(15, (request) => ({ id: request.params.id })));
app.get('/api/contacts/:id', handler(12, (request) => ({ id: request.params.id })));
app.post('/api/auth/login', handler(60, () => ({ signedIn: true })));
app.get('/api/whatsapp/:id/qrcode', handler(400, (request) => ({ whatsapp: request.params.id, qr: 'demo' })));
app.post('/api/messages', handler(40, (request) => {
  messagesSent.add(1, { tenant_id: request.tenant, whatsapp_id: whatsappOf(request.tenant) });
  return { sent: true };
}));

const whatsappOf = (tenant) => `${tenant}-wa-1`;
const server = http.createServer(app);
const sockets = new SocketServer(server);
sockets.on('connection', (socket) => {
  const tenant = String(socket.handshake.auth.tenant || 'unknown');
  connections.add(1, { tenant_id: tenant });
  socket.on('disconnect', () => connections.add(-1, { tenant_id: tenant }));
});

// ---------------------------------------------------------------------------------------------------
// The users: requests at DEMO_RPS over every tenant, Socket.io clients and WhatsApp sessions that come and go.
const ROUTES = [
  ['GET', '/api/tickets', 30], ['GET', '/api/tickets/:id', 25], ['POST', '/api/messages', 20],
  ['GET', '/api/contacts/:id', 15], ['POST', '/api/auth/login', 6], ['GET', '/api/whatsapp/:id/qrcode', 4],
];
const ROUTE_WEIGHT = ROUTES.reduce((sum, r) => sum + r[2], 0);
const stats = { sent: 0, errors: 0, seen: new Set() };

function pickRoute() {
  let left = Math.random() * ROUTE_WEIGHT;
  for (const route of ROUTES) {
    left -= route[2];
    if (left <= 0) return route;
  }
  return ROUTES[0];
}

function request(port, tenant) {
  const [method, template] = pickRoute();
  const path = template.replace(':id', String(1 + Math.floor(Math.random() * 500)));
  const headers = { [TENANT_HEADER]: tenant, 'content-type': 'application/json' };
  if (Math.random() < ERROR_RATIO) headers['x-demo-fail'] = '1';
  else if (Math.random() < 0.02) headers['x-demo-missing'] = '1';
  stats.sent += 1;
  stats.seen.add(tenant);
  const call = http.request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
    if (response.statusCode >= 500) stats.errors += 1;
    response.resume();
  });
  call.on('error', () => { stats.errors += 1; });
  call.end(method === 'POST' ? '{}' : undefined);
}

const clients = new Map();
const anyTenant = () => tenants[Math.floor(Math.random() * tenants.length)];
function churnSockets(port, tenant = anyTenant()) {
  // Each tenant keeps between 1 and 5 Socket.io clients open; one connects or leaves per tick.
  const open = clients.get(tenant) || [];
  if (open.length > 1 && Math.random() < 0.4) {
    open.pop().close();
  } else if (open.length < 5) {
    open.push(connectSocket(`http://127.0.0.1:${port}`, { auth: { tenant }, transports: ['websocket'], reconnection: false }));
  }
  clients.set(tenant, open);
}

const whatsapp = new Map();
const tracer = api.trace.getTracer('tiktickets-backend', '1.0.0');
function churnSessions(tenant = anyTenant()) {
  // Work outside a request still runs in a span, so its logs carry trace_id like every other log.
  tracer.startActiveSpan('whatsapp session check', { attributes: { tenant_id: tenant } }, (span) => {
    try {
      flipSession(tenant);
    } finally {
      span.end();
    }
  });
}

function flipSession(tenant) {
  const connected = whatsapp.get(tenant) || false;
  if (connected && Math.random() < 0.3) {
    sessions.add(-1, { tenant_id: tenant, whatsapp_id: whatsappOf(tenant) });
    log('warn', tenant, 'WhatsApp session disconnected', { whatsapp_id: whatsappOf(tenant) });
    whatsapp.set(tenant, false);
  } else if (!connected) {
    sessions.add(1, { tenant_id: tenant, whatsapp_id: whatsappOf(tenant) });
    log('info', tenant, 'WhatsApp session connected', { whatsapp_id: whatsappOf(tenant) });
    whatsapp.set(tenant, true);
  }
}

function status() {
  process.stdout.write(
    `demo: ${stats.sent} requests sent, ${stats.errors} errors, ${stats.seen.size}/${TENANTS} tenants, ` +
      `${exportFailures} export failures (OTLP ${PROTOCOL} to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT})\n`,
  );
}

let stopping = false;
const timers = [];
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  timers.forEach(clearInterval);
  for (const open of clients.values()) open.forEach((socket) => socket.close());
  await sleep(300); // let in-flight requests finish inside their spans
  status();
  process.stdout.write(`demo: ${reason}; flushing telemetry\n`);
  sockets.close();
  server.close();
  try {
    await sdk.shutdown(); // flushes traces, metrics and logs
  } catch (error) {
    process.stderr.write(`demo: flush failed: ${error.message}\n`);
    process.exit(1);
  }
  process.exit(0);
}
process.on('SIGINT', () => stop('interrupted'));
process.on('SIGTERM', () => stop('terminated'));

server.listen(Number(process.env.DEMO_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`demo: backend on 127.0.0.1:${port}, ${TENANTS} tenants, ${RPS} requests/s\n`);
  // Every tenant first: each one is seen (and gets a session and a socket) early in any run.
  tenants.forEach((tenant, index) => {
    request(port, tenant);
    if (index < 200) churnSockets(port, tenant);
    churnSessions(tenant);
  });
  timers.push(setInterval(() => request(port, anyTenant()), 1000 / RPS));
  timers.push(setInterval(() => churnSockets(port), 500));
  timers.push(setInterval(() => churnSessions(), 700));
  timers.push(setInterval(status, STATUS_EVERY_MS));
  if (DURATION_MS !== null) setTimeout(() => stop(`ran for ${process.env.DEMO_DURATION}`), DURATION_MS);
});
