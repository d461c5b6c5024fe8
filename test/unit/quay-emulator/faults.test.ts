import { expect } from 'chai';
import { Faults, type FaultDecision } from '../../quay-emulator/faults.js';

describe('Quay emulator faults', () => {
  it('gives the forced faults first, in order, and counts them, then draws from the rates', () => {
    const faults = new Faults(7);
    faults.forced = ['drop', 'timeout', 'rate-limit', 'server-error'];
    const decided: FaultDecision[] = [];
    for (let i = 0; i < 6; i++) decided.push(faults.decide());
    // No rates set: once the forced ones are given, nothing more is injected.
    expect(decided).to.deep.equal(['drop', 'timeout', 'rate-limit', 'server-error', 'none', 'none']);
    expect(faults.injected).to.deep.equal({ drop: 1, timeout: 1, 'rate-limit': 1, 'server-error': 1 });
  });

  it('draws the same faults for the same seed', () => {
    const draw = (): FaultDecision[] => {
      const faults = new Faults(1);
      faults.errorRate5xx = 0.5;
      return Array.from({ length: 20 }, () => faults.decide());
    };
    const first = draw();
    expect(first).to.include('server-error').and.to.include('none');
    expect(draw()).to.deep.equal(first);
  });
});
