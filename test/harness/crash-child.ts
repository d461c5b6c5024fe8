// Started by the cleanup test: brings up a control plane, reports what it started, then dies the way it is told.
import { startControlPlane } from './control-plane.js';

const how = process.argv[2] ?? 'throw';
const cp = await startControlPlane({ controllerManager: how !== 'sigkill-fast' });
process.stdout.write(`${JSON.stringify({ pids: cp.pids, ports: cp.ports, dir: cp.dir })}\n`);
if (how === 'throw') {
  setTimeout(() => {
    throw new Error('a test failed without cleaning up');
  }, 50);
} else {
  setInterval(() => undefined, 1000); // wait to be killed
}
