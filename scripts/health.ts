// The transcript's health summary: one line, every minute and on demand, so a person watching knows the bridge is
// alive. Kept in this one function so that other figures (events, Quay calls) join the same line.
import type { ProcessHealth } from '../test/event-path/stack.js';

export interface Health {
  readonly processes: readonly ProcessHealth[];
  /** Events the steps handled (one log line each) since the start. */
  readonly handled: number;
  /** Of those, the ones that failed or were rejected. */
  readonly errors: number;
  /** Events the broker stand-in gave up on. */
  readonly deadLetters: number;
  /** Against a cluster: whether its last check failed. */
  readonly clusterLost?: boolean;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${String(n)} ${n === 1 ? one : many}`;

export const summaryLine = (h: Health, at: Date = new Date()): string => {
  const up = h.processes.filter((p) => p.state === 'running').length;
  const restarts = h.processes.reduce((n, p) => n + p.restarts, 0);
  const looping = h.processes.filter((p) => p.crashLooping).map((p) => p.name.replace(/^quay-bridge-/, ''));
  const down = h.processes
    .filter((p) => p.state !== 'running' && !p.crashLooping)
    .map((p) => p.name.replace(/^quay-bridge-/, ''));
  return [
    `health ${at.toISOString().slice(11, 19)}: ${String(up)}/${String(h.processes.length)} processes up`,
    `${plural(restarts, 'restart')}${looping.length > 0 ? ` (crash-looping: ${looping.join(', ')})` : ''}${down.length > 0 ? ` (restarting: ${down.join(', ')})` : ''}`,
    `${plural(h.handled, 'event')} handled`,
    plural(h.errors, 'error'),
    plural(h.deadLetters, 'dead letter'),
    ...(h.clusterLost === true ? ['cluster unreachable'] : []),
  ].join(', ');
};
