// Root hooks of the integration tier: whatever a test started of the shared control plane is stopped, and the
// run fails if a process or port of it survives.
import { stopSharedControlPlane } from '../harness/index.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopSharedControlPlane();
  },
};
