// Child processes of the harness: logged to files, stopped in order, and reaped by a watchdog even when the test
// runner itself is killed (a SIGKILLed parent runs no exit handler, so the watchdog is a separate process).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  exited(): boolean;
}

export const startProcess = (
  name: string,
  bin: string,
  args: readonly string[],
  logFile: string,
): Managed => {
  const fd = openSync(logFile, 'a');
  // Its own process group: a Ctrl-C in the terminal reaches only the parent, which stops everything in order (the
  // API server must outlive the processes that talk to it); the watchdog reaps it if the parent dies first.
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let done = false;
  child.on('exit', () => {
    done = true;
  });
  child.on('error', () => {
    done = true;
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  return { name, pid: child.pid, logFile, child, exited: () => done };
};

export const logTail = (m: Managed, lines = 30): string => {
  try {
    return readFileSync(m.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after the grace period. Resolves once the process has exited. */
export const stopProcess = async (m: Managed, graceMs = 5000): Promise<void> => {
  if (m.exited()) return;
  const exited = new Promise<void>((resolve) =>
    m.child.once('exit', () => {
      resolve();
    }),
  );
  m.child.kill('SIGTERM');
  const timer = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
};

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kills `pids` (and removes `dir`) when this Node process goes away, however it goes. Returns a disarm function. */
export const armWatchdog = (pids: readonly number[], dir?: string): (() => void) => {
  const cleanup = dir === undefined ? '' : `; sleep 0.5; rm -rf '${dir}'`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -9 ${pids.join(' ')} 2>/dev/null${cleanup}; exit 0`;
  const dog = spawn('bash', ['-c', script], { stdio: 'ignore', detached: true });
  dog.unref();
  const killSync = (): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killSync);
  return () => {
    process.removeListener('exit', killSync);
    if (dog.pid !== undefined) spawnSync('kill', ['-9', String(dog.pid)]);
  };
};

export { sleep };

/** Processes (other than this one) whose command line or environment contains `needle`, as "pid: command". */
export const processesMentioning = (needle: string): string[] => {
  const found: string[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x) && Number(x) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmdline.includes(needle) || readFileSync(`/proc/${d}/environ`, 'utf8').includes(needle))
        found.push(`${d}: ${cmdline.replaceAll('\0', ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
};
