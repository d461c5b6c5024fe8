import { expect } from 'chai';
import { summaryLine } from '../../../scripts/health.js';
import type { ProcessHealth } from '../../../test/event-path/stack.js';

const running = (name: string, restarts = 0): ProcessHealth => ({
  name,
  pid: 1,
  state: 'running',
  restarts,
  crashLooping: false,
});
const at = new Date('2026-12-03T10:31:05Z');

describe('npm start: the health summary line', () => {
  it('counts processes up, restarts, events handled, errors and dead letters', () => {
    expect(
      summaryLine(
        {
          processes: [running('quay-bridge-namespace', 2), running('apiserver_receive_adapter quay-bridge')],
          handled: 12,
          errors: 1,
          deadLetters: 0,
        },
        at,
      ),
    ).to.equal('health 10:31:05: 2/2 processes up, 2 restarts, 12 events handled, 1 error, 0 dead letters');
  });

  it('names the processes crash-looping or being restarted, and a lost cluster', () => {
    expect(
      summaryLine(
        {
          processes: [
            {
              name: 'quay-bridge-namespace',
              pid: undefined,
              state: 'waiting',
              restarts: 3,
              crashLooping: true,
            },
            {
              name: 'quay-bridge-webhook',
              pid: undefined,
              state: 'starting',
              restarts: 0,
              crashLooping: false,
            },
            running('quay-bridge-build', 1),
          ],
          handled: 1,
          errors: 0,
          deadLetters: 1,
          clusterLost: true,
        },
        at,
      ),
    ).to.equal(
      'health 10:31:05: 1/3 processes up, 4 restarts (crash-looping: namespace) (restarting: webhook), 1 event handled, 0 errors, 1 dead letter, cluster unreachable',
    );
  });
});
