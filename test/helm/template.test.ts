import { parse as goTemplate } from '@evertdespiegeleer/go-template';
import { describe, expect, it } from 'vitest';
import { goAndSprigFuncs, goOnlyFuncs, helmFuncs, toYaml } from './funcs.ts';
import { coalesceValues, mergeMaps } from './render.ts';
import { type FuncMap, GoStruct, TemplateSet, formatFloat } from './template.ts';

/*
 * The renderer in test/helm/ stands in for helm, so it is checked twice over:
 *  - against Go's own text/template (go1.25, compiled to WebAssembly by the
 *    @evertdespiegeleer/go-template package) for the language itself: the same template and
 *    data must give the same text, or both must fail. That package runs with
 *    missingkey=error and has no Sprig/Helm functions, so those cases use Go's builtins only;
 *  - against the documented behaviour of Sprig and Helm (sources cited in funcs.ts and
 *    render.ts) for the functions and the values handling Helm adds.
 */

function run(src: string, data: unknown, funcs: FuncMap = goOnlyFuncs, missingKeyError = false): string {
  const set = new TemplateSet(funcs, { missingKeyError });
  set.add('t', src);
  return set.execute('t', data);
}

async function oracle(src: string, data: unknown): Promise<{ ok: true; out: string } | { ok: false }> {
  try {
    return { ok: true, out: await goTemplate(src, data) };
  } catch {
    return { ok: false };
  }
}

const data = {
  s: 'str',
  e: '',
  t: true,
  f: false,
  nil: null,
  l: ['a', 'b', 'c'],
  empty: [],
  m: { b: 'x', a: 'y', c: 'z' },
  ms: { k: { name: 'inner' } },
  nested: { list: [{ n: 'one' }, { n: 'two' }] },
  uni: 'héllo',
};

const SAME: Array<[string, string]> = [
  ['trim markers', 'a  {{- .s -}}  b|{{ .s }}\n  {{- .s }}|{{ .s -}}\n\n x'],
  ['a dash without a space is a number', '{{-3}} {{ -3 }}'],
  ['comments, trimmed and not', 'a {{- /* gone */ -}} b {{/* also gone */}}c'],
  ['if / else if / else', '{{ if .f }}F{{ else if .e }}E{{ else if .t }}T{{ else }}X{{ end }}'],
  [
    'truth of empty things',
    '{{ if .empty }}1{{ end }}{{ if .m }}2{{ end }}{{ if .nil }}3{{ end }}{{ if .e }}4{{ end }}{{ if 0 }}5{{ end }}{{ if 0.0 }}6{{ end }}',
  ],
  ['range over a map sorts its keys', '{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}'],
  ['range over a slice with index and element', '{{ range $i, $e := .l }}{{ $i }}:{{ $e }} {{ end }}'],
  ['range with one variable takes the element', '{{ range $e := .l }}{{ $e }}{{ end }}'],
  ['range else on empty and nil', '{{ range .empty }}x{{ else }}none{{ end }} {{ range .nil }}x{{ else }}nil{{ end }}'],
  ['range over an int', '{{ range 3 }}{{ . }}{{ end }}'],
  ['break and continue', '{{ range .l }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "c" }}{{ break }}{{ end }}{{ . }}{{ end }}'],
  ['dot inside range and $ outside', '{{ range .nested.list }}{{ .n }}/{{ $.s }} {{ end }}'],
  ['with and else', '{{ with .s }}[{{ . }}]{{ end }}{{ with .e }}no{{ else }}else{{ end }}'],
  ['else with', '{{ with .e }}a{{ else with .s }}b:{{ . }}{{ else }}c{{ end }}'],
  ['define and template with a pipeline', '{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" .s }}{{ template "x" }}'],
  ['block', '{{ block "b" .s }}({{ . }}){{ end }}'],
  ['variables: declare, assign in an inner scope', '{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ $y := "c" }}{{ $y }}{{ end }}{{ $x }}'],
  ['and / or return the deciding value', '[{{ and "a" "" "b" }}][{{ and "a" "b" }}][{{ or "" "x" }}][{{ or "" .e }}]'],
  ['and stops early', '{{ and .f (index .l 99) }}'],
  ['not, eq with several, ne, lt on strings', '{{ not .empty }} {{ eq "b" "a" "b" }} {{ ne "a" "b" }} {{ lt "a" "b" }} {{ le "b" "b" }} {{ ge "a" "b" }}'],
  ['printf verbs, width and flags', '{{ printf "%s=%q %v %d %t %x %%" "a" "b\\t\\"c" .l 5 true 255 }}|{{ printf "%5s|%-5s|%05d" "x" "y" 42 }}'],
  ['printf with missing and extra arguments', '{{ printf "%s %s" "a" }}|{{ printf "%s" "a" "b" }}|{{ printf "%d" "x" }}'],
  ['print and println spacing', '{{ print "a" 1 2 "b" true }}|{{ println "a" 1 }}'],
  ['len counts bytes', '{{ len .uni }} {{ len .l }} {{ len .m }}'],
  ['index into maps and slices', '{{ index .m "a" }} {{ index .l 1 }} {{ index .ms "k" "name" }}'],
  ['pipeline passes the last argument', '{{ "x" | printf "%s-%s" "y" }} {{ .l | len }}'],
  ['parenthesised pipelines and a field after them', '{{ (index .l 0) }} {{ (index .ms "k").name }}'],
  ['printing nil, maps and slices', '{{ .nil }}|{{ .m }}|{{ .l }}|{{ .empty }}|{{ .ms }}'],
  ['strings: escapes and raw', '{{ "a\\tb\\u00e9\\x41" }}{{ `raw\\n` }}'],
  ['newlines inside an action', '{{ printf\n  "%s"\n  .s }}'],
  ['character constants are ints', "{{ 'a' }}"],
  ['the field of a map in a variable', '{{ $m := .ms }}{{ $m.k.name }}'],
];

const BOTH_FAIL: Array<[string, string]> = [
  ['an unknown function', '{{ nope 1 }}'],
  ['an unclosed action', '{{ .s '],
  ['an unterminated if', '{{ if .t }}x'],
  ['a field of a string', '{{ .s.x }}'],
  ['a field of nil', '{{ .nil.x }}'],
  ['a missing key (missingkey=error)', '{{ .missing }}'],
  ['an int compared with a float', '{{ eq 1 1.5 }}'],
  ['lt on booleans', '{{ lt true false }}'],
  ['a variable used out of its scope', '{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}'],
  ['index out of range', '{{ index .l 5 }}'],
  ['len of a bool', '{{ len .t }}'],
  ['arguments to a non-function', '{{ .s 1 }}'],
  ['range over a string', '{{ range .s }}{{ end }}'],
];

describe('Go text/template subset, against Go itself (WebAssembly)', () => {
  for (const [name, src] of SAME) {
    it(name, async () => {
      const want = await oracle(src, data);
      expect(want.ok, `Go rejected the case itself: ${src}`).toBe(true);
      expect(run(src, data, goOnlyFuncs, true)).toBe((want as { out: string }).out);
    });
  }
  for (const [name, src] of BOTH_FAIL) {
    it(`fails like Go on ${name}`, async () => {
      expect((await oracle(src, data)).ok).toBe(false);
      expect(() => run(src, data, goOnlyFuncs, true)).toThrow();
    });
  }
});

describe('Go semantics that the WebAssembly build cannot show', () => {
  it('prints float64 values as fmt %v does (strconv.FormatFloat g, shortest)', () => {
    // Go: fmt.Sprint(1e6) == "1e+06", the reason charts write {{ int .Values.x }}.
    expect([1e6, 123456, 1.5, 0.0001, 0.00001, 1234567, -2.5, 100, 1e21, 0].map(formatFloat)).toEqual([
      '1e+06',
      '123456',
      '1.5',
      '0.0001',
      '1e-05',
      '1.234567e+06',
      '-2.5',
      '100',
      '1e+21',
      '0',
    ]);
  });

  it('treats numbers from values files as float64: they do not compare with int literals', () => {
    // helm reads values through sigs.k8s.io/yaml (JSON): 2 is float64(2); `gt 2.0 1` fails in Go.
    expect(() => run('{{ gt .n 1 }}', { n: 2 }, goAndSprigFuncs)).toThrow(/incompatible types for comparison/);
    expect(run('{{ gt (int .n) 1 }} {{ .n }} {{ int .big }} {{ .big }}', { n: 2, big: 1e6 }, goAndSprigFuncs)).toBe('true 2 1000000 1e+06');
  });

  it('answers <no value> for a missing map key (missingkey=zero) and fails one level deeper', () => {
    expect(run('[{{ .a.missing }}]', { a: {} })).toBe('[<no value>]');
    expect(() => run('{{ .a.missing.deeper }}', { a: {} })).toThrow(/nil pointer evaluating interface \{\}\.deeper/);
  });

  it('keeps struct fields strict and calls methods with their arguments', () => {
    const dot = { Chart: new GoStruct('*chart.Metadata', { Name: 'c' }), Caps: new GoStruct('Capabilities', { Has: (v: unknown) => v === 'x/v1' }) };
    expect(run('{{ .Chart.Name }} {{ .Caps.Has "x/v1" }} {{ .Caps.Has "y/v1" }} {{ if .Caps.Has "x/v1" }}yes{{ end }}', dot)).toBe('c true false yes');
    expect(() => run('{{ .Chart.Nope }}', dot)).toThrow(/can't evaluate field Nope in type \*chart\.Metadata/);
  });

  it('checks argument types as reflect does', () => {
    expect(() => run('{{ trunc "3" "abc" }}', {}, goAndSprigFuncs)).toThrow(/expected int; got string/);
    expect(() => run('{{ b64enc .n }}', { n: 1 }, goAndSprigFuncs)).toThrow(/expected string; got float64/);
    expect(() => run('{{ trimSuffix "-" .nil }}', { nil: null }, goAndSprigFuncs)).toThrow(/invalid value; expected string/);
  });
});

describe('Sprig functions (Masterminds/sprig v3)', () => {
  const s = (src: string, d: unknown = {}) => run(src, d, goAndSprigFuncs);

  it('default and empty (defaults.go): zero values, empty strings, lists and maps are unset', () => {
    expect(
      s(
        '{{ default "d" "" }} {{ default "d" .f }} {{ default "d" 0 }} {{ default "d" .l }} {{ default "d" .m }} {{ default "d" "v" }} {{ "" | default "p" }}',
        { f: false, l: [], m: {} },
      ),
    ).toBe('d d d d d v p');
    expect(s('{{ empty .z }} {{ empty 0.0 }} {{ empty "x" }}', { z: null })).toBe('true true false');
  });

  it('strings.go: trunc on bytes, trimSuffix, quote, indent and nindent, replace, contains', () => {
    expect(s('{{ trunc 3 "abcdef" }}|{{ trunc -2 "abcdef" }}|{{ trunc 9 "ab" }}')).toBe('abc|ef|ab');
    expect(s('{{ "name-" | trimSuffix "-" }}|{{ trimPrefix "x" "xy" }}')).toBe('name|y');
    expect(s('{{ quote "a\\"b" 1 .n .z }}|{{ squote "a" }}', { n: 1.5, z: null })).toBe('"a\\"b" "1" "1.5"|\'a\'');
    expect(s('{{ "a\\nb" | indent 2 }}|{{ "a\\nb" | nindent 2 }}')).toBe('  a\n  b|\n  a\n  b');
    expect(s('{{ replace "+" "_" "1.0+x" }} {{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }}')).toBe('1.0_x true true');
  });

  it('dict.go and list.go: dict, set, get, hasKey, keys, has, merge', () => {
    expect(
      s(
        '{{ $d := dict "b" 1 "a" "x" }}{{ $_ := set $d "c" true }}{{ $d }} {{ get $d "a" }} [{{ get $d "zz" }}] {{ hasKey $d "c" }} {{ keys $d | sortAlpha | join "," }}',
      ),
    ).toBe('map[a:x b:1 c:true] x [] true a,b,c');
    expect(s('{{ has "b" .l }} {{ has "z" .l }} {{ list 1 "a" }}', { l: ['a', 'b'] })).toBe('true false [1 a]');
    expect(s('{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}')).toBe('map[a:1 b:3 n:map[x:1 y:2]]');
    expect(s('{{ mergeOverwrite (dict "a" 1) (dict "a" 2 "b" 3) }}')).toBe('map[a:2 b:3]');
  });

  it('numeric.go and reflect.go: int, kindIs, kindOf', () => {
    expect(s('{{ int "12" }} {{ int 3.9 }} {{ int .z }} {{ add 1 2 3 }}', { z: null })).toBe('12 3 0 6');
    expect(s('{{ kindIs "string" "x" }} {{ kindOf .n }} {{ kindOf .m }} {{ kindOf .l }} {{ kindOf 1 }}', { n: 1, m: {}, l: [] })).toBe(
      'true float64 map slice int',
    );
  });

  it('crypto.go and encoding: sha256sum and b64enc', () => {
    expect(s('{{ sha256sum "" }}')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(s('{{ b64enc "client-1" }}')).toBe('Y2xpZW50LTE=');
  });

  it('fail stops rendering with its message', () => {
    expect(() => s('{{ fail "no good" }}')).toThrow(/error calling fail: no good/);
  });
});

describe('Helm functions (pkg/engine)', () => {
  const helm = (src: string, d: unknown, lintMode = false) => {
    const set: TemplateSet = new TemplateSet(helmFuncs({ include: (n, x) => set.execute(n, x), tpl: () => '', lintMode }));
    set.add('h', src);
    return set.execute('h', d);
  };

  it("toYaml: keys sorted, lists at their key's indentation, no trailing newline, YAML 1.1 booleans quoted", () => {
    // go-yaml v2 resolves y/n/yes/no/on/off as booleans, so it quotes them as strings and keys.
    expect(toYaml({ b: [1, 'x'], a: { z: true, y: null }, n: 3n, f: 1.5, s: 'yes', e: {} })).toBe(
      'a:\n  "y": null\n  z: true\nb:\n- 1\n- x\ne: {}\nf: 1.5\n"n": 3\ns: "yes"',
    );
  });

  it('include renders a define into a string that pipes on', () => {
    expect(helm('{{ define "x" }}a: {{ .v }}\nb: 2{{ end }}k:{{ include "x" . | nindent 2 }}', { v: 1 })).toBe('k:\n  a: 1\n  b: 2');
  });

  it('required fails on nil and "", but not in lint mode', () => {
    expect(() => helm('{{ required "need x" .x }}', { x: '' })).toThrow(/need x/);
    expect(() => helm('{{ required "need x" .x }}', {})).toThrow(/need x/);
    expect(helm('[{{ required "need x" .x }}]', {}, true)).toBe('[]');
    expect(helm('{{ required "need x" .x }}', { x: false })).toBe('false');
  });
});

describe('values (pkg/cli/values mergeMaps, pkg/chartutil coalesce)', () => {
  it("merges the user's maps into the chart's key by key: a default entry reaches every user", () => {
    const chart = { policies: { 'default.yaml': 'x' }, list: [1, 2], n: 1, keep: { a: 1 } };
    const v = coalesceValues(chart, { policies: { 'mine.yaml': 'y' }, list: [3] });
    expect(v).toEqual({ policies: { 'default.yaml': 'x', 'mine.yaml': 'y' }, list: [3], n: 1, keep: { a: 1 } });
  });

  it('removes a chart key the user sets to null, at any depth', () => {
    expect(coalesceValues({ a: { b: 1, c: 2 }, d: 3 }, { a: { b: null }, d: null })).toEqual({ a: { c: 2 } });
  });

  it('merges several values files, later ones winning', () => {
    expect(mergeMaps({ a: { x: 1, y: 1 }, l: [1] }, { a: { y: 2 }, l: [2] })).toEqual({ a: { x: 1, y: 2 }, l: [2] });
  });
});
