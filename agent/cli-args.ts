import { parseArgs as parseNodeArgs } from 'node:util';
import { didYouMean } from './config/issues.ts';
import { AGENT_VERSION } from './version.ts';

/*
 * The command line: one command, then that command's options. Node's util.parseArgs does
 * the tokenizing (short groups, `--x=v`, `--`); the checks on top of it are ours so that a
 * misspelt or misplaced option is an error naming the command, with a did-you-mean, rather
 * than something the command silently ignores.
 */

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's name in the help, e.g. FILE. */
  arg?: string;
  help: string;
}

interface CommandSpec {
  /** After "diode-agent <command>" in the usage line. */
  synopsis: string;
  /** One line for the list of commands. */
  summary: string;
  /** What the command does, for its --help. */
  about: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments the command takes, in order; all required. */
  positionals: string[];
}

export const CONFIG_SEARCH = 'Without -c: $DIODE_AGENT_CONFIG, then ./agent.yaml, then /etc/diode-agent/agent.yaml.';

const help: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };
const config: OptionSpec = { type: 'string', short: 'c', arg: 'FILE', help: 'the agent configuration (agent.yaml)' };
const dryRun: OptionSpec = { type: 'boolean', help: 'write the Diode requests as files instead of sending them' };
const dryRunDir: OptionSpec = {
  type: 'string',
  arg: 'DIR',
  help: 'where dry-run files go (implies --dry-run); default diode.dry_run_output_dir, else <agent.state_dir>/dry-run',
};

export const COMMANDS = {
  run: {
    summary: 'every policy on its schedule, until SIGTERM',
    synopsis: 'run [-c FILE] [--dry-run] [--dry-run-dir DIR]',
    about: [
      'Runs every policy on its schedule until SIGTERM or SIGINT (graceful, exit 0; a second',
      'signal exits at once). A scheduled policy also runs once as soon as it is scheduled',
      '(run_at_start). policies.dir is reloaded when it changes; with no valid policy the agent',
      'waits for one, /readyz not ready and /status listing the problems.',
    ].join('\n'),
    options: { config, 'dry-run': dryRun, 'dry-run-dir': dryRunDir, help },
    positionals: [],
  },
  once: {
    summary: 'each policy once, a summary, then exit',
    synopsis: 'once [-c FILE] [--policy NAME]... [--dry-run] [--dry-run-dir DIR] [-q]',
    about: [
      'Runs each enabled policy (or the named ones) once, one after the other, prints a summary',
      'on stdout and exits: 0 when every run succeeded or was partial, 1 when a run failed, a',
      'state was not saved or a policy file did not load, 2 for a usage or configuration error.',
      'Logs are JSON lines on stderr; on a terminal only warnings and errors unless LOG_LEVEL or',
      'agent.log_level says otherwise.',
    ].join('\n'),
    options: {
      config,
      policy: { type: 'string', multiple: true, arg: 'NAME', help: 'only this policy (repeatable)' },
      'dry-run': dryRun,
      'dry-run-dir': dryRunDir,
      quiet: { type: 'boolean', short: 'q', help: 'no log lines, only the summary (and usage or configuration errors)' },
      help,
    },
    positionals: [],
  },
  validate: {
    summary: 'check agent.yaml and every policy, all problems at once',
    synopsis: 'validate [-c FILE] [--dry-run] [--dry-run-dir DIR] [--live [--policy NAME]...]',
    about: [
      'Checks agent.yaml, $LOG_LEVEL, every policy and the directory the agent writes to (the',
      'state directory; with --dry-run or diode.dry_run the dry-run directory), and prints every',
      'problem at once as file:line:col: key.path: reason. Exit 0 when all is well, 1 otherwise.',
      "With --live it then reaches each policy's target and calls every endpoint its collector",
      'uses once, reporting per endpoint OK or the missing privilege, and asks Diode for a token.',
    ].join('\n'),
    options: {
      config,
      'dry-run': { type: 'boolean', help: 'check as for a dry run: the dry-run directory instead of the state directory' },
      'dry-run-dir': { ...dryRunDir, help: 'check this dry-run directory (implies --dry-run)' },
      live: { type: 'boolean', help: 'also reach every target and Diode: one call per endpoint, privileges named (agent/preflight)' },
      policy: { type: 'string', multiple: true, arg: 'NAME', help: 'with --live: only this policy (repeatable)' },
      help,
    },
    positionals: [],
  },
  replay: {
    summary: 'send dry-run files to Diode, in the order written',
    synopsis: 'replay DIR [-c FILE]',
    about: [
      'Sends the dry-run files of DIR to Diode in the order they were written, with the usual',
      'retries (air-gapped sites: collect with a dry run, carry the files, replay). Stops at the',
      'first request that fails.',
    ].join('\n'),
    options: { config, help },
    positionals: ['DIR'],
  },
  schema: {
    summary: 'JSON Schemas of policy files and agent.yaml',
    synopsis: 'schema [--agent] [--write]',
    about: 'Prints the JSON Schema of policy files (or of agent.yaml), as editors use it.',
    options: {
      agent: { type: 'boolean', help: 'the schema of agent.yaml instead of policy files' },
      write: { type: 'boolean', help: 'write both to policies/*.schema.json instead of printing' },
      help,
    },
    positionals: [],
  },
  version: { summary: 'the agent version', synopsis: 'version', about: 'Prints the agent version.', options: { help }, positionals: [] },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export interface CliArgs {
  command: CommandName;
  config?: string;
  policies: string[];
  dryRun: boolean;
  dryRunDir?: string;
  quiet: boolean;
  /** schema --agent / --write */
  agent: boolean;
  write: boolean;
  /** validate --live */
  live: boolean;
  positionals: string[];
}

/** What main does instead of a command: print help or a usage error. */
export type CliParse = { kind: 'command'; args: CliArgs } | { kind: 'help'; text: string } | { kind: 'usage-error'; text: string };

function optionLabel(name: string, spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.arg ? ` ${spec.arg}` : ''}`;
}

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const rows = Object.entries(spec.options).map(([n, o]) => [optionLabel(n, o), o.help] as const);
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = [`Usage: diode-agent ${spec.synopsis}`, '', spec.about, '', 'Options:', ...rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`)];
  if ('config' in spec.options) lines.push('', CONFIG_SEARCH);
  return `${lines.join('\n')}\n`;
}

export function usage(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  return [
    `diode-agent ${AGENT_VERSION}: Proxmox discovery for NetBox through Diode`,
    '',
    'Usage: diode-agent COMMAND [OPTIONS]',
    '',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`),
    '',
    '"diode-agent COMMAND --help" shows the options of a command.',
    CONFIG_SEARCH,
    '',
  ].join('\n');
}

function usageError(command: CommandName | undefined, message: string): CliParse {
  const more = command ? `Run "diode-agent ${command} --help" for its options.` : 'Run "diode-agent --help" for the commands.';
  return { kind: 'usage-error', text: `diode-agent${command ? ` ${command}` : ''}: ${message}\n${more}\n` };
}

/** Parses argv (without node and the script); never throws. */
export function parseCli(argv: readonly string[]): CliParse {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { kind: 'help', text: usage() };
  if (first === '--version') return parseCli(['version', ...rest]);
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { kind: 'help', text: usage() };
    return isCommand(topic) ? { kind: 'help', text: commandHelp(topic) } : usageError(undefined, `unknown command "${topic}"`);
  }
  if (!isCommand(first)) {
    const hint = first.startsWith('-') ? undefined : didYouMean(first, Object.keys(COMMANDS));
    return usageError(
      undefined,
      first.startsWith('-')
        ? `the command comes first, then its options (got "${first}")`
        : `unknown command "${first}"${hint ? `; did you mean "${hint}"?` : ''}`,
    );
  }
  const command = first;
  const spec: CommandSpec = COMMANDS[command];
  const nodeOptions = Object.fromEntries(
    Object.entries(spec.options).map(([n, o]) => [n, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let tokens;
  try {
    // Not strict: the tokens are checked below, with messages that name the command.
    tokens = parseNodeArgs({ args: [...rest], options: nodeOptions, strict: false, allowPositionals: true, tokens: true }).tokens;
  } catch (err) {
    return usageError(command, (err as Error).message);
  }
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'help', text: commandHelp(command) };
  const args: CliArgs = { command, policies: [], dryRun: false, quiet: false, agent: false, write: false, live: false, positionals: [] };
  const known = Object.keys(spec.options).map((n) => `--${n}`);
  for (const t of tokens) {
    if (t.kind === 'positional') {
      args.positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const o = spec.options[t.name];
    if (!o) {
      const hint = t.rawName.startsWith('--') ? didYouMean(t.rawName, known) : undefined;
      return usageError(command, `unknown option ${t.rawName}${hint ? `; did you mean ${hint}?` : ''}`);
    }
    const label = `${o.short ? `-${o.short}, ` : ''}--${t.name}`;
    if (o.type === 'boolean') {
      if (t.inlineValue) return usageError(command, `option ${label} takes no value`);
    } else if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) {
      // util.parseArgs takes the next argument as the value even when it is an option
      // (`validate -c --dry-run`): a value starting with "-" must be written --x=-value.
      return usageError(command, `option ${label} needs a ${o.arg ?? 'value'}`);
    } else if (t.value === '') {
      return usageError(command, `option ${label} needs a ${o.arg ?? 'value'} (got an empty one)`);
    }
    const v = t.value ?? '';
    switch (t.name) {
      case 'config':
        args.config = v;
        break;
      case 'policy':
        args.policies.push(v);
        break;
      case 'dry-run':
        args.dryRun = true;
        break;
      case 'dry-run-dir':
        args.dryRunDir = v;
        args.dryRun = true;
        break;
      case 'quiet':
        args.quiet = true;
        break;
      case 'agent':
        args.agent = true;
        break;
      case 'write':
        args.write = true;
        break;
      case 'live':
        args.live = true;
        break;
    }
  }
  if (args.positionals.length < spec.positionals.length) {
    return usageError(command, `missing ${spec.positionals.slice(args.positionals.length).join(' ')}`);
  }
  if (args.positionals.length > spec.positionals.length) {
    const extra = args.positionals.slice(spec.positionals.length);
    return usageError(command, `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((e) => `"${e}"`).join(' ')}`);
  }
  return { kind: 'command', args };
}
