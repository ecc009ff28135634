/*
 * A subset of Go's text/template, enough to render this repository's Helm chart in tests
 * (helm is not installable here: no Debian or npm package ships it).
 *
 * Followed, by file, from the Go standard library (src/text/template/):
 *   parse/lex.go    delimiters, trim markers ("{{- " and " -}}" need the space), comments,
 *                   newlines inside actions (Go 1.16+), raw and quoted strings, numbers.
 *   parse/parse.go  if / else if / else with (Go 1.23) / range / with / define / template /
 *                   block / break / continue, pipelines, `$x :=` and `$x =` (Go 1.11+),
 *                   parenthesised pipelines with a field chain after them.
 *   exec.go         truth (isTrue), missingkey=zero on maps (helm's non-strict mode), "nil
 *                   pointer evaluating interface {}.x" on a field of nil, "can't evaluate
 *                   field" on a struct, variables scoped to their control block, range over
 *                   maps in sorted key order and over integers (Go 1.22+), and the final value
 *                   of a pipeline passed as the last argument of the next command.
 *   funcs.go        and/or (short-circuit since Go 1.18, returning the deciding argument),
 *                   not, len, index, print, printf, println, eq/ne/lt/le/gt/ge (an int and a
 *                   float64 do not compare: "incompatible types for comparison").
 *
 * Value model (the Go types Helm hands to templates): string, bigint = int, number = float64
 * (helm reads values files through sigs.k8s.io/yaml, i.e. JSON, so every number in .Values
 * is a float64; template literals like 1 are ints), boolean, null/undefined = nil,
 * plain object = map[string]interface{}, Array = []interface{}, and GoStruct for helm's own
 * structs (.Chart, .Release, .Capabilities, .Template): unknown fields are errors there,
 * and methods (Capabilities.APIVersions.Has) are called with their arguments.
 *
 * Limits, said plainly: no html/js/urlquery/call/slice builtins; printf knows %s %d %v %q %t
 * %x %f %% with simple flags/width/precision (others throw); complex numbers, channels and
 * struct printing beyond a stand-in are absent; an argument's type is checked against the
 * few kinds functions declare (string, int, float, bool, map, list, any), not Go's full
 * assignability rules. Unit tests (test/helm/template.test.ts) compare this against Go's
 * own text/template compiled to WebAssembly (@evertdespiegeleer/go-template) where that
 * package can run a case (it has no Sprig or Helm functions), and against the documented
 * semantics elsewhere.
 */

export type GoFunc = {
  /** Parameter kinds, checked and converted as Go's reflect-based call does (exec.go evalCall). */
  params: ParamKind[];
  /** Kind of the variadic tail, if any. */
  variadic?: ParamKind;
  fn: (...args: any[]) => unknown;
  /** and/or: receive thunks so that they can stop early (Go 1.18). */
  lazy?: boolean;
};
export type ParamKind = 'string' | 'int' | 'float' | 'bool' | 'map' | 'list' | 'any';
export type FuncMap = Record<string, GoFunc>;

const STRUCT = Symbol('go-struct');
/** A Go struct value: field access is strict, function-valued fields are methods. */
export class GoStruct {
  readonly [STRUCT] = true;
  readonly typeName: string;
  readonly fields: Record<string, unknown>;
  constructor(typeName: string, fields: Record<string, unknown>) {
    this.typeName = typeName;
    this.fields = fields;
  }
}
export const isStruct = (v: unknown): v is GoStruct => v instanceof GoStruct;
export const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoStruct);
export const isNil = (v: unknown): v is null | undefined => v === null || v === undefined;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The Go type name used in error messages, as reflect prints it for helm's values. */
export function goTypeName(v: unknown): string {
  if (isNil(v)) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isStruct(v)) return v.typeName;
  if (typeof v === 'function') return 'func';
  return 'map[string]interface {}';
}

/** Go's kind names (reflect.Kind.String), as Sprig's kindOf/kindIs report them. */
export function goKind(v: unknown): string {
  if (isNil(v)) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  if (isStruct(v)) return 'struct';
  if (typeof v === 'function') return 'func';
  return 'map';
}

/** exec.go isTrue. */
export function truth(v: unknown): boolean {
  if (isNil(v)) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/**
 * fmt's %v for a float64: strconv.FormatFloat(f, 'g', -1, 64) (fmt/print.go fmtFloat passes
 * 'g' with precision -1). strconv/ftoa.go uses the shortest digits and the exponent form
 * when the exponent is < -4 or >= 6 ("if shortest { eprec = 6 }"), with at least two
 * exponent digits: 1000000 prints as 1e+06, the well-known Helm surprise for big numbers
 * in values files.
 */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // toExponential() without a precision gives the shortest round-trip digits, as Go does.
  const [mant, e] = f.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const digits = mant.replace('-', '').replace('.', '');
  const body =
    exp >= 0
      ? digits.length > exp + 1
        ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
        : digits + '0'.repeat(exp + 1 - digits.length)
      : `0.${'0'.repeat(-exp - 1)}${digits}`;
  return (f < 0 ? '-' : '') + body;
}

/** fmt's %v for the values templates see. `top` prints nil as "<no value>" (an action's nil). */
export function formatValue(v: unknown, top = false): string {
  if (isNil(v)) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return formatFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(' ')}]`;
  if (isStruct(v))
    return `{${Object.values(v.fields)
      .filter((x) => typeof x !== 'function')
      .map((x) => formatValue(x))
      .join(' ')}}`;
  if (typeof v === 'function') return '0x0';
  // fmt prints maps with their keys sorted (fmt/print.go, internal/fmtsort).
  return `map[${Object.keys(v as object)
    .sort()
    .map((k) => `${k}:${formatValue((v as Record<string, unknown>)[k])}`)
    .join(' ')}]`;
}

// ---------------------------------------------------------------------------------------
// Lexing and parsing

type Arg =
  | { t: 'dot' }
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  | { t: 'number'; text: string; isInt: boolean }
  | { t: 'string'; v: string }
  | { t: 'field'; chain: string[] }
  | { t: 'var'; name: string; chain: string[] }
  | { t: 'ident'; name: string }
  | { t: 'pipe'; pipe: Pipe; chain: string[] };
type Command = { args: Arg[] };
type Pipe = { decl: string[]; assign: boolean; cmds: Command[]; line: number };
type Node =
  | { t: 'text'; v: string }
  | { t: 'action'; pipe: Pipe; line: number }
  | { t: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList: Node[] | null; line: number }
  | { t: 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | null; line: number }
  | { t: 'template'; name: string; pipe: Pipe | null; line: number }
  | { t: 'break' | 'continue'; line: number };

type Tok =
  | { k: 'space' }
  | { k: 'pipe' }
  | { k: 'lparen' }
  | { k: 'rparen' }
  | { k: 'declare' }
  | { k: 'assign' }
  | { k: 'comma' }
  | { k: 'string'; v: string }
  | { k: 'number'; text: string; isInt: boolean }
  | { k: 'dot' }
  | { k: 'field'; name: string }
  | { k: 'var'; name: string }
  | { k: 'ident'; name: string };

type RawAction = { text: string; line: number };

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Go's strconv.Unquote for "…" strings. */
function unquote(body: string, where: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (n !== undefined && n in simple) {
      out += simple[n];
      continue;
    }
    const hex = (len: number) => {
      const h = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) throw new TemplateError(`${where}: invalid syntax in string escape`);
      i += len;
      return parseInt(h, 16);
    };
    if (n === 'x') {
      out += String.fromCharCode(hex(2));
      continue;
    }
    if (n === 'u') {
      out += String.fromCodePoint(hex(4));
      continue;
    }
    if (n === 'U') {
      out += String.fromCodePoint(hex(8));
      continue;
    }
    if (n !== undefined && /[0-7]/.test(n)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) throw new TemplateError(`${where}: invalid syntax in string escape`);
      i += 2;
      out += String.fromCharCode(parseInt(o, 8));
      continue;
    }
    throw new TemplateError(`${where}: invalid syntax in string escape \\${n ?? ''}`);
  }
  return out;
}

function tokenize(a: RawAction, name: string): Tok[] {
  const s = a.text;
  const where = `template: ${name}:${a.line}`;
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (isSpace(c)) {
      while (isSpace(s[i])) i++;
      toks.push({ k: 'space' });
      continue;
    }
    if (c === '|') {
      toks.push({ k: 'pipe' });
      i++;
      continue;
    }
    if (c === '(') {
      toks.push({ k: 'lparen' });
      i++;
      continue;
    }
    if (c === ')') {
      toks.push({ k: 'rparen' });
      i++;
      continue;
    }
    if (c === ',') {
      toks.push({ k: 'comma' });
      i++;
      continue;
    }
    if (c === ':' && s[i + 1] === '=') {
      toks.push({ k: 'declare' });
      i += 2;
      continue;
    }
    if (c === '=') {
      toks.push({ k: 'assign' });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\') j++;
        if (s[j] === '\n') throw new TemplateError(`${where}: unterminated quoted string`);
        j++;
      }
      if (j >= s.length) throw new TemplateError(`${where}: unterminated quoted string`);
      toks.push({ k: 'string', v: unquote(s.slice(i + 1, j), where) });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError(`${where}: unterminated raw quoted string`);
      toks.push({ k: 'string', v: s.slice(i + 1, j).replaceAll('\r', '') });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new TemplateError(`${where}: unterminated character constant`);
      const ch = unquote(s.slice(i + 1, j), where);
      toks.push({ k: 'number', text: String(ch.codePointAt(0) ?? 0), isInt: true });
      i = j + 1;
      continue;
    }
    const num = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?)/.exec(s.slice(i));
    if ((/\d/.test(c) || ((c === '+' || c === '-' || c === '.') && /\d/.test(s[i + 1] ?? ''))) && num && num[0] !== '') {
      const text = num[0].replaceAll('_', '');
      toks.push({ k: 'number', text, isInt: !/[.eE]/.test(text) || /^[+-]?0[xX]/.test(text) });
      i += num[0].length;
      continue;
    }
    if (c === '.') {
      if (isAlnum(s[i + 1])) {
        let j = i + 1;
        while (isAlnum(s[j])) j++;
        toks.push({ k: 'field', name: s.slice(i + 1, j) });
        i = j;
      } else {
        toks.push({ k: 'dot' });
        i++;
      }
      continue;
    }
    if (c === '$') {
      let j = i + 1;
      while (isAlnum(s[j])) j++;
      toks.push({ k: 'var', name: s.slice(i, j) });
      i = j;
      continue;
    }
    if (isAlnum(c)) {
      let j = i;
      while (isAlnum(s[j])) j++;
      toks.push({ k: 'ident', name: s.slice(i, j) });
      i = j;
      continue;
    }
    throw new TemplateError(`${where}: unexpected "${c}" in command`);
  }
  return toks;
}

/** Splits a template into text and actions, applying trim markers (lex.go). */
function scan(src: string, name: string): Array<{ text: string } | RawAction> {
  const out: Array<{ text: string } | RawAction> = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ text });
      break;
    }
    let j = open + 2;
    const trimLeft = src[j] === '-' && isSpace(src[j + 1]);
    if (trimLeft) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 2;
    }
    if (text) out.push({ text });
    line += (src.slice(i, open).match(/\n/g) ?? []).length;
    const startLine = line;
    // Comment: /* … */ right after the delimiter (and trim marker).
    if (src.startsWith('/*', j)) {
      const end = src.indexOf('*/', j + 2);
      if (end < 0) throw new TemplateError(`template: ${name}:${startLine}: unclosed comment`);
      let e = end + 2;
      let trimRight = false;
      if (src.startsWith(' -}}', e) || src.startsWith('\t-}}', e) || src.startsWith('\n-}}', e)) {
        trimRight = true;
        e += 4;
      } else if (src.startsWith('}}', e)) e += 2;
      else throw new TemplateError(`template: ${name}:${startLine}: comment ends before closing delimiter`);
      line += (src.slice(open, e).match(/\n/g) ?? []).length;
      trimNext = trimRight;
      i = e;
      continue;
    }
    // Find the closing delimiter outside strings.
    let q = j;
    let close = -1;
    let trimRight = false;
    while (q < src.length) {
      const c = src[q];
      if (c === '"') {
        q++;
        while (q < src.length && src[q] !== '"') {
          if (src[q] === '\\') q++;
          q++;
        }
        q++;
        continue;
      }
      if (c === '`') {
        const e = src.indexOf('`', q + 1);
        q = e < 0 ? src.length : e + 1;
        continue;
      }
      if (c === "'") {
        q++;
        while (q < src.length && src[q] !== "'") {
          if (src[q] === '\\') q++;
          q++;
        }
        q++;
        continue;
      }
      if (isSpace(c) && src[q + 1] === '-' && src.startsWith('}}', q + 2)) {
        close = q;
        trimRight = true;
        break;
      }
      if (src.startsWith('}}', q)) {
        close = q;
        break;
      }
      q++;
    }
    if (close < 0) throw new TemplateError(`template: ${name}:${startLine}: unclosed action`);
    out.push({ text: src.slice(j, close), line: startLine } as RawAction);
    const end = close + (trimRight ? 4 : 2);
    line += (src.slice(open, end).match(/\n/g) ?? []).length;
    trimNext = trimRight;
    i = end;
  }
  return out;
}

class Parser {
  private items: Array<{ text: string } | RawAction>;
  private pos = 0;
  readonly defines = new Map<string, Node[]>();

  private readonly name: string;
  private readonly funcs: FuncMap;

  constructor(src: string, name: string, funcs: FuncMap) {
    this.name = name;
    this.funcs = funcs;
    this.items = scan(src, name);
  }

  parse(): Node[] {
    const [list, end] = this.list();
    if (end) throw new TemplateError(`template: ${this.name}:${end.line}: unexpected {{${end.word}}}`);
    return list;
  }

  /** Parses nodes until {{end}}/{{else …}} (returned) or the end of input. */
  private list(): [Node[], { word: string; rest: Tok[]; line: number } | null] {
    const nodes: Node[] = [];
    while (this.pos < this.items.length) {
      const item = this.items[this.pos++]!;
      if (!('line' in item)) {
        nodes.push({ t: 'text', v: item.text });
        continue;
      }
      const toks = tokenize(item, this.name).filter((t, idx, all) => !(t.k === 'space' && (idx === 0 || idx === all.length - 1)));
      if (toks.length === 0) throw new TemplateError(`template: ${this.name}:${item.line}: missing value for command`);
      const first = toks[0]!;
      const kw = first.k === 'ident' ? first.name : '';
      const rest = toks.slice(1).filter((t, idx) => !(idx === 0 && t.k === 'space'));
      switch (kw) {
        case 'end':
        case 'else':
          return [nodes, { word: kw, rest, line: item.line }];
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.control(kw, rest, item.line));
          break;
        case 'define':
        case 'block': {
          const [nameTok, ...after] = rest.filter((t) => t.k !== 'space');
          if (nameTok?.k !== 'string') throw new TemplateError(`template: ${this.name}:${item.line}: ${kw} needs a quoted name`);
          const [body, end] = this.list();
          if (end?.word !== 'end') throw new TemplateError(`template: ${this.name}:${item.line}: unexpected EOF in ${kw}`);
          this.defines.set(nameTok.v, body);
          if (kw === 'block') {
            const pipeToks = rest.slice(rest.indexOf(nameTok) + 1);
            nodes.push({ t: 'template', name: nameTok.v, pipe: after.length ? this.pipeline(pipeToks, item.line, false) : null, line: item.line });
          }
          break;
        }
        case 'template': {
          const nameTok = rest[0];
          if (nameTok?.k !== 'string') throw new TemplateError(`template: ${this.name}:${item.line}: template needs a quoted name`);
          const pipeToks = rest.slice(1);
          const hasPipe = pipeToks.some((t) => t.k !== 'space');
          nodes.push({ t: 'template', name: nameTok.v, pipe: hasPipe ? this.pipeline(pipeToks, item.line, false) : null, line: item.line });
          break;
        }
        case 'break':
        case 'continue':
          nodes.push({ t: kw, line: item.line });
          break;
        default:
          nodes.push({ t: 'action', pipe: this.pipeline(toks, item.line, true), line: item.line });
      }
    }
    return [nodes, null];
  }

  private control(kw: 'if' | 'with' | 'range', toks: Tok[], line: number): Node {
    const pipe = this.pipeline(toks, line, true, kw === 'range');
    const [list, end] = this.list();
    if (!end) throw new TemplateError(`template: ${this.name}:${line}: unexpected EOF`);
    let elseList: Node[] | null = null;
    if (end.word === 'else') {
      const chained = end.rest[0];
      if (chained && chained.k === 'ident' && (chained.name === 'if' || (chained.name === 'with' && kw === 'with'))) {
        // {{else if …}} / {{else with …}}: a nested control sharing this one's {{end}}.
        const nested = this.control(
          chained.name,
          end.rest.slice(1).filter((t, i) => !(i === 0 && t.k === 'space')),
          end.line,
        );
        elseList = [nested];
      } else {
        if (end.rest.length) throw new TemplateError(`template: ${this.name}:${end.line}: unexpected tokens after else`);
        const [eList, eEnd] = this.list();
        if (eEnd?.word !== 'end') throw new TemplateError(`template: ${this.name}:${end.line}: expected end; found ${eEnd?.word ?? 'EOF'}`);
        elseList = eList;
      }
    } else if (end.rest.length) {
      throw new TemplateError(`template: ${this.name}:${end.line}: unexpected tokens after end`);
    }
    return { t: kw, pipe, list, elseList, line } as Node;
  }

  private pipeline(toks: Tok[], line: number, allowDecl: boolean, range = false): Pipe {
    const t = toks;
    let i = 0;
    const skip = () => {
      while (t[i]?.k === 'space') i++;
    };
    const decl: string[] = [];
    let assign = false;
    // Variable declarations: $x := …, $x = …, and (range) $k, $v := ….
    if (allowDecl) {
      const save = i;
      skip();
      const vars: string[] = [];
      while (t[i]?.k === 'var') {
        vars.push((t[i] as { name: string }).name);
        i++;
        skip();
        if (t[i]?.k === 'comma' && range && vars.length < 2) {
          i++;
          skip();
          continue;
        }
        break;
      }
      if (vars.length && (t[i]?.k === 'declare' || t[i]?.k === 'assign')) {
        assign = t[i]!.k === 'assign';
        decl.push(...vars);
        i++;
      } else {
        i = save;
      }
    }
    const cmds: Command[] = [];
    let args: Arg[] = [];
    const where = `template: ${this.name}:${line}`;
    const operand = (): Arg => {
      const tok = t[i++];
      if (!tok) throw new TemplateError(`${where}: missing value`);
      let arg: Arg;
      switch (tok.k) {
        case 'dot':
          arg = { t: 'dot' };
          break;
        case 'string':
          arg = { t: 'string', v: tok.v };
          break;
        case 'number':
          arg = { t: 'number', text: tok.text, isInt: tok.isInt };
          break;
        case 'field': {
          const chain = [tok.name];
          while (t[i]?.k === 'field') chain.push((t[i++] as { name: string }).name);
          return { t: 'field', chain };
        }
        case 'var': {
          const chain: string[] = [];
          while (t[i]?.k === 'field') chain.push((t[i++] as { name: string }).name);
          return { t: 'var', name: tok.name, chain };
        }
        case 'ident':
          if (tok.name === 'true' || tok.name === 'false') arg = { t: 'bool', v: tok.name === 'true' };
          else if (tok.name === 'nil') arg = { t: 'nil' };
          else {
            if (!(tok.name in this.funcs)) throw new TemplateError(`${where}: function "${tok.name}" not defined`);
            arg = { t: 'ident', name: tok.name };
          }
          break;
        case 'lparen': {
          let depth = 1;
          const start = i;
          while (i < t.length && depth > 0) {
            if (t[i]!.k === 'lparen') depth++;
            if (t[i]!.k === 'rparen') depth--;
            i++;
          }
          if (depth !== 0) throw new TemplateError(`${where}: unclosed left paren`);
          const inner = this.pipeline(t.slice(start, i - 1), line, true);
          const chain: string[] = [];
          while (t[i]?.k === 'field') chain.push((t[i++] as { name: string }).name);
          return { t: 'pipe', pipe: inner, chain };
        }
        default:
          throw new TemplateError(`${where}: unexpected ${tok.k} in operand`);
      }
      if (t[i]?.k === 'field') throw new TemplateError(`${where}: unexpected . after term`);
      return arg;
    };
    for (;;) {
      skip();
      if (i >= t.length) break;
      if (t[i]!.k === 'pipe') {
        if (!args.length) throw new TemplateError(`${where}: missing command`);
        cmds.push({ args });
        args = [];
        i++;
        continue;
      }
      if (t[i]!.k === 'rparen') throw new TemplateError(`${where}: unexpected right paren`);
      args.push(operand());
      // Operands must be separated by spaces (or end the command).
      const nx = t[i];
      if (nx && nx.k !== 'space' && nx.k !== 'pipe' && nx.k !== 'rparen') throw new TemplateError(`${where}: missing space?`);
    }
    if (args.length) cmds.push({ args });
    else if (cmds.length) throw new TemplateError(`${where}: missing command`);
    if (!cmds.length) throw new TemplateError(`${where}: missing value for command`);
    return { decl, assign, cmds, line };
  }
}

// ---------------------------------------------------------------------------------------
// Execution

class BreakSignal {}
class ContinueSignal {}
const NO_FINAL = Symbol('no-final');

type Vars = Array<{ name: string; value: unknown }>;

export interface ExecOptions {
  /** Go's template.Option("missingkey=error"); helm uses missingkey=zero unless --strict. */
  missingKeyError?: boolean;
  /** How deep include/template may nest (helm: recursionMaxNums = 1000 for include). */
  maxDepth?: number;
}

/** A set of named templates sharing one function map, like *template.Template in Go. */
export class TemplateSet {
  /** Template name → its nodes and the file it was parsed from (for error locations). */
  private readonly trees = new Map<string, { nodes: Node[]; file: string }>();
  private depth = 0;

  readonly funcs: FuncMap;
  private readonly opts: ExecOptions;

  constructor(funcs: FuncMap, opts: ExecOptions = {}) {
    this.funcs = funcs;
    this.opts = opts;
  }

  /** Parses `src` as template `name`; its {{define}}s join the set (later ones win, as in Go). */
  add(name: string, src: string): void {
    const p = new Parser(src, name, this.funcs);
    const tree = p.parse();
    this.trees.set(name, { nodes: tree, file: name });
    for (const [n, body] of p.defines) this.trees.set(n, { nodes: body, file: name });
  }

  has(name: string): boolean {
    return this.trees.has(name);
  }

  execute(name: string, dot: unknown): string {
    const tree = this.trees.get(name);
    if (!tree) throw new TemplateError(`template: no template "${name}" associated with template`);
    if (++this.depth > (this.opts.maxDepth ?? 1000)) {
      this.depth = 0;
      throw new TemplateError(`template: ${name}: exceeded maximum template depth`);
    }
    try {
      const out: string[] = [];
      this.walkList(tree.file, tree.nodes, dot, [{ name: '$', value: dot }], out);
      return out.join('');
    } finally {
      this.depth--;
    }
  }

  private walkList(tpl: string, list: Node[], dot: unknown, vars: Vars, out: string[]): void {
    for (const n of list) this.walk(tpl, n, dot, vars, out);
  }

  private walk(tpl: string, n: Node, dot: unknown, vars: Vars, out: string[]): void {
    switch (n.t) {
      case 'text':
        out.push(n.v);
        return;
      case 'action': {
        const v = this.pipeline(tpl, n.pipe, dot, vars);
        if (!n.pipe.decl.length) out.push(formatValue(v, true));
        return;
      }
      case 'if':
      case 'with': {
        const mark = vars.length;
        const v = this.pipeline(tpl, n.pipe, dot, vars);
        try {
          if (truth(v)) this.walkList(tpl, n.list, n.t === 'with' ? v : dot, vars, out);
          else if (n.elseList) this.walkList(tpl, n.elseList, dot, vars, out);
        } finally {
          vars.length = mark;
        }
        return;
      }
      case 'range':
        this.range(tpl, n, dot, vars, out);
        return;
      case 'template': {
        const newDot = n.pipe ? this.pipeline(tpl, n.pipe, dot, vars) : null;
        if (!this.trees.has(n.name)) throw new TemplateError(`template: ${tpl}:${n.line}: no such template "${n.name}"`);
        out.push(this.execute(n.name, newDot));
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private range(tpl: string, n: Extract<Node, { t: 'range' }>, dot: unknown, vars: Vars, out: string[]): void {
    const mark = vars.length;
    const decl = n.pipe.decl;
    const v = this.pipeline(tpl, { ...n.pipe, decl: [] }, dot, vars);
    const items: Array<[unknown, unknown]> = [];
    if (Array.isArray(v)) for (const [i, x] of v.entries()) items.push([BigInt(i), x]);
    else if (isMap(v)) for (const k of Object.keys(v).sort()) items.push([k, v[k]]);
    else if (typeof v === 'bigint') for (let i = 0n; i < v; i++) items.push([i, i]);
    else if (!isNil(v)) throw new TemplateError(`template: ${tpl}:${n.line}: range can't iterate over ${formatValue(v)}`);
    try {
      if (!items.length) {
        if (n.elseList) this.walkList(tpl, n.elseList, dot, vars, out);
        return;
      }
      for (const [key, elem] of items) {
        vars.length = mark;
        if (decl.length === 1) vars.push({ name: decl[0]!, value: typeof v === 'bigint' ? key : elem });
        if (decl.length === 2) vars.push({ name: decl[0]!, value: key }, { name: decl[1]!, value: elem });
        try {
          this.walkList(tpl, n.list, elem, vars, out);
        } catch (e) {
          if (e instanceof BreakSignal) break;
          if (e instanceof ContinueSignal) continue;
          throw e;
        }
      }
    } finally {
      vars.length = mark;
    }
  }

  private pipeline(tpl: string, pipe: Pipe, dot: unknown, vars: Vars): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.command(tpl, pipe.line, cmd, dot, vars, value);
    if (pipe.decl.length) {
      if (pipe.assign) {
        for (const name of pipe.decl) {
          const slot = [...vars].reverse().find((x) => x.name === name);
          if (!slot) throw new TemplateError(`template: ${tpl}:${pipe.line}: undefined variable: ${name}`);
          slot.value = value;
        }
      } else {
        for (const name of pipe.decl) vars.push({ name, value });
      }
    }
    return value;
  }

  private command(tpl: string, line: number, cmd: Command, dot: unknown, vars: Vars, final: unknown): unknown {
    const [first, ...rest] = cmd.args;
    const where = `template: ${tpl}:${line}`;
    switch (first!.t) {
      case 'field':
        return this.chain(where, dot, first!.chain, rest, dot, vars, final);
      case 'var':
        return this.chain(where, this.variable(where, first!.name, vars), first!.chain, rest, dot, vars, final);
      case 'pipe': {
        const v = this.pipeline(tpl, first!.pipe, dot, vars);
        if (!first!.chain.length && (rest.length || final !== NO_FINAL))
          throw new TemplateError(`${where}: can't give argument to non-function ${formatValue(v)}`);
        return this.chain(where, v, first!.chain, rest, dot, vars, final);
      }
      case 'ident':
        return this.call(where, first!.name, rest, dot, vars, final);
      case 'dot':
        if (rest.length || final !== NO_FINAL) throw new TemplateError(`${where}: can't give argument to non-function .`);
        return dot;
      default:
        if (rest.length || final !== NO_FINAL) throw new TemplateError(`${where}: can't give argument to non-function ${this.constant(first!, 'any', where)}`);
        return this.constant(first!, 'any', where);
    }
  }

  private variable(where: string, name: string, vars: Vars): unknown {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i]!.name === name) return vars[i]!.value;
    throw new TemplateError(`${where}: undefined variable "${name}"`);
  }

  private chain(where: string, recv: unknown, chain: string[], args: Arg[], dot: unknown, vars: Vars, final: unknown): unknown {
    if (!chain.length) {
      if (args.length || final !== NO_FINAL) throw new TemplateError(`${where}: can't give argument to non-function ${formatValue(recv)}`);
      return recv;
    }
    let v = recv;
    for (let i = 0; i < chain.length; i++) {
      const last = i === chain.length - 1;
      v = this.field(where, v, chain[i]!, last ? args : [], dot, vars, last ? final : NO_FINAL);
    }
    return v;
  }

  private field(where: string, recv: unknown, name: string, args: Arg[], dot: unknown, vars: Vars, final: unknown): unknown {
    const hasArgs = args.length > 0 || final !== NO_FINAL;
    if (isStruct(recv)) {
      if (!(name in recv.fields)) throw new TemplateError(`${where}: can't evaluate field ${name} in type ${recv.typeName}`);
      const f = recv.fields[name];
      if (typeof f === 'function') {
        const vals = args.map((a) => this.arg(where, a, 'any', dot, vars));
        if (final !== NO_FINAL) vals.push(final);
        return (f as (...a: unknown[]) => unknown)(...vals);
      }
      if (hasArgs) throw new TemplateError(`${where}: ${name} is not a method but has arguments`);
      return f;
    }
    if (isMap(recv)) {
      if (hasArgs) throw new TemplateError(`${where}: ${name} is not a method but has arguments`);
      if (Object.hasOwn(recv, name)) return recv[name];
      if (this.opts.missingKeyError) throw new TemplateError(`${where}: map has no entry for key "${name}"`);
      return null;
    }
    if (isNil(recv)) throw new TemplateError(`${where}: nil pointer evaluating interface {}.${name}`);
    throw new TemplateError(`${where}: can't evaluate field ${name} in type ${goTypeName(recv)}`);
  }

  private constant(a: Arg, kind: ParamKind, where: string): unknown {
    switch (a.t) {
      case 'nil':
        return null;
      case 'bool':
        return a.v;
      case 'string':
        return a.v;
      case 'dot':
        return undefined;
      case 'number': {
        // parse/node.go NumberNode: an integer literal is int, float64 and complex at once;
        // the parameter's type picks one. For interface{} an integer literal is an int.
        if (kind === 'float') return Number(a.text);
        if (kind === 'int' && !a.isInt) {
          const f = Number(a.text);
          if (Number.isInteger(f)) return BigInt(f);
          throw new TemplateError(`${where}: expected integer; found ${a.text}`);
        }
        if (a.isInt) return BigInt(a.text.replace(/^\+/, ''));
        return Number(a.text);
      }
      default:
        throw new TemplateError(`${where}: not a constant`);
    }
  }

  /** Evaluates an argument for a parameter of `kind` (exec.go evalArg/validateType). */
  private arg(where: string, a: Arg, kind: ParamKind, dot: unknown, vars: Vars): unknown {
    let v: unknown;
    switch (a.t) {
      case 'dot':
        v = dot;
        break;
      case 'field':
        v = this.chain(where, dot, a.chain, [], dot, vars, NO_FINAL);
        break;
      case 'var':
        v = this.chain(where, this.variable(where, a.name, vars), a.chain, [], dot, vars, NO_FINAL);
        break;
      case 'pipe':
        v = this.chain(where, this.pipeline(where.replace(/^template: /, '').replace(/:\d+$/, ''), a.pipe, dot, vars), a.chain, [], dot, vars, NO_FINAL);
        break;
      case 'ident':
        v = this.call(where, a.name, [], dot, vars, NO_FINAL);
        break;
      default:
        return checkKind(where, this.constant(a, kind, where), kind);
    }
    return checkKind(where, v, kind);
  }

  private call(where: string, name: string, argNodes: Arg[], dot: unknown, vars: Vars, final: unknown): unknown {
    const f = this.funcs[name];
    if (!f) throw new TemplateError(`${where}: function "${name}" not defined`);
    const total = argNodes.length + (final !== NO_FINAL ? 1 : 0);
    const fixed = f.params.length;
    if (f.variadic ? total < fixed : total !== fixed) {
      throw new TemplateError(`${where}: wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${fixed} got ${total}`);
    }
    const kindAt = (i: number): ParamKind => (i < fixed ? f.params[i]! : f.variadic!);
    try {
      if (f.lazy) {
        const thunks = argNodes.map((a, i) => () => this.arg(where, a, kindAt(i), dot, vars));
        if (final !== NO_FINAL) thunks.push(() => final);
        return f.fn(...thunks);
      }
      const vals = argNodes.map((a, i) => this.arg(where, a, kindAt(i), dot, vars));
      if (final !== NO_FINAL) vals.push(checkKind(where, final, kindAt(vals.length)));
      return f.fn(...vals);
    } catch (e) {
      if (e instanceof TemplateError || e instanceof BreakSignal || e instanceof ContinueSignal) throw e;
      throw new TemplateError(
        `${where}: executing "${where.replace(/^template: /, '').replace(/:\d+$/, '')}" at <${name}>: error calling ${name}: ${(e as Error).message}`,
      );
    }
  }
}

/** exec.go validateType: values are not converted between Go types, only checked. */
function checkKind(where: string, v: unknown, kind: ParamKind): unknown {
  const bad = (want: string) =>
    new TemplateError(isNil(v) ? `${where}: invalid value; expected ${want}` : `${where}: wrong type for value; expected ${want}; got ${goTypeName(v)}`);
  switch (kind) {
    case 'any':
      return v;
    case 'string':
      if (typeof v === 'string') return v;
      throw bad('string');
    case 'int':
      if (typeof v === 'bigint') return v;
      throw bad('int');
    case 'float':
      if (typeof v === 'number') return v;
      throw bad('float64');
    case 'bool':
      if (typeof v === 'boolean') return v;
      throw bad('bool');
    case 'map':
      if (isMap(v)) return v;
      throw bad('map[string]interface {}');
    case 'list':
      if (Array.isArray(v)) return v;
      throw bad('[]interface {}');
  }
}
