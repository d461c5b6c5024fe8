// Keeps a child process running, as the kubelet keeps a pod's container running: an unexpected exit is reported at
// once (which process, how it ended, the end of its log) and the process is started again after an exponential
// back-off, capped. A process that keeps dying is reported as crash-looping (kubectl's CrashLoopBackOff) and still
// retried at the capped pace; one that stays up long enough starts afresh with the shortest back-off. A start that
// fails (e.g. never ready) counts as a death. stop() ends it all, also while a restart waits or is under way.

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One run of the process. */
export interface Incarnation {
  readonly pid: number;
  /** Settles when the process has exited, however. */
  readonly exit: Promise<Exit>;
  /** Stops it (a no-op once exited) and releases what its start took (watchdog, ports held). */
  readonly stop: () => Promise<void>;
}

export interface Backoff {
  /** The wait before the first restart. Default 1 s. */
  readonly initialMs: number;
  /** The cap of the doubling waits. Default 60 s. */
  readonly maxMs: number;
  /** A run this long counts as a recovery: the next death waits initialMs again. Default 2 min. */
  readonly stableAfterMs: number;
  /** Deaths in a row (without a stable run) from which the process is reported as crash-looping. Default 3. */
  readonly crashLoopAfter: number;
}

export const DEFAULT_BACKOFF: Backoff = {
  initialMs: 1000,
  maxMs: 60_000,
  stableAfterMs: 120_000,
  crashLoopAfter: 3,
};

export type SupervisorEvent =
  | {
      readonly kind: 'exited';
      readonly name: string;
      readonly pid: number;
      readonly exit: Exit;
      /** The last lines of its log. */
      readonly log: string;
      readonly restartInMs: number;
      /** Deaths in a row, this one included. */
      readonly failures: number;
      readonly crashLooping: boolean;
    }
  | {
      readonly kind: 'start-failed';
      readonly name: string;
      readonly error: string;
      readonly restartInMs: number;
      readonly failures: number;
      readonly crashLooping: boolean;
    }
  | { readonly kind: 'restarted'; readonly name: string; readonly pid: number; readonly restarts: number };

export type SupervisedState = 'running' | 'waiting' | 'starting' | 'stopped';

export interface Supervised<P extends Incarnation> {
  readonly name: string;
  /** The running process, if there is one. */
  readonly current: () => P | undefined;
  readonly state: () => SupervisedState;
  /** Restarts so far (successful starts after the first). */
  readonly restarts: () => number;
  readonly crashLooping: () => boolean;
  readonly stop: () => Promise<void>;
}

export interface SuperviseOptions<P extends Incarnation> {
  readonly name: string;
  /** Starts one run; resolves once it is ready. Gets a signal that aborts it when the supervisor stops. */
  readonly start: (signal: AbortSignal) => Promise<P>;
  /** The last lines of the process's log, for the report of its death. */
  readonly log: (p: P) => string;
  readonly onEvent: (e: SupervisorEvent) => void;
  readonly backoff?: Partial<Backoff>;
}

/** The wait before the next start after `failures` deaths in a row (1 for the first). */
export const backoffFor = (b: Backoff, failures: number): number =>
  Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, failures - 1));

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Starts the process (the first start's failure is thrown) and keeps it running until stop(). */
export const supervise = async <P extends Incarnation>(o: SuperviseOptions<P>): Promise<Supervised<P>> => {
  const b: Backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
  const stopping = new AbortController();
  const stopped = (): boolean => stopping.signal.aborted;
  let current: P | undefined;
  let state: SupervisedState = 'starting';
  let restarts = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  // The start under way (a restart's), awaited by stop().
  let starting: Promise<void> | undefined;

  const watch = (p: P): void => {
    const since = Date.now();
    void p.exit.then(async (exit) => {
      if (stopped() || current !== p) return;
      current = undefined;
      await p.stop().catch(() => undefined); // releases its watchdog and anything its start held
      if (stopped()) return;
      failures = Date.now() - since >= b.stableAfterMs ? 1 : failures + 1;
      const restartInMs = backoffFor(b, failures);
      o.onEvent({
        kind: 'exited',
        name: o.name,
        pid: p.pid,
        exit,
        log: o.log(p),
        restartInMs,
        failures,
        crashLooping: failures >= b.crashLoopAfter,
      });
      later(restartInMs);
    });
  };

  const later = (ms: number): void => {
    state = 'waiting';
    timer = setTimeout(() => {
      timer = undefined;
      starting = restart().finally(() => {
        starting = undefined;
      });
    }, ms);
  };

  const restart = async (): Promise<void> => {
    state = 'starting';
    let p: P;
    try {
      p = await o.start(stopping.signal);
    } catch (e) {
      if (stopped()) return;
      failures += 1;
      const restartInMs = backoffFor(b, failures);
      o.onEvent({
        kind: 'start-failed',
        name: o.name,
        error: message(e),
        restartInMs,
        failures,
        crashLooping: failures >= b.crashLoopAfter,
      });
      later(restartInMs);
      return;
    }
    if (stopped()) {
      await p.stop();
      return;
    }
    restarts += 1;
    current = p;
    state = 'running';
    watch(p);
    o.onEvent({ kind: 'restarted', name: o.name, pid: p.pid, restarts });
  };

  current = await o.start(stopping.signal);
  state = 'running';
  watch(current);

  return {
    name: o.name,
    current: () => current,
    state: () => state,
    restarts: () => restarts,
    // As kubectl says CrashLoopBackOff: while it waits for (or is in) the next start after repeated deaths.
    crashLooping: () => failures >= b.crashLoopAfter && (state === 'waiting' || state === 'starting'),
    stop: async () => {
      stopping.abort();
      if (timer !== undefined) clearTimeout(timer);
      await starting;
      const p = current;
      current = undefined;
      state = 'stopped';
      await p?.stop();
    },
  };
};

const seconds = (ms: number): string => {
  const s = ms / 1000;
  return s < 10 ? `${String(Math.round(s * 10) / 10)} s` : `${String(Math.round(s))} s`;
};

/** How a process ended, as a person would say it. */
export const describeExit = (e: Exit): string =>
  e.signal !== null ? `killed by ${e.signal}` : `exit code ${String(e.code ?? '?')}`;

/** The transcript's lines for a supervisor event (the log's last lines indented under the first). */
export const describeEvent = (e: SupervisorEvent, logLines = 5): string => {
  const name = e.name.replace(/^quay-bridge-/, '');
  const loop = (crashLooping: boolean, failures: number): string =>
    crashLooping ? `crash-looping (CrashLoopBackOff, ${String(failures)} deaths in a row); ` : '';
  switch (e.kind) {
    case 'exited': {
      const tail = e.log
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-logLines)
        .map((l) => `    | ${l.length > 240 ? `${l.slice(0, 240)}…` : l}`);
      return [
        `!! ${name} (pid ${String(e.pid)}) exited unexpectedly: ${describeExit(e.exit)}; ${loop(e.crashLooping, e.failures)}restarting in ${seconds(e.restartInMs)}.${tail.length > 0 ? ' Last lines of its log:' : ''}`,
        ...tail,
      ].join('\n');
    }
    case 'start-failed': {
      const first = e.error.split('\n')[0] ?? '';
      return `!! ${name} did not start again: ${first}; ${loop(e.crashLooping, e.failures)}next try in ${seconds(e.restartInMs)}.`;
    }
    case 'restarted':
      return `!! ${name} restarted (pid ${String(e.pid)}, restart ${String(e.restarts)}).`;
  }
};
