import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeSiteMapError, parseNodeSiteMap } from './proxmox-config.ts';

/** Calls `fn`; passes when it returns or throws NodeSiteMapError, fails on any other throw. */
function onlyTypedErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof NodeSiteMapError) return true;
    throw err;
  }
}

// The same inputs as parsers.test.ts gives the PVE parsers, plus text made of the map's own characters.
const pveish = fc.string({ unit: fc.constantFrom(...'abcdefvirto0123456789:=,;/. -_KMGTmedia=cdromsizenone'.split('')), maxLength: 60 });
const mapish = fc.string({ unit: fc.constantFrom(...'pve1:London,ams :,'.split('')), maxLength: 60 });
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), pveish, mapish);

describe('parseNodeSiteMap', () => {
  it('reads node:site pairs, tolerating spaces and a trailing comma', () => {
    expect(parseNodeSiteMap('pve1:London,pve2:Amsterdam')).toEqual({ pve1: 'London', pve2: 'Amsterdam' });
    expect(parseNodeSiteMap(' pve1 : London DC1 , pve2:AMS:2 ,')).toEqual({ pve1: 'London DC1', pve2: 'AMS:2' });
    expect(parseNodeSiteMap('')).toEqual({});
  });
  it('names the malformed pair', () => {
    expect(() => parseNodeSiteMap('pve1:London,pve2')).toThrow('NODE_SITE_MAP entry "pve2": expected <node>:<site>, e.g. "pve1:London"');
    expect(() => parseNodeSiteMap(':London')).toThrow('NODE_SITE_MAP entry ":London"');
    expect(() => parseNodeSiteMap('pve1:A,pve1:B')).toThrow('node "pve1" is listed twice');
  });
  it('round-trips any map of node and site names', () => {
    const name = fc.string({ unit: fc.constantFrom(...'abcxyz019-_. '.split('')), minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '');
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, name), { selector: ([n]) => n.trim(), maxLength: 8 }), (pairs) => {
        const text = pairs.map(([n, s]) => `${n}:${s}`).join(',');
        expect(parseNodeSiteMap(text)).toEqual(Object.fromEntries(pairs.map(([n, s]) => [n.trim(), s.trim()])));
      }),
    );
  });
  it('throws nothing but NodeSiteMapError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseNodeSiteMap(s))),
      { numRuns: 2000 },
    );
  });
});
