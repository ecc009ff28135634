import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.ts';

/** A parsed YAML file that can say where a key path sits, for `file:line:col` errors. */
export class YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;
  readonly parseIssues: ConfigIssue[];

  constructor(file: string, text: string) {
    this.file = file;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    this.parseIssues = this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      return { file, line: pos.line, col: pos.col, path: '', message: `invalid YAML: ${e.message.split('\n')[0]}` };
    });
  }

  /** The plain value; a document that parses but cannot be resolved (an alias to a
   * missing anchor, say) is a ConfigError too. */
  toJS(): unknown {
    try {
      return this.doc.toJS();
    } catch (err) {
      throw new ConfigError([{ file: this.file, line: 1, col: 1, path: '', message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }], {
        cause: err,
      });
    }
  }

  /** Position of the value at `path`, or of the key itself when `key` is true; falls
   * back to the nearest ancestor that exists. */
  position(path: ReadonlyArray<string | number>, key = false): { line?: number; col?: number } {
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      if (key && n === path.length && n > 0) {
        const parent = prefix.length > 1 ? this.doc.getIn(prefix.slice(0, -1), true) : this.doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(prefix[prefix.length - 1]));
          const range = (pair?.key as Node | undefined)?.range;
          if (range) return this.lines.linePos(range[0]);
        }
        continue;
      }
      const node = (prefix.length === 0 ? this.doc.contents : this.doc.getIn(prefix, true)) as Node | null | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return this.lines.linePos(node.range[0]);
    }
    return {};
  }

  issue(path: ReadonlyArray<string | number>, message: string, key = false): ConfigIssue {
    return { file: this.file, ...this.position(path, key), path: path.join('.'), message };
  }
}
