import { expect } from 'chai';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import { memoryLogger } from '../../../../shared/log.js';
import { deadLetterStep } from '../../../../functions/dead-letter/handle.js';

describe('dead-letter step', () => {
  it('logs what failed and where at error level, and acknowledges with 204', async () => {
    const log = memoryLogger();
    const handle = makeHandler(deadLetterStep, () => Promise.resolve({ log }));
    const answer = await handle({
      cloudevent: {
        id: 'e1',
        type: 'dev.knative.apiserver.resource.update',
        source: 'https://127.0.0.1:6443',
        subject: '/apis/v1/namespaces/team-a/serviceaccounts/builder',
        knativeerrordest: 'http://quay-bridge-service-account.quay-bridge.svc.cluster.local',
        knativeerrorcode: '422',
        knativeerrordata: Buffer.from('the ServiceAccount in the event does not decode').toString('base64'),
      },
    });
    expect(answer.statusCode).to.equal(204);
    const logged = log.lines.find((l) => l.msg === 'dead-lettered event');
    expect(logged).to.include({
      level: 'error',
      destination: 'http://quay-bridge-service-account.quay-bridge.svc.cluster.local',
      status: '422',
      answer: 'the ServiceAccount in the event does not decode',
      subject: '/apis/v1/namespaces/team-a/serviceaccounts/builder',
    });
  });

  it('acknowledges even something that is not a CloudEvent (it has nowhere further to go)', async () => {
    const log = memoryLogger();
    const answer = await makeHandler(deadLetterStep, () => Promise.resolve({ log }))({
      cloudevent: 'garbage',
    });
    expect(answer.statusCode).to.equal(204);
    expect(log.lines.some((l) => l.msg === 'dead-lettered event')).to.be.true;
  });
});
