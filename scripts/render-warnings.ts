/*
 * Renders each collector's warning catalog (CollectorDefinition.warnings) into its README's
 * "## Warnings" and all of them into the README's Troubleshooting, between BEGIN/END markers.
 * `npm run docs:warnings` rewrites the blocks; test/vocabulary.test.ts fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import type { WarningDoc } from '../agent/collectors/types.ts';

const ROOT = new URL('../', import.meta.url);
export const BEGIN = "<!-- BEGIN warnings: generated from the collectors' warnings.ts by `npm run docs:warnings` -->";
export const END = '<!-- END warnings -->';

const cell = (s: string): string => s.replaceAll('|', '\\|');

/** A collector's own table: code, subject, when, what is lost. */
export function renderCollectorWarnings(warnings: readonly WarningDoc[]): string {
  return [
    '| code | subject | when | what is lost |',
    '|---|---|---|---|',
    ...warnings.map((w) => `| \`${w.code}\` | ${cell(w.subject)} | ${cell(w.meaning)} | ${cell(w.lost)} |`),
  ].join('\n');
}

/** The Troubleshooting table: every collector's warnings, collector by collector as the registry lists them. */
export function renderTroubleshootingWarnings(): string {
  return [
    '| warning | collector | meaning | what the run goes on without |',
    '|---|---|---|---|',
    ...[...COLLECTORS.values()].flatMap((c) => c.warnings.map((w) => `| \`${w.code}\` | \`${c.id}\` | ${cell(w.meaning)} | ${cell(w.lost)} |`)),
  ].join('\n');
}

/** The block between the markers of `text`, or undefined when the markers are missing. */
export function generatedBlock(text: string): string | undefined {
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b < 0 || e < b) return undefined;
  return text
    .slice(b + BEGIN.length, e)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

function replaceBlock(text: string, body: string, file: string): string {
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${file}: no ${BEGIN} … ${END} block`);
  return `${text.slice(0, b + BEGIN.length)}\n${body}\n${text.slice(e)}`;
}

/** Each file the renderer writes, relative to the repository, with its block's content. */
export function renderedFiles(): Array<{ file: string; body: string }> {
  return [
    ...[...COLLECTORS.values()].map((c) => ({ file: `agent/collectors/${c.id}/README.md`, body: renderCollectorWarnings(c.warnings) })),
    { file: 'README.md', body: renderTroubleshootingWarnings() },
  ];
}

if (import.meta.main) {
  for (const { file, body } of renderedFiles()) {
    const url = new URL(file, ROOT);
    writeFileSync(url, replaceBlock(readFileSync(url, 'utf8'), body, file));
  }
}
