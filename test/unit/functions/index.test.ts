import { expect } from 'chai';
import { isStepName, loadHandler } from '../../../functions/index.js';

describe('function entry (QUAY_BRIDGE_STEP)', () => {
  it('knows the sync steps', () => {
    for (const s of ['namespace', 'service-account', 'image-stream', 'resync', 'build'])
      expect(isStepName(s), s).to.equal(true);
    for (const s of [undefined, '', 'toString', 'webhook']) expect(isStepName(s), String(s)).to.equal(false);
  });

  it('fails the start, naming the choices, for an unknown step', async () => {
    let message = '';
    try {
      await loadHandler('nope');
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    expect(message).to.equal(
      'QUAY_BRIDGE_STEP must be one of namespace, service-account, image-stream, resync, build, dead-letter, not "nope"',
    );
  });
});
