import { expect } from 'chai';
import { reachStep } from '../../../scripts/reachability.js';

const server = 'https://api.example:6443';

describe('npm start against a cluster: lost and regained', () => {
  it('says nothing while the cluster answers', () => {
    expect(reachStep(server, undefined, undefined, 1000)).to.deep.equal({ next: undefined, regained: false });
  });

  it('says once when the cluster is lost, and keeps when that was', () => {
    const lost = reachStep(server, undefined, 'connect ECONNREFUSED', 1000);
    expect(lost).to.deep.equal({
      next: { lostAt: 1000, error: 'connect ECONNREFUSED' },
      regained: false,
      line: `!! lost the cluster ${server}: connect ECONNREFUSED. Still running; events wait in the broker's retries.`,
    });
    expect(reachStep(server, lost.next, 'HTTP 401 (credentials refused)', 6000)).to.deep.equal({
      next: lost.next,
      regained: false,
    });
  });

  it('says when it is back, after how long, and that a resync starts', () => {
    expect(reachStep(server, { lostAt: 1000, error: 'x' }, undefined, 21_400)).to.deep.equal({
      next: undefined,
      regained: true,
      line: `!! regained the cluster ${server} after 20 s; resync started.`,
    });
  });
});
