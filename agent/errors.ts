/** Base class: every error the agent raises on purpose carries a stable code. */
export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem in a config or policy file, positioned for `file:line:col: path: reason`. */
export interface ConfigIssue {
  file: string;
  line?: number;
  col?: number;
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Issues in reading order: by file, then line and column. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0)));
}

export class ConfigError extends AgentError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    const sorted = sortIssues(issues);
    super('config_invalid', sorted.map(formatIssue).join('\n'), options);
    this.issues = sorted;
  }
}
