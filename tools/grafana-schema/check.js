// Type-checks JSON documents against Grafana's published types (@grafana/schema), with TypeScript.
// stdin: [{"id", "kind": "dashboard" | "dashboard-v2" | "options" | "custom", "plugin"?, "value"}]
// stdout: [{"id", "path", "message"}] (path: JSON path of the property the compiler points at)
// String enums are read as their JSON values (Json<T> below); an object literal gets TypeScript's
// excess-property check, so an unknown key is an error, as are a missing required key and a wrong type.
// `--serve` keeps one compiler warm for `watch` (see the end of this file).
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const SCHEMA = path.join(__dirname, 'node_modules', '@grafana', 'schema', 'dist', 'types', 'raw');
// Schema v2 (dashboard.grafana.app/v2): the spec of a dashboard object pushed through the resource API.
const SCHEMA_V2 = path.join(__dirname, 'node_modules', '@grafana', 'schema', 'dist', 'types', 'schema', 'dashboard', 'v2');
// The schemaVersion the pinned Grafana writes (its schema package's default dashboard): a dashboard
// below it is migrated in the browser on every load, and the type check, for which the field is just
// a number, cannot tell.
const SCHEMA_PACKAGE = require(path.join(__dirname, 'node_modules', '@grafana', 'schema', 'package.json'));
const CURRENT_SCHEMA_VERSION = require('@grafana/schema').defaultDashboard.schemaVersion;
const VIRTUAL = path.join(__dirname, '__documents__.ts');
const LIB = path.join(__dirname, '__lib__.d.ts');
// TypeScript's standard library is most of the compile time and JSON needs little of it: these are
// the global types the compiler requires plus the utility types @grafana/schema's declarations use.
const MINIMAL_LIB = `
interface Array<T> { length: number; [n: number]: T; }
interface ReadonlyArray<T> { readonly length: number; readonly [n: number]: T; }
interface Boolean {} interface Function {} interface CallableFunction {} interface NewableFunction {}
interface IArguments {} interface Number {} interface Object {} interface RegExp {} interface String {}
interface Symbol {} interface Date {} interface Promise<T> {}
type Partial<T> = { [P in keyof T]?: T[P] };
type Required<T> = { [P in keyof T]-?: T[P] };
type Readonly<T> = { readonly [P in keyof T]: T[P] };
type Pick<T, K extends keyof T> = { [P in K]: T[P] };
type Record<K extends keyof any, T> = { [P in K]: T };
type Exclude<T, U> = T extends U ? never : T;
type Extract<T, U> = T extends U ? T : never;
type Omit<T, K extends keyof any> = Pick<T, Exclude<keyof T, K>>;
type NonNullable<T> = T & {};
`;

function typeFor(item) {
  if (item.kind === 'dashboard') return { module: path.join(SCHEMA, 'dashboard', 'x', 'types.gen'), name: 'Dashboard' };
  if (item.kind === 'dashboard-v2') return { module: path.join(SCHEMA_V2, 'types.spec.gen'), name: 'Spec' };
  const module = path.join(SCHEMA, 'composable', item.plugin, 'panelcfg', 'x', 'types.gen');
  if (!/^[a-z0-9-]+$/.test(item.plugin || '') || !fs.existsSync(`${module}.d.ts`)) return null;
  const name = item.kind === 'options' ? 'Options' : 'FieldConfig';
  if (!new RegExp(`export (interface|type) ${name}\\b`).test(fs.readFileSync(`${module}.d.ts`, 'utf8'))) return null;
  return { module, name };
}

// Writes `value` as a TypeScript literal, one property per line, each line with its JSON path.
function emit(value, where, indent, prefix, suffix, out) {
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [`${where}[${i}]`, '', v])
    : value !== null && typeof value === 'object'
      ? Object.keys(value).map((k) => [where ? `${where}.${k}` : k, `${JSON.stringify(k)}: `, value[k]])
      : null;
  if (!entries || entries.length === 0) {
    const text = entries ? (isArray ? '[]' : '{}') : JSON.stringify(value);
    out.push({ text: `${indent}${prefix}${text}${suffix}`, path: where });
    return;
  }
  out.push({ text: `${indent}${prefix}${isArray ? '[' : '{'}`, path: where });
  for (const [at, key, child] of entries) emit(child, at, `${indent}  `, key, ',', out);
  out.push({ text: `${indent}${isArray ? ']' : '}'}${suffix}`, path: where });
}

let previous;  // the last program: a server reuses its parsed declaration files
const declarations = new Map();

function check(items) {
  const source = [
    'type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T',
    '  : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
  ];
  const owners = [];  // line -> {id, path}
  source.forEach(() => owners.push(null));
  const imports = new Map();
  items.forEach((item, n) => {
    const type = typeFor(item);
    if (!type) return;
    if (!imports.has(type.module)) {
      imports.set(type.module, `S${imports.size}`);
      source.unshift(`import type * as ${imports.get(type.module)} from ${JSON.stringify(type.module)};`);
      owners.unshift(null);
    }
    const out = [];
    emit(item.value, '', '', `const d${n}: Json<${imports.get(type.module)}.${type.name}> = `, ';', out);
    for (const line of out) {
      source.push(line.text);
      owners.push({ id: item.id, path: line.path });
    }
  });
  const text = source.join('\n');
  const options = { strict: true, noEmit: true, skipLibCheck: true, noLib: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [] };
  const host = ts.createCompilerHost(options);
  const readFromDisk = host.getSourceFile.bind(host);
  const virtual = new Map([[VIRTUAL, text], [LIB, MINIMAL_LIB]]);
  host.getSourceFile = (name, version, ...rest) => {
    const resolved = path.resolve(name);
    if (virtual.has(resolved)) return ts.createSourceFile(name, virtual.get(resolved), version);
    if (!declarations.has(resolved)) declarations.set(resolved, readFromDisk(name, version, ...rest));
    return declarations.get(resolved);  // parsed once per process: what keeps a server warm
  };
  host.fileExists = ((exists) => (name) => virtual.has(path.resolve(name)) || exists(name))(host.fileExists);
  const program = ts.createProgram([LIB, VIRTUAL], options, host, previous);
  previous = program;
  const found = [];
  for (const item of items) {
    const version = item.kind === 'dashboard' && item.value ? item.value.schemaVersion : undefined;
    if (typeof version === 'number' && version < CURRENT_SCHEMA_VERSION) {
      found.push({
        id: item.id, path: 'schemaVersion',
        message: `schemaVersion ${version} is older than ${CURRENT_SCHEMA_VERSION}, the version Grafana's own `
          + `schema (@grafana/schema ${SCHEMA_PACKAGE.version}) writes: Grafana migrates it on every load`,
      });
    }
  }
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.file && path.resolve(diagnostic.file.fileName) === LIB) continue;
    if (!diagnostic.file || path.resolve(diagnostic.file.fileName) !== VIRTUAL) {
      found.push({ id: '', path: '', message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start || 0);
    const owner = owners[line] || { id: '', path: '' };
    const chain = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').split('\n').map((s) => s.trim());
    found.push({ id: owner.id, path: owner.path, message: chain[chain.length - 1] });
  }
  return JSON.stringify(found);
}

// `node check.js`: one request on stdin, the answer on stdout. `node check.js --serve`: a warm checker
// for `watch`, on a port chosen by the system (printed first), one request per connection.
if (process.argv[2] === '--serve') {
  const net = require('net');
  const server = net.createServer((socket) => {
    // A client gone mid-request (a build cancelled by a newer save, killed while it sent) or a request
    // that is not JSON ends that connection only: an unhandled socket error would end the checker,
    // and every later build would start a fresh Node again.
    socket.on('error', () => {});
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => {
      try { socket.end(check(JSON.parse(Buffer.concat(chunks).toString('utf8')))); } catch { socket.destroy(); }
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
  process.stdin.on('end', () => process.exit(0));  // the watcher went away: so does the checker
  process.stdin.resume();
} else {
  process.stdout.write(check(JSON.parse(fs.readFileSync(0, 'utf8'))));
}
