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
//   - metrics: every data point names its tenant_id explicitly; the SDK is told how many tenants to keep
//     apart (cardinality-limits.json, from the contract), and "currently connected" values are gauges
//     observed at each export, so a tenant that is gone stops being a series.
'use strict';

const os = require('node:os');
const http = require('node:http');

// ---------------------------------------------------------------------------------------------------
// Knobs, validated before anything starts: a bad one is a one-line message naming it, exit code 2.

// Node's timers take a signed 32-bit delay: a longer one fires after 1 ms (with only a warning), so
// a 600h run would stop at once. Every duration and interval below is kept within it.
const MAX_TIMER_MS = 2 ** 31 - 1;

// Everything the demo prints about where it sends telemetry goes through maskUrl (endpoints) or
// scrub (free text such as an exporter's error): credentials never reach the terminal or a log.
function maskUrl(raw) {
  // Userinfo first, up to the last '@' anywhere (a password may hold '/', '?' or '#'), then the query.
  const text = String(raw).replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_, scheme) => `${scheme || ''}***@`);
  return text.replace(/[?#].*$/s, (rest) => `${rest[0]}***`);
}

const HEADER_VARIABLES = ['', 'TRACES_', 'METRICS_', 'LOGS_'].map((signal) => `OTEL_EXPORTER_OTLP_${signal}HEADERS`);
// Each header value as written and as the exporter sends it: the SDK drops what follows a ';' and
// URL-decodes the rest (as the OTel specification says), so `Basic%20dXNlcjpwdw%3D%3D` goes out, and
// may come back in a refusal, as `Basic dXNlcjpwdw==`. Longest first, so no part of one is left over.
function headerValues(pair) {
  const written = pair.slice(pair.indexOf('=') + 1).trim();
  const sent = written.split(';')[0].trim();
  try {
    return [written, sent, decodeURIComponent(sent)];
  } catch {
    return [written, sent]; // not valid URL-encoding: the SDK sends nothing for this pair
  }
}
const headerSecrets = [...new Set(HEADER_VARIABLES.flatMap((name) => (process.env[name] || '').split(',').flatMap(headerValues)))]
  .filter((value) => value.length >= 3)
  .sort((a, b) => b.length - a.length);

function scrub(text) {
  let clean = String(text).replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, maskUrl);
  for (const secret of headerSecrets) clean = clean.split(secret).join('***');
  return clean;
}

function fail(message) {
  process.stderr.write(`demo: ${scrub(message)}\n`);
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
function parseInstance(raw) {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  return match ? { index: Number(match[1]), count: Number(match[2]) } : undefined;
}
const wholeNumber = (raw) => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : undefined);

function durationRule(minMs, minText, example) {
  return {
    test: (v) => v >= minMs && v <= MAX_TIMER_MS,
    text: `a duration from ${minText} to 596h (${MAX_TIMER_MS} ms, the longest Node timer), such as ${example}`,
  };
}
const timerMs = { test: (v) => v >= 1 && v <= MAX_TIMER_MS, text: `a whole number of milliseconds from 1 to ${MAX_TIMER_MS}` };

// DEMO_RPS: at most one request every 1000 s (well within the timer range), at least 2000/s (sent in
// batches every 10 ms, since a timer cannot fire more often than every millisecond).
const MIN_RPS = 0.001;
const MAX_RPS = 2_000;
const TENANTS = knob('DEMO_TENANTS', 20, Number, { test: (v) => Number.isInteger(v) && v >= 1 && v <= 10_000, text: 'a whole number from 1 to 10000' });
// DEMO_SOCKET_TENANTS: the first N tenants open a Socket.io client at once (others only by churn);
// each client is two open files in this process, so all of 10,000 tenants would need 20,000.
const SOCKET_TENANTS_AT_START = knob('DEMO_SOCKET_TENANTS', 200, Number, { test: (v) => Number.isInteger(v) && v >= 0 && v <= 10_000, text: 'a whole number from 0 to 10000' });
// DEMO_INSTANCE: k/n, this process is backend instance k of n (each its own process and port). Requests
// and Socket.io clients reach every instance, as a load balancer spreads them; a WhatsApp connection lives
// in one instance, so instance k holds the sessions of tenants k, k+n, k+2n, ... (tenant-001 is the first).
const INSTANCE = knob('DEMO_INSTANCE', { index: 1, count: 1 }, parseInstance, {
  test: (v) => v.index >= 1 && v.index <= v.count && v.count <= 100,
  text: 'k/n, instance k of n instances (1 <= k <= n <= 100), such as 2/2',
});
const RPS = knob('DEMO_RPS', 20, Number, { test: (v) => v >= MIN_RPS && v <= MAX_RPS, text: `a number of requests per second from ${MIN_RPS} to ${MAX_RPS}` });
// DEMO_ERROR_RATIO: 0.1 % by default, a fifth of the 99.5 % availability SLO's budget pace, so a plain
// run never pages (prometheus_rules/slo.py; the README shows the values that page or open a ticket).
const ERROR_RATIO = knob('DEMO_ERROR_RATIO', 0.001, Number, { test: (v) => v >= 0 && v <= 1, text: 'a number from 0 to 1' });
// DEMO_FAILING_TENANTS, DEMO_SLOW_TENANTS: tenants (as the demo names them: tenant-001, tenant-002, ...)
// whose every request fails with a 5xx, or takes SLOW_TENANT_EXTRA_MS longer (over the latency SLO's 0.5 s):
// one tenant's trouble, for the Tenant and Tenants dashboards and the per-tenant alerts to find.
const tenantName = (n) => `tenant-${String(n).padStart(3, '0')}`;
function parseTenants(raw) {
  const names = raw.split(',').map((name) => name.trim()).filter(Boolean);
  return names.length ? new Set(names) : undefined;
}
const tenantsRule = {
  test: (set) => [...set].every((name) => { const n = Number(name.slice(7)); return Number.isInteger(n) && n >= 1 && n <= TENANTS && tenantName(n) === name; }),
  text: `a comma-separated list of the demo's tenants, tenant-001 to ${tenantName(TENANTS)} (DEMO_TENANTS=${TENANTS})`,
};
const FAILING_TENANTS = knob('DEMO_FAILING_TENANTS', new Set(), parseTenants, tenantsRule);
const SLOW_TENANTS = knob('DEMO_SLOW_TENANTS', new Set(), parseTenants, tenantsRule);
const SLOW_TENANT_EXTRA_MS = 1_000;
// DEMO_SLOW_RATIO: a share of every tenant's requests that take SLOW_TENANT_EXTRA_MS longer, as
// DEMO_ERROR_RATIO is a share that fails; 0 by default. At 10,000 tenants, a high ratio gives (nearly)
// every tenant slow requests, the worst case of the per-tenant latency SLO's series (bench/hub_at_scale.py).
const SLOW_RATIO = knob('DEMO_SLOW_RATIO', 0, Number, { test: (v) => v >= 0 && v <= 1, text: 'a number from 0 to 1' });
const DURATION_MS = knob('DEMO_DURATION', null, parseDuration, durationRule(1, '1ms', '30s, 5m or 1h'));
const STATUS_EVERY_MS = knob('DEMO_STATUS_INTERVAL', 10_000, parseDuration, durationRule(100, '100ms', '10s'));
const PORT = knob('DEMO_PORT', 0, wholeNumber, { test: (v) => v <= 65_535, text: 'a whole number from 0 to 65535 (0: any free port)' });
// The SDK's own timers, which it would otherwise overflow or silently replace by its defaults.
for (const name of ['OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT', 'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BLRP_SCHEDULE_DELAY', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
  knob(name, null, wholeNumber, timerMs);
}
const PROTOCOL = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
if (!['http/protobuf', 'http/json'].includes(PROTOCOL)) {
  fail(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got ${JSON.stringify(PROTOCOL)}`);
}

// An endpoint the SDK cannot use is not replaced by localhost in silence: it is refused, masked.
const ENDPOINT_VARIABLES = ['', 'TRACES_', 'METRICS_', 'LOGS_'].map((signal) => `OTEL_EXPORTER_OTLP_${signal}ENDPOINT`);
function endpointProblem(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (!['http:', 'https:'].includes(url.protocol)) return `has scheme ${JSON.stringify(url.protocol.slice(0, -1))}, not http or https`;
  if (!url.hostname) return 'has no host';
  if (url.port === '0') return 'has port 0';
  return null;
}
for (const name of ENDPOINT_VARIABLES) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') continue;
  const problem = endpointProblem(raw.trim());
  if (problem) {
    fail(`${name} must be an http(s) URL with a host and a port from 1 to 65535, such as http://localhost:4318; ` +
      `${JSON.stringify(maskUrl(raw))} ${problem}`);
  }
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
  // The batch processors drop what does not fit their queue (2,048 by default): one request is
  // several spans (server, Express middleware) and a log record, and a burst of thousands of
  // tenants at once (the start below, a reconnect storm) would lose spans and logs in silence.
  OTEL_BSP_MAX_QUEUE_SIZE: '16384',
  OTEL_BLRP_MAX_QUEUE_SIZE: '16384',
  // The serviceinstance detector would invent a new service.instance.id at every start; env comes last.
  OTEL_NODE_RESOURCE_DETECTORS: 'host,os,process,env',
};
for (const [name, value] of Object.entries(defaults)) {
  if (!process.env[name]) process.env[name] = value;
}
const resourceDefaults = {
  'service.namespace': 'tiktickets',
  // Two instances on one host must not report as one: the instance number is part of the id.
  'service.instance.id': INSTANCE.count > 1 ? `demo-${os.hostname()}-${INSTANCE.index}` : `demo-${os.hostname()}`,
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
const { AggregationTemporality, AggregationType, InstrumentType, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter: OTLPJsonMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http');
const { OTLPMetricExporter: OTLPProtoMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');

const TENANT_HEADER = 'x-tenant-id';
const tenantOf = (request) => String((request && request.headers && request.headers[TENANT_HEADER]) || 'unknown');

let exportFailures = 0;
// A span the batch processor has no room for is dropped; the SDK says so only in a warning, which
// the status line turns into a count (the one warning read: the others are not the demo's to show).
let droppedSpans = 0;
const DROPPED_SPANS = /^Dropped (\d+) spans because maxQueueSize reached/;
api.diag.setLogger(
  {
    error: () => { exportFailures += 1; },
    warn: (message) => {
      const dropped = DROPPED_SPANS.exec(String(message));
      if (dropped) droppedSpans += Number(dropped[1]);
    },
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  api.DiagLogLevel.WARN,
);

// Cardinality: the SDK keeps at most N attribute sets per metric (2,000 unless told) and folds every
// later tenant into one otel.metric.overflow series. The limits come from the contract's tenant budgets
// (`python build.py build` writes them next to this file): 10,000 tenants per instance, with headroom.
const CARDINALITY = require('./cardinality-limits.json');

// Gauges forget: "currently connected" values are observed at each export, and with DELTA temporality
// the SDK exports only what the last callback observed, so a tenant that is gone stops being a series
// (with CUMULATIVE it would repeat its last value for the life of the process). Gauge points carry no
// temporality on the wire; every other instrument stays cumulative, as Prometheus needs.
function metricExporter() {
  const Base = PROTOCOL === 'http/json' ? OTLPJsonMetricExporter : OTLPProtoMetricExporter;
  class ForgetfulGauges extends Base {
    selectAggregationTemporality(instrumentType) {
      const gauge = [InstrumentType.GAUGE, InstrumentType.OBSERVABLE_GAUGE].includes(instrumentType);
      return gauge ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    }
  }
  return new ForgetfulGauges(); // endpoint, headers and timeout from the standard variables
}
const exportIntervalMillis = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
const metricReader = new PeriodicExportingMetricReader({
  exporter: metricExporter(),
  exportIntervalMillis,
  exportTimeoutMillis: Math.min(Number(process.env.OTEL_METRIC_EXPORT_TIMEOUT || 30_000), exportIntervalMillis),
});

const sdk = new NodeSDK({
  metricReaders: [metricReader],
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
  views: [
    { instrumentName: 'http.*', aggregation: { type: AggregationType.DROP } },
    ...Object.entries(CARDINALITY.limits).map(([instrumentName, limit]) => ({ instrumentName, aggregationCardinalityLimit: limit })),
  ],
});
sdk.start();

// Required after the SDK has patched http, so that express is instrumented.
const express = require('express');
const { Server: SocketServer } = require('socket.io');
const { io: connectSocket } = require('socket.io-client');

const meter = api.metrics.getMeter('tiktickets-backend', '1.0.0');
// What this instance holds now, read by the gauges' callbacks at each export.
const whatsapp = new Map(); // tenant -> connected (every WhatsApp connection this instance holds)
const openSockets = new Map(); // tenant -> open Socket.io connections (only tenants with one or more)
const sessions = meter.createObservableGauge('tiktickets.whatsapp.sessions.active', {
  unit: '{session}',
  description: 'WhatsApp sessions currently connected (1) or not (0), per WhatsApp connection held.',
});
sessions.addCallback((result) => {
  for (const [tenant, connected] of whatsapp) result.observe(connected ? 1 : 0, { tenant_id: tenant, whatsapp_id: whatsappOf(tenant) });
});
const connections = meter.createObservableGauge('tiktickets.socketio.connections', {
  unit: '{connection}',
  description: 'Socket.io connections currently open, per tenant with at least one.',
});
connections.addCallback((result) => {
  for (const [tenant, open] of openSockets) result.observe(open, { tenant_id: tenant });
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
const tenants = Array.from({ length: TENANTS }, (_, i) => tenantName(i + 1));
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
    await sleep(latency(medianMs) + (request.headers['x-demo-slow'] === '1' ? SLOW_TENANT_EXTRA_MS : 0));
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
// Node's client agent keeps idle connections for 5 s, and so does its server: at 10,000 tenants the
// load loop reused a connection the server was closing at that very moment (ECONNRESET, hundreds of
// requests lost). The server waits longer than the client, so the client always lets go first.
server.keepAliveTimeout = 10_000;
const sockets = new SocketServer(server);
sockets.on('connection', (socket) => {
  const tenant = String(socket.handshake.auth.tenant || 'unknown');
  openSockets.set(tenant, (openSockets.get(tenant) || 0) + 1);
  socket.on('disconnect', () => {
    const left = openSockets.get(tenant) - 1;
    if (left > 0) openSockets.set(tenant, left);
    else openSockets.delete(tenant); // the tenant is no longer a series after the next export
  });
});

// ---------------------------------------------------------------------------------------------------
// The users: requests at DEMO_RPS over every tenant, Socket.io clients and WhatsApp sessions that come and go.
const ROUTES = [
  ['GET', '/api/tickets', 30], ['GET', '/api/tickets/:id', 25], ['POST', '/api/messages', 20],
  ['GET', '/api/contacts/:id', 15], ['POST', '/api/auth/login', 6], ['GET', '/api/whatsapp/:id/qrcode', 4],
];
const ROUTE_WEIGHT = ROUTES.reduce((sum, r) => sum + r[2], 0);
const stats = { sent: 0, errors: 0, seen: new Set(), inFlight: 0 };

function pickRoute() {
  let left = Math.random() * ROUTE_WEIGHT;
  for (const route of ROUTES) {
    left -= route[2];
    if (left <= 0) return route;
  }
  return ROUTES[0];
}

// The users' connections: a pool, as a real client fleet has. Without a bound, the start's burst of
// thousands of tenants opened one connection per request (9,670 open at 10,000 tenants) and the
// backend's listen queue reset a few hundred of them.
const USERS = new http.Agent({ keepAlive: true, maxSockets: 256 });
const SEND_MESSAGE = ROUTES.find(([method, template]) => method === 'POST' && template === '/api/messages');
function request(port, tenant, route = pickRoute(), { faults = true } = {}) {
  const [method, template] = route;
  const path = template.replace(':id', String(1 + Math.floor(Math.random() * 500)));
  const headers = { [TENANT_HEADER]: tenant, 'content-type': 'application/json' };
  if (SLOW_TENANTS.has(tenant) || Math.random() < SLOW_RATIO) headers['x-demo-slow'] = '1';
  if (faults && (FAILING_TENANTS.has(tenant) || Math.random() < ERROR_RATIO)) headers['x-demo-fail'] = '1';
  else if (faults && Math.random() < 0.02) headers['x-demo-missing'] = '1';
  stats.sent += 1;
  stats.seen.add(tenant);
  stats.inFlight += 1;
  let answered = false;
  const done = () => {
    if (!answered) stats.inFlight -= 1;
    answered = true;
  };
  const call = http.request({ host: '127.0.0.1', port, method, path, headers, agent: USERS }, (response) => {
    if (response.statusCode >= 500) stats.errors += 1;
    response.on('end', done);
    response.on('close', done);
    response.resume();
  });
  call.on('error', () => { stats.errors += 1; done(); });
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

// The tenants whose WhatsApp connection this instance holds (all of them when it is the only one).
const holdsSessionOf = (tenantIndex) => tenantIndex % INSTANCE.count === INSTANCE.index - 1;
const sessionTenants = tenants.filter((_, i) => holdsSessionOf(i));
const anySessionTenant = () => sessionTenants[Math.floor(Math.random() * sessionTenants.length)];

const tracer = api.trace.getTracer('tiktickets-backend', '1.0.0');
function churnSessions(tenant = anySessionTenant()) {
  if (tenant === undefined) return; // more instances than tenants: this one holds no session
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
    log('warn', tenant, 'WhatsApp session disconnected', { whatsapp_id: whatsappOf(tenant) });
    whatsapp.set(tenant, false);
  } else if (!connected) {
    log('info', tenant, 'WhatsApp session connected', { whatsapp_id: whatsappOf(tenant) });
    whatsapp.set(tenant, true);
  }
}

const shownEndpoint = () => maskUrl(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
function status() {
  process.stdout.write(
    `demo: ${stats.sent} requests sent, ${stats.errors} errors, ${stats.seen.size}/${TENANTS} tenants, ` +
      `${exportFailures} export failures, ${droppedSpans} spans dropped (queue full) (OTLP ${PROTOCOL} to ${shownEndpoint()})\n`,
  );
}

const IN_FLIGHT_WAIT_MS = 10_000;
let stopping = false;
const timers = [];
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  timers.forEach(clearInterval);
  for (const open of clients.values()) open.forEach((socket) => socket.close());
  // Every request sent is answered before the SDK shuts down, so its server span is ended and exported:
  // a fixed pause (300 ms) lost the spans of requests slower than it on a loaded machine, and then the
  // span metrics counted fewer requests than the status line says were sent. Bounded, as a stop must be.
  const answeredBy = Date.now() + IN_FLIGHT_WAIT_MS;
  while (stats.inFlight > 0 && Date.now() < answeredBy) await sleep(20);
  status();
  process.stdout.write(`demo: ${reason}; flushing telemetry\n`);
  sockets.close();
  server.close();
  try {
    await sdk.shutdown(); // flushes traces, metrics and logs
  } catch (error) {
    process.stderr.write(`demo: flush failed: ${scrub(error.message)}\n`);
    process.exit(1);
  }
  process.exit(0);
}
process.on('SIGINT', () => stop('interrupted'));
process.on('SIGTERM', () => stop('terminated'));

// A port that is taken or not allowed is a message, not a Node stack trace.
server.on('error', (error) => fail(`DEMO_PORT ${PORT} cannot be used: ${error.code || error.message}`));
server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(
    `demo: backend${INSTANCE.count > 1 ? ` instance ${INSTANCE.index} of ${INSTANCE.count}` : ''} on 127.0.0.1:${port}, ` +
      `${TENANTS} tenants, ${RPS} requests/s, ` +
      `${Number((ERROR_RATIO * 100).toPrecision(6))} % fail with a 5xx` +
      (FAILING_TENANTS.size ? `, every request of ${[...FAILING_TENANTS].join(', ')} fails` : '') +
      (SLOW_RATIO > 0 ? `, ${Number((SLOW_RATIO * 100).toPrecision(6))} % are ${SLOW_TENANT_EXTRA_MS} ms slower` : '') +
      (SLOW_TENANTS.size ? `, every request of ${[...SLOW_TENANTS].join(', ')} is ${SLOW_TENANT_EXTRA_MS} ms slower` : '') +
      `, OTLP ${PROTOCOL} to ${shownEndpoint()}\n`,
  );
  // Every tenant first: each one sends a message (that succeeds), gets a session from the instance that
  // holds its WhatsApp connection, and the first DEMO_SOCKET_TENANTS a socket, early in any run, so each
  // tenant is in every tenant-scoped series from the first export on.
  // In chunks, so that 10,000 tenants are a few seconds of traffic, not one burst.
  const WARM_UP_CHUNK = 250;
  for (let first = 0; first < tenants.length; first += WARM_UP_CHUNK) {
    timers.push(setTimeout(() => {
      tenants.slice(first, first + WARM_UP_CHUNK).forEach((tenant, offset) => {
        request(port, tenant, SEND_MESSAGE, { faults: false });
        if (first + offset < SOCKET_TENANTS_AT_START) churnSockets(port, tenant);
        if (holdsSessionOf(first + offset)) churnSessions(tenant);
      });
    }, (first / WARM_UP_CHUNK) * 100));
  }
  // One request per tick, or at high rates a batch every 10 ms (a timer cannot fire more often). What
  // is due follows the clock, not the count of ticks: on a busy machine timers fire late, and a late
  // tick sends what the missed ones would have (at most a second's worth: a stopped process does not
  // come back with a flood).
  const tickMs = Math.max(1000 / RPS, 10);
  const startedAt = Date.now();
  let paced = 0;
  // The clock stops at DEMO_DURATION: the stop timer may fire late on a busy machine, and what falls due
  // after the end is not the run's (5 s at 400/s is 2,000 requests, not 2,012 because the stop came 30 ms late).
  const pacedFor = () => Math.min(Date.now() - startedAt, DURATION_MS === null ? Infinity : DURATION_MS);
  timers.push(setInterval(() => {
    const due = Math.floor((pacedFor() * RPS) / 1000) - paced;
    const now = Math.min(due, Math.max(1, Math.ceil(RPS)));
    for (let i = 0; i < now; i += 1) request(port, anyTenant());
    paced += due; // what is beyond a second's worth is forgiven, not queued
  }, tickMs));
  timers.push(setInterval(() => churnSockets(port), 500));
  timers.push(setInterval(() => churnSessions(), 700));
  timers.push(setInterval(status, STATUS_EVERY_MS));
  if (DURATION_MS !== null) setTimeout(() => stop(`ran for ${process.env.DEMO_DURATION}`), DURATION_MS);
});
