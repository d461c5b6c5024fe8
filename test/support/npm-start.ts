// `npm start` as its own process, as a user runs it from a terminal: in a process group of its own (so that Ctrl-C
// can be sent as a terminal sends it, to the whole group), its transcript collected, a watchdog that kills the group
// if the test process dies first. One place for what every `npm start` test needs (test/integration/e2e/start-*).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../harness/index.js';
import { armWatchdog, processesMentioning } from '../harness/processes.js';
import { eventually } from '../openshift-standin/wait.js';

export interface StartOptions {
  /** Arguments after `npm start --` (e.g. `--cluster`, `--quay <url>`). */
  readonly args?: readonly string[];
  /** The KUBECONFIG it sees; a path that does not exist means "no cluster of one's own". */
  readonly kubeconfig?: string;
  /** `npm` runs it through npm (`npm start --silent`), as users do; `node` runs scripts/start.ts directly. */
  readonly via?: 'npm' | 'node';
  /** How long `until` waits by default. */
  readonly waitMs?: number;
}

export interface NpmStart {
  readonly child: ChildProcess;
  readonly via: 'npm' | 'node';
  /** Everything printed so far, stdout and stderr interleaved. */
  readonly output: () => string;
  /** The exit signal's name or the exit code, once every process holding its output has ended. */
  readonly closed: Promise<string>;
  /** Waits until `probe` answers; on time-out the error carries the transcript. */
  readonly until: <T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs?: number,
  ) => Promise<T>;
  /** Waits for a line of the transcript matching `re` after position `from`; its match. */
  readonly printed: (what: string, re: RegExp, from?: number) => Promise<RegExpExecArray>;
  /** The first group of `re` in the transcript, or an error saying what was not printed. */
  readonly field: (re: RegExp, what: string) => string;
  /** Ctrl-C to the whole group; answers `closed`. */
  readonly interrupt: () => Promise<string>;
  /** SIGKILL to the whole group if it still runs, and the watchdog disarmed: for `after` and `finally`. */
  readonly kill: () => void;
}

export const startNpmStart = (options: StartOptions = {}): NpmStart => {
  const args = options.args ?? [];
  const command =
    options.via === 'node'
      ? { file: process.execPath, argv: ['--import', 'tsx', join('scripts', 'start.ts'), ...args] }
      : { file: 'npm', argv: ['start', '--silent', ...(args.length > 0 ? ['--', ...args] : [])] };
  const child = spawn(command.file, command.argv, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      KUBECONFIG: options.kubeconfig ?? '/nonexistent/kubeconfig',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const disarm = armWatchdog([child.pid ?? 0]);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const closed = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => {
      resolve(signal ?? String(code));
    }),
  );
  const waitMs = options.waitMs ?? 180_000;
  const until = <T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs = waitMs,
  ): Promise<T> =>
    eventually(what, () => Promise.resolve(probe()), timeoutMs, 200).catch((e: unknown) => {
      throw new Error(`${String(e)}\nnpm start printed:\n${output}`);
    });
  const group = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // the group is gone already
    }
  };
  return {
    child,
    via: options.via ?? 'npm',
    output: () => output,
    closed,
    until,
    printed: (what, re, from = 0) => until(what, () => re.exec(output.slice(from)) ?? undefined),
    field: (re, what) => {
      const m = re.exec(output)?.[1];
      if (m === undefined) throw new Error(`npm start printed no ${what}:\n${output}`);
      return m;
    },
    interrupt: () => {
      group('SIGINT');
      return closed;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) group('SIGKILL');
      disarm();
    },
  };
};

/** What the embedded stack prints: the kubeconfig of its cluster, its Quay, the token, the log directory. */
export interface EmbeddedStack {
  readonly kubeconfig: string;
  readonly quay: string;
  readonly token: string;
  readonly logs: string;
  /** The control plane's directory (the kubeconfig's). */
  readonly cpDir: string;
}

export const embeddedStackOf = (s: NpmStart): EmbeddedStack => {
  const kubeconfig = s.field(/kubectl --kubeconfig (\S+) create namespace demo/, 'kubectl command');
  return {
    kubeconfig,
    quay: s.field(/Quay emulator\s+(http\S+)/, 'Quay URL'),
    token: s.field(/token: (\S+)/, 'token'),
    logs: s.field(/logs\s+(\/\S+)/, 'log directory'),
    cpDir: kubeconfig.replace(/\/[^/]+$/, ''),
  };
};

/**
 * Ctrl-C, then what a clean stop is: exit 0 (or, through npm, the SIGINT npm passes on), "Stopping... Stopped." as the last
 * lines, no process left that mentions any of `marks` (children of exited processes, e.g. tsx's esbuild service,
 * end within moments), and no directory of `removed` left.
 */
export const expectCleanStop = async (
  s: NpmStart,
  marks: readonly string[],
  removed: readonly string[] = [],
): Promise<void> => {
  // npm may itself end by the SIGINT it passes on; the bridge's own process exits 0.
  expect(await s.interrupt(), s.output()).to.be.oneOf(s.via === 'npm' ? ['0', 'SIGINT'] : ['0']);
  expect(s.output()).to.match(/\nStopping\.\.\.\nStopped\.\n$/);
  for (const mark of marks) {
    const left = await eventually(
      `every process of ${mark} to end`,
      () => Promise.resolve(processesMentioning(mark).length === 0 ? [] : undefined),
      10_000,
      200,
    ).catch(() => processesMentioning(mark));
    expect(left, `processes left behind (${mark})`).to.deep.equal([]);
  }
  for (const dir of removed) expect(existsSync(dir), `${dir} is removed`).to.equal(false);
};
