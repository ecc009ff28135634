/*
 * Template functions for test/helm/template.ts: Go's builtins (src/text/template/funcs.go),
 * the Sprig v3 functions Helm charts commonly use (github.com/Masterminds/sprig: strings.go,
 * defaults.go, dict.go, list.go, numeric.go, crypto.go, functions.go), and Helm's own
 * (helm.sh/helm/v3 pkg/engine/funcs.go and engine.go: include, tpl, required, toYaml,
 * fromYaml, toJson, fromJson, lookup). Each entry says where its behaviour comes from.
 *
 * Limits: only the functions listed here exist (a template calling another fails to parse,
 * as in Go: `function "x" not defined`); merge/mergeOverwrite follow mergo's documented
 * map semantics, not every corner of its reflection; regular-expression, date, crypto
 * (other than sha1sum/sha256sum), semver and random functions are absent.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type FuncMap, type GoFunc, formatValue, goKind, goTypeName, isMap, isNil, isStruct, truth } from './template.ts';

const f = (params: GoFunc['params'], fn: GoFunc['fn'], variadic?: GoFunc['variadic']): GoFunc => (variadic ? { params, fn, variadic } : { params, fn });

// ---------------------------------------------------------------------------------------
// Go builtins (text/template/funcs.go)

type Basic = 'bool' | 'int' | 'float' | 'string' | 'nil' | 'other';
function basicKind(v: unknown): Basic {
  if (isNil(v)) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  return 'other';
}

/** funcs.go eq: true if arg1 equals any of the others; int vs float64 is an error. */
function eq(a: unknown, ...others: unknown[]): boolean {
  if (!others.length) throw new Error('missing argument for comparison');
  const ka = basicKind(a);
  for (const b of others) {
    const kb = basicKind(b);
    if (ka === 'nil' && kb === 'nil') return true;
    if (ka === 'other' || kb === 'other') {
      if (ka === 'nil' || kb === 'nil') {
        continue;
      }
      throw new Error('non-comparable types');
    }
    if (ka !== kb) {
      if (ka === 'nil' || kb === 'nil') continue;
      throw new Error('incompatible types for comparison');
    }
    if (a === b) return true;
  }
  return false;
}

/** funcs.go lt: basic ordered kinds of the same kind only. */
function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil' || ka === 'other' || kb === 'other' || ka === 'bool' || kb === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}

function len(v: unknown): bigint {
  if (typeof v === 'string') return BigInt(Buffer.byteLength(v, 'utf8'));
  if (Array.isArray(v)) return BigInt(v.length);
  if (isMap(v)) return BigInt(Object.keys(v).length);
  throw new Error(`len of type ${goTypeName(v)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'bigint') throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
      if (k < 0n || k >= BigInt(v.length)) throw new Error(`index out of range: ${k}`);
      v = typeof v === 'string' ? BigInt(Buffer.from(v)[Number(k)]!) : v[Number(k)];
    } else if (isMap(v)) {
      if (typeof k !== 'string') throw new Error(`value has type ${goTypeName(k)}; should be string`);
      v = Object.hasOwn(v, k) ? v[k] : null;
    } else if (isNil(v)) {
      throw new Error('index of untyped nil');
    } else {
      throw new Error(`can't index item of type ${goTypeName(v)}`);
    }
  }
  return v;
}

/** Go's strconv.Quote for the printable text charts quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** fmt.Sprintf for the verbs charts use: %s %d %v %q %t %x %f %% (fmt/print.go). */
export function sprintf(format: string, ...args: unknown[]): string {
  let out = '';
  let argi = 0;
  const re = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', width, prec, verb] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    const bad = () => `%!${verb}(${isNil(a) ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`})`;
    let s: string;
    switch (verb) {
      case 'v':
        s = formatValue(a);
        break;
      case 's':
        s = typeof a === 'string' ? a : Array.isArray(a) || isMap(a) ? formatValue(a) : bad();
        if (prec !== undefined && typeof a === 'string') s = [...s].slice(0, Number(prec)).join('');
        break;
      case 'd':
        s = typeof a === 'bigint' ? a.toString() : bad();
        break;
      case 'q':
        s = typeof a === 'string' ? goQuote(a) : bad();
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : bad();
        break;
      case 'x':
        s = typeof a === 'bigint' ? a.toString(16) : typeof a === 'string' ? Buffer.from(a).toString('hex') : bad();
        break;
      case 'f':
        s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : bad();
        break;
      default:
        throw new Error(`printf verb %${verb} is not supported by this renderer`);
    }
    if (width !== undefined && s.length < Number(width)) {
      const pad = (flags.includes('0') && !flags.includes('-') && verb !== 's' ? '0' : ' ').repeat(Number(width) - s.length);
      s = flags.includes('-') ? s + pad : pad + s;
    }
    out += s;
  }
  out += format.slice(last);
  if (argi < args.length)
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${goTypeName(a)}=${formatValue(a)}`)
      .join(', ')})`;
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
function sprint(...args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

const goBuiltins: FuncMap = {
  and: {
    params: ['any'],
    variadic: 'any',
    lazy: true,
    fn: (...ts: Array<() => unknown>) => {
      let v: unknown;
      for (const t of ts) {
        v = t();
        if (!truth(v)) return v;
      }
      return v;
    },
  },
  or: {
    params: ['any'],
    variadic: 'any',
    lazy: true,
    fn: (...ts: Array<() => unknown>) => {
      let v: unknown;
      for (const t of ts) {
        v = t();
        if (truth(v)) return v;
      }
      return v;
    },
  },
  not: f(['any'], (v) => !truth(v)),
  len: f(['any'], len),
  index: f(['any'], index, 'any'),
  print: f([], sprint, 'any'),
  println: f([], (...a: unknown[]) => `${a.map((x) => formatValue(x)).join(' ')}\n`, 'any'),
  printf: f(['string'], sprintf, 'any'),
  eq: f(['any'], eq, 'any'),
  ne: f(['any', 'any'], (a, b) => !eq(a, b)),
  lt: f(['any', 'any'], lt),
  le: f(['any', 'any'], (a, b) => lt(a, b) || eq(a, b)),
  gt: f(['any', 'any'], (a, b) => !lt(a, b) && !eq(a, b)),
  ge: f(['any', 'any'], (a, b) => !lt(a, b)),
};

// ---------------------------------------------------------------------------------------
// Sprig

/** sprig strings.go strval. */
export function strval(v: unknown): string {
  return typeof v === 'string' ? v : formatValue(v);
}

/** sprig defaults.go empty. */
export function empty(v: unknown): boolean {
  if (isNil(v)) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.keys(v).length === 0;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'bigint') return v === 0n;
  if (typeof v === 'number') return v === 0;
  return false;
}

/** spf13/cast ToInt64 as sprig numeric.go toInt64 uses it: errors become 0. */
export function toInt64(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    // cast trims a ".0…" decimal part, then strconv.ParseInt(s, 0, 0).
    const s = v.replace(/\.0*$/, '');
    if (/^[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9]\d*|0)$/.test(s)) {
      const neg = s.startsWith('-');
      const body = s.replace(/^[+-]/, '');
      const n = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
      return neg ? -n : n;
    }
    return 0n;
  }
  return 0n;
}

function toFloat64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isNaN(n) || v.trim() === '' ? 0 : n;
  }
  return 0;
}

/** reflect.DeepEqual over the value model (an int never equals a float64). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** mitchellh/copystructure as sprig's deepCopy uses it. */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)])) as T;
  return v;
}

/**
 * mergo.Merge (sprig dict.go merge) and mergo.MergeWithOverwrite (mergeOverwrite) on maps:
 * nested maps merge key by key; otherwise merge fills keys the destination lacks or holds
 * empty, and mergeOverwrite replaces the destination's value unless the source's is empty.
 */
function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const [k, sv] of Object.entries(src)) {
    const dv = dst[k];
    if (isMap(dv) && isMap(sv)) {
      mergeInto(dv, sv, overwrite);
      continue;
    }
    if (!Object.hasOwn(dst, k) || empty(dv)) {
      dst[k] = sv;
      continue;
    }
    if (overwrite && !empty(sv)) dst[k] = sv;
  }
}

function dict(...kv: unknown[]): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  for (let i = 0; i < kv.length; i += 2) d[strval(kv[i])] = i + 1 < kv.length ? kv[i + 1] : '';
  return d;
}

function listOf(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot ${fn} on type ${goKind(v)}`);
}

/** sprig strings.go strslice: nil elements dropped, others through strval. */
function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => !isNil(x)).map(strval);
  return isNil(v) ? [] : [strval(v)];
}

/** JSON the way Go's encoding/json writes it: map keys sorted, <>& escaped, ints as ints. */
export function goJson(v: unknown, indent = ''): string {
  const norm = (x: unknown): unknown => {
    if (typeof x === 'bigint') return Number(x);
    if (Array.isArray(x)) return x.map(norm);
    if (isStruct(x)) return norm(Object.fromEntries(Object.entries(x.fields).filter(([, y]) => typeof y !== 'function')));
    if (isMap(x))
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, norm(x[k])]),
      );
    return isNil(x) ? null : x;
  };
  return JSON.stringify(norm(v), null, indent || undefined)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026');
}

/** Go's json.Unmarshal into interface{}: numbers are float64 (JS numbers). */
function fromJsonValue(s: string): unknown {
  return JSON.parse(s);
}

/**
 * helm pkg/engine/funcs.go toYAML: sigs.k8s.io/yaml.Marshal (JSON first, so keys sorted,
 * ints and floats as JSON numbers) with the trailing newline trimmed; errors give "".
 * Sequences sit at their parent key's indentation, as go-yaml writes them. The text may
 * differ from go-yaml's in quoting style or line folding; it parses to the same data, under
 * YAML 1.1 too (so "yes" and "on" stay quoted strings, as go-yaml v2 writes them).
 */
export function toYaml(v: unknown): string {
  const data = JSON.parse(goJson(v)) as unknown;
  const out = stringifyYaml(data, { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
  return out.replace(/\n$/, '');
}

/** helm funcs.go fromYAML: a map; a parse error lands in m["Error"]. */
function fromYaml(s: string): Record<string, unknown> {
  try {
    const v = parseYaml(s) as unknown;
    return isMap(v) ? v : {};
  } catch (e) {
    return { Error: (e as Error).message };
  }
}

const sprig: FuncMap = {
  // defaults.go
  default: f(['any'], (d, ...given: unknown[]) => (!given.length || empty(given[0]) ? d : given[0]), 'any'),
  empty: f(['any'], empty),
  coalesce: f([], (...v: unknown[]) => v.find((x) => !empty(x)) ?? null, 'any'),
  ternary: f(['any', 'any', 'bool'], (t, e, c) => (c ? t : e)),
  toJson: f(['any'], (v) => goJson(v)),
  toPrettyJson: f(['any'], (v) => goJson(v, '  ')),
  fromJson: f(['string'], (s: string) => {
    try {
      return fromJsonValue(s);
    } catch {
      return null;
    }
  }),
  deepCopy: f(['any'], deepCopy),
  // strings.go and functions.go (argument order as Sprig switches it for pipelines)
  quote: f(
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => !isNil(x))
        .map((x) => goQuote(strval(x)))
        .join(' '),
    'any',
  ),
  squote: f(
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => !isNil(x))
        .map((x) => `'${formatValue(x)}'`)
        .join(' '),
    'any',
  ),
  cat: f(
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => !isNil(x))
        .map((x) => formatValue(x))
        .join(' '),
    'any',
  ),
  trunc: f(['int', 'string'], (c: bigint, s: string) => {
    // Byte offsets, as Go slices strings.
    const b = Buffer.from(s);
    const n = Number(c);
    if (n < 0 && b.length + n > 0) return b.subarray(b.length + n).toString();
    if (n >= 0 && b.length > n) return b.subarray(0, n).toString();
    return s;
  }),
  trim: f(['string'], (s: string) => s.trim()),
  upper: f(['string'], (s: string) => s.toUpperCase()),
  lower: f(['string'], (s: string) => s.toLowerCase()),
  trimSuffix: f(['string', 'string'], (a: string, b: string) => (a && b.endsWith(a) ? b.slice(0, b.length - a.length) : b)),
  trimPrefix: f(['string', 'string'], (a: string, b: string) => (a && b.startsWith(a) ? b.slice(a.length) : b)),
  contains: f(['string', 'string'], (sub: string, s: string) => s.includes(sub)),
  hasPrefix: f(['string', 'string'], (sub: string, s: string) => s.startsWith(sub)),
  hasSuffix: f(['string', 'string'], (sub: string, s: string) => s.endsWith(sub)),
  replace: f(['string', 'string', 'string'], (o: string, n: string, s: string) => s.replaceAll(o, n)),
  indent: f(['int', 'string'], (n: bigint, s: string) => {
    const pad = ' '.repeat(Number(n));
    return pad + s.replaceAll('\n', `\n${pad}`);
  }),
  nindent: f(['int', 'string'], (n: bigint, s: string) => {
    const pad = ' '.repeat(Number(n));
    return `\n${pad}${s.replaceAll('\n', `\n${pad}`)}`;
  }),
  plural: f(['string', 'string', 'int'], (one: string, many: string, n: bigint) => (n === 1n ? one : many)),
  toString: f(['any'], strval),
  splitList: f(['string', 'string'], (sep: string, s: string) => s.split(sep)),
  join: f(['string', 'any'], (sep: string, v: unknown) => strslice(v).join(sep)),
  sortAlpha: f(['any'], (v: unknown) => (Array.isArray(v) ? strslice(v).sort() : [strval(v)])),
  sha1sum: f(['string'], (s: string) => createHash('sha1').update(s).digest('hex')),
  sha256sum: f(['string'], (s: string) => createHash('sha256').update(s).digest('hex')),
  b64enc: f(['string'], (s: string) => Buffer.from(s).toString('base64')),
  b64dec: f(['string'], (s: string) => Buffer.from(s, 'base64').toString()),
  // numeric.go (Sprig's integer arithmetic is int64)
  int: f(['any'], toInt64),
  int64: f(['any'], toInt64),
  float64: f(['any'], toFloat64),
  add: f([], (...v: unknown[]) => v.reduce<bigint>((a, b) => a + toInt64(b), 0n), 'any'),
  add1: f(['any'], (v) => toInt64(v) + 1n),
  sub: f(['any', 'any'], (a, b) => toInt64(a) - toInt64(b)),
  mul: f(['any'], (a, ...v: unknown[]) => v.reduce<bigint>((x, y) => x * toInt64(y), toInt64(a)), 'any'),
  // dict.go
  dict: f([], dict, 'any'),
  get: f(['map', 'string'], (d: Record<string, unknown>, k: string) => (Object.hasOwn(d, k) ? d[k] : '')),
  set: f(['map', 'string', 'any'], (d: Record<string, unknown>, k: string, v: unknown) => {
    d[k] = v;
    return d;
  }),
  unset: f(['map', 'string'], (d: Record<string, unknown>, k: string) => {
    delete d[k];
    return d;
  }),
  hasKey: f(['map', 'string'], (d: Record<string, unknown>, k: string) => Object.hasOwn(d, k)),
  keys: f([], (...ds: Array<Record<string, unknown>>) => ds.flatMap((d) => Object.keys(d)), 'map'),
  merge: f(
    ['map'],
    (dst: Record<string, unknown>, ...srcs: Array<Record<string, unknown>>) => {
      for (const s of srcs) mergeInto(dst, s, false);
      return dst;
    },
    'map',
  ),
  mergeOverwrite: f(
    ['map'],
    (dst: Record<string, unknown>, ...srcs: Array<Record<string, unknown>>) => {
      for (const s of srcs) mergeInto(dst, s, true);
      return dst;
    },
    'map',
  ),
  // list.go
  list: f([], (...v: unknown[]) => v, 'any'),
  has: f(['any', 'any'], (needle, hay) => (isNil(hay) ? false : listOf(hay, 'find has').some((x) => deepEqual(needle, x)))),
  first: f(['any'], (l) => listOf(l, 'find first')[0] ?? null),
  last: f(['any'], (l) => {
    const a = listOf(l, 'find last');
    return a.length ? a[a.length - 1] : null;
  }),
  append: f(['any', 'any'], (l, v) => [...listOf(l, 'push'), v]),
  uniq: f(['any'], (l) => {
    const out: unknown[] = [];
    for (const x of listOf(l, 'find uniq')) if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return out;
  }),
  // reflect.go
  kindOf: f(['any'], goKind),
  kindIs: f(['string', 'any'], (k: string, v: unknown) => goKind(v) === k),
  typeOf: f(['any'], goTypeName),
  // functions.go flow control
  fail: f(['string'], (msg: string) => {
    throw new Error(msg);
  }),
};

// ---------------------------------------------------------------------------------------
// Helm (pkg/engine/funcs.go; include, tpl and required are bound in engine.go initFunMap)

export interface HelmBindings {
  include: (name: string, data: unknown) => string;
  tpl: (text: string, data: unknown) => string;
  /** engine.go: in LintMode a missing required value is logged and "" returned. */
  lintMode: boolean;
}

/** Marks the message of `required` as helm does (warnWrap), so errors can show it alone. */
export const HELM_ERR = { start: 'HELM_ERR_START', end: 'HELM_ERR_END' } as const;

export function helmFuncs(b: HelmBindings): FuncMap {
  return {
    ...goBuiltins,
    ...sprig,
    toYaml: f(['any'], toYaml),
    fromYaml: f(['string'], fromYaml),
    toJson: f(['any'], (v) => goJson(v)),
    fromJson: f(['string'], (s: string) => {
      try {
        const v = fromJsonValue(s);
        return isMap(v) ? v : {};
      } catch (e) {
        return { Error: (e as Error).message };
      }
    }),
    include: f(['string', 'any'], (name: string, data: unknown) => b.include(name, data)),
    tpl: f(['string', 'any'], (text: string, data: unknown) => b.tpl(text, data)),
    required: f(['string', 'any'], (warn: string, val: unknown) => {
      if (isNil(val) || val === '') {
        if (b.lintMode) return '';
        throw new Error(`${HELM_ERR.start}${warn}${HELM_ERR.end}`);
      }
      return val;
    }),
    // Without a cluster (helm template, lint, dry runs) lookup answers an empty map.
    lookup: f(['string', 'string', 'string', 'string'], () => ({})),
  };
}

/** Go builtins and Sprig only: what a plain text/template + sprig.TxtFuncMap() program has. */
export const goAndSprigFuncs: FuncMap = { ...goBuiltins, ...sprig };
export const goOnlyFuncs: FuncMap = { ...goBuiltins };
