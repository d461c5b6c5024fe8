// A controller-style work queue: one reconcile per key at a time, events for a key that is being reconciled
// coalesce into one more run, and a failed reconcile is retried with a per-key exponential backoff. Keys are
// hints ("look at this object again"), so the reconcile always re-reads the world.

export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles per consecutive failure of the key. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Told about every failed reconcile (it is retried regardless). */
  readonly onError: (key: string, error: unknown) => void;
}

interface KeyState {
  running: boolean;
  dirty: boolean;
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

export class WorkQueue {
  private readonly keys = new Map<string, KeyState>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly reconcile: (key: string) => Promise<void>,
    private readonly opts: WorkQueueOptions,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    const state = this.stateOf(key);
    if (state.timer !== undefined) {
      // An event beats a scheduled retry: run now.
      clearTimeout(state.timer);
      state.timer = undefined;
    }
    if (state.running) {
      state.dirty = true;
      return;
    }
    this.run(key, state);
  }

  /** Stops taking work, cancels retries and waits for running reconciles to return. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.keys.values()) if (s.timer !== undefined) clearTimeout(s.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when no reconcile is running or waiting for a retry (for tests of the queue itself). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      else if ([...this.keys.values()].some((s) => s.timer !== undefined))
        await new Promise((r) => setTimeout(r, 5));
      else return;
    }
  }

  private stateOf(key: string): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      state = { running: false, dirty: false, failures: 0, timer: undefined };
      this.keys.set(key, state);
    }
    return state;
  }

  private run(key: string, state: KeyState): void {
    state.running = true;
    state.dirty = false;
    const p = this.reconcile(key).then(
      () => {
        state.failures = 0;
      },
      (e: unknown) => {
        if (this.stopped) return;
        state.failures += 1;
        this.opts.onError(key, e);
        const base = this.opts.retryBaseMs ?? 50;
        const delay = Math.min(base * 2 ** (state.failures - 1), this.opts.retryMaxMs ?? 2_000);
        state.timer = setTimeout(() => {
          state.timer = undefined;
          this.add(key);
        }, delay);
      },
    );
    const tracked = p.finally(() => {
      this.inFlight.delete(tracked);
      state.running = false;
      if (state.dirty && !this.stopped) {
        if (state.timer !== undefined) clearTimeout(state.timer);
        state.timer = undefined;
        this.run(key, state);
      } else if (state.timer === undefined && state.failures === 0) this.keys.delete(key);
    });
    this.inFlight.add(tracked);
  }
}
