import { expect } from 'chai';
import { healthAnswer } from '../../../functions/build-webhook/server.js';

describe('build webhook: health port', () => {
  it('is live at once, and ready only once the settings have been read', () => {
    expect(healthAnswer('/healthz', false).status).to.equal(200);
    expect(healthAnswer('/readyz', false)).to.deep.equal({
      status: 503,
      body: 'the QuayIntegration has not been read yet\n',
    });
    expect(healthAnswer('/readyz', true).status).to.equal(200);
    expect(healthAnswer('/admissionwebhook', true).status).to.equal(404);
  });
});
