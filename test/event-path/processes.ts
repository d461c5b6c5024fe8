// Child processes of the event path (the receive adapter, the steps, the webhook), with an environment of their own
// and their output in a log file. They are stopped by the stack, and killed by the harness's watchdog if the test
// runner itself dies.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { armWatchdog, type Managed } from '../harness/processes.js';
import type { Exit } from './supervisor.js';

export interface Spawned extends Managed {
  /** Stops the watchdog of this process (call after it was stopped). */
  readonly disarm: () => void;
  /** Settles once the process has exited (or could not be started). */
  readonly exit: Promise<Exit>;
}

export const spawnLogged = (
  name: string,
  bin: string,
  args: readonly string[],
  logFile: string,
  options: { readonly env: Readonly<Record<string, string>>; readonly cwd?: string },
): Spawned => {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, {
    stdio: ['ignore', fd, fd],
    env: options.env,
    // Its own process group, like the harness's processes: stopped by the stack, not by the terminal's Ctrl-C.
    detached: true,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  closeSync(fd);
  let done = false;
  const exit = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.on('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  const disarm = armWatchdog([child.pid]);
  return { name, pid: child.pid, logFile, child, exited: () => done, disarm, exit };
};
