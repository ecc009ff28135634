import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandHelp, usage, type CommandName } from '../agent/cli-args.ts';
import { agentCli, tempAgent } from './helpers/cli.ts';

/*
 * The command line through the real binary: options belong to a command, each command has
 * its own --help, and an option the command does not know is a usage error (exit 2) rather
 * than something it ignores while it runs.
 */

/** A configuration whose policy would write dry-run files, so a command that ran shows it. */
function bootstrapAgent(): { dir: string; file: string } {
  return tempAgent(
    'agent:\n  state_dir: ./state\n  status: { enabled: false }\ndiode:\n  dry_run: true\npolicies:\n  - { name: pve-bootstrap, collector: pve, config: { BOOTSTRAP: true } }\n',
  );
}

const ranNothing = (dir: string) => expect(existsSync(join(dir, 'state'))).toBe(false);

describe('--help', () => {
  it.each(Object.keys(COMMANDS) as CommandName[])("%s --help prints that command's help and runs nothing", async (command) => {
    const { dir, file } = bootstrapAgent();
    const r = await agentCli([command, '--help', '-c', file]);
    expect(r).toEqual({ code: 0, stdout: commandHelp(command), stderr: '' });
    ranNothing(dir);
  });

  it('once --help names every option of once, and the configuration search order', async () => {
    const r = await agentCli(['once', '-h']);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .split('\n')
        .filter((l) => /^ {2}(-\w, )? *--/.test(l))
        .map((l) => l.trim().split(/\s{2,}/)[0]),
    ).toEqual(['-c, --config FILE', '--policy NAME', '--dry-run', '--dry-run-dir DIR', '-q, --quiet', '-h, --help']);
    expect(r.stdout).toContain('\nWithout -c: $DIODE_AGENT_CONFIG, then ./agent.yaml, then /etc/diode-agent/agent.yaml.\n');
  });

  it('diode-agent, --help and help list the commands; help COMMAND is COMMAND --help', async () => {
    for (const args of [[], ['--help'], ['help']]) expect(await agentCli(args)).toEqual({ code: 0, stdout: usage(), stderr: '' });
    expect(await agentCli(['help', 'replay'])).toEqual({ code: 0, stdout: commandHelp('replay'), stderr: '' });
  });
});

describe('usage errors exit 2 and run nothing', () => {
  // $CFG stands for a valid agent.yaml whose policy would write files if it ran.
  const cases: Array<[string, string[], string]> = [
    [
      'a misspelt option (once --polcy)',
      ['once', '-c', '$CFG', '--polcy', 'pve-bootstrap'],
      'diode-agent once: unknown option --polcy; did you mean --policy?\nRun "diode-agent once --help" for its options.\n',
    ],
    [
      'an option of no command (schema --bogus)',
      ['schema', '--bogus'],
      'diode-agent schema: unknown option --bogus\nRun "diode-agent schema --help" for its options.\n',
    ],
    [
      'an option of another command (run --policy)',
      ['run', '-c', '$CFG', '--policy', 'pve-bootstrap'],
      'diode-agent run: unknown option --policy\nRun "diode-agent run --help" for its options.\n',
    ],
    ['an unknown short option', ['run', '-c', '$CFG', '-x'], 'diode-agent run: unknown option -x\nRun "diode-agent run --help" for its options.\n'],
    [
      '-c without its file (validate -c)',
      ['validate', '-c'],
      'diode-agent validate: option -c, --config needs a FILE\nRun "diode-agent validate --help" for its options.\n',
    ],
    [
      '-c followed by an option',
      ['once', '-c', '--dry-run'],
      'diode-agent once: option -c, --config needs a FILE\nRun "diode-agent once --help" for its options.\n',
    ],
    [
      'a value on a flag',
      ['once', '-c', '$CFG', '--dry-run=yes'],
      'diode-agent once: option --dry-run takes no value\nRun "diode-agent once --help" for its options.\n',
    ],
    [
      'a stray argument',
      ['once', '-c', '$CFG', 'pve-bootstrap'],
      'diode-agent once: unexpected argument "pve-bootstrap"\nRun "diode-agent once --help" for its options.\n',
    ],
    ['replay without its directory', ['replay', '-c', '$CFG'], 'diode-agent replay: missing DIR\nRun "diode-agent replay --help" for its options.\n'],
    ['a misspelt command', ['onse', '-c', '$CFG'], 'diode-agent: unknown command "onse"; did you mean "once"?\nRun "diode-agent --help" for the commands.\n'],
    [
      'an option before the command',
      ['-c', '$CFG', 'once'],
      'diode-agent: the command comes first, then its options (got "-c")\nRun "diode-agent --help" for the commands.\n',
    ],
  ];
  it.each(cases)('%s', async (_name, args, stderr) => {
    const { dir, file } = bootstrapAgent();
    const r = await agentCli(args.map((a) => (a === '$CFG' ? file : a)));
    expect(r).toEqual({ code: 2, stdout: '', stderr });
    ranNothing(dir);
  });
});

describe('the configuration search', () => {
  it.skipIf(existsSync('/etc/diode-agent/agent.yaml'))('names every place it looked when there is no agent.yaml', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'no-config-'));
    for (const command of ['validate', 'once', 'run']) {
      expect(await agentCli([command], { cwd })).toEqual({
        code: 2,
        stdout: '',
        stderr: `diode-agent ${command}: no configuration found: no -c FILE, $DIODE_AGENT_CONFIG is not set, and neither ${cwd}/agent.yaml nor /etc/diode-agent/agent.yaml exists; give one with -c FILE or DIODE_AGENT_CONFIG\n`,
      });
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('reads ./agent.yaml, and $DIODE_AGENT_CONFIG before it', async () => {
    const { dir } = bootstrapAgent();
    expect(await agentCli(['validate'], { cwd: dir })).toEqual({ code: 0, stdout: 'agent.yaml: OK (1 policy: pve-bootstrap)\n', stderr: '' });
    const other = tempAgent('diode:\n  dry_run: true\npolicies:\n  - { name: other, collector: pve, config: { BOOTSTRAP: true } }\n');
    expect(await agentCli(['validate'], { cwd: dir, env: { DIODE_AGENT_CONFIG: other.file } })).toEqual({
      code: 0,
      stdout: `${other.file}: OK (1 policy: other)\n`,
      stderr: '',
    });
  });
});

describe('the README', () => {
  it('lists every command with the synopsis its --help shows', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Commands\n'), readme.indexOf('## Running with Docker\n'));
    const listed = [...section.matchAll(/^\| `diode-agent ([^`]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual((Object.keys(COMMANDS) as CommandName[]).map((n) => COMMANDS[n].synopsis));
  });
});
