import { expect } from 'chai';
import { build, review, send, sendReview } from './fixtures.js';

const statusOf = (body: object) => body as { kind: string; code: number; message: string };

describe('build webhook: malformed requests get a clear 400, never a crash', () => {
  it('answers 400 to a body that is not JSON', async () => {
    const a = await send('{"apiVersion": "admission.k8s.io/v1", ');
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).kind).to.equal('Status');
    expect(statusOf(a.body).code).to.equal(400);
    expect(statusOf(a.body).message).to.match(/^the body is not JSON: /);
    expect(a.log.lines[0]).to.deep.include({ level: 'warn', outcome: 'rejected' });
  });

  it('answers 400 naming the field to a v1beta1 AdmissionReview', async () => {
    const r = { ...review(build()), apiVersion: 'admission.k8s.io/v1beta1' };
    const a = await sendReview(r);
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).message).to.equal(
      'the body is not an admission.k8s.io/v1 AdmissionReview with a request (this webhook is registered with ' +
        'admissionReviewVersions [v1]): apiVersion: expected "admission.k8s.io/v1", got "admission.k8s.io/v1beta1"',
    );
  });

  it('answers 400 to a review without request.uid', async () => {
    const r = review(build());
    delete (r.request as Record<string, unknown>).uid;
    const a = await sendReview(r);
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).message).to.match(/request\.uid: expected .*, got nothing$/);
  });

  it('answers 400 to a review with an empty request.uid', async () => {
    const a = await sendReview(review(build(), { uid: '' }));
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).message).to.include('request.uid');
  });

  it('answers 400 to a review without a request at all', async () => {
    const a = await sendReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).message).to.match(/request: expected .*, got nothing$/);
  });

  it('answers 400 to JSON that is not an object', async () => {
    const a = await send('[1,2,3]');
    expect(a.status).to.equal(400);
    expect(statusOf(a.body).message).to.include('not an admission.k8s.io/v1 AdmissionReview');
  });

  it('answers 413 to a body larger than one Build review needs (2 MiB), and asks to close the connection', async () => {
    const huge = Buffer.alloc(2 * 1024 * 1024 + 1, 0x20);
    const a = await send(huge);
    expect(a.status).to.equal(413);
    expect(a.close).to.equal(true);
    expect(statusOf(a.body)).to.deep.include({
      code: 413,
      message: 'the request body exceeds the limit of 2097152 bytes',
    });
  });

  it('reads a review of a Build as large as etcd stores (1.5 MiB) to its end', async () => {
    const big = build({ annotations: { ballast: 'x'.repeat(1.5 * 1024 * 1024) } });
    expect((await sendReview(review(big))).status).to.equal(200);
  });

  it('answers 413 at once when Content-Length announces too much', async () => {
    const a = await send('{}', { declaredLength: 100, maxBodyBytes: 10 });
    expect(a.status).to.equal(413);
    expect(statusOf(a.body).message).to.equal('the request body of 100 bytes exceeds the limit of 10 bytes');
  });

  it('answers 404 elsewhere than /admissionwebhook, and 405 to a GET there', async () => {
    expect((await sendReview(review(build()), { url: '/mutate' })).status).to.equal(404);
    expect((await sendReview(review(build()), { method: 'GET' })).status).to.equal(405);
  });

  it('accepts a query string on the path, as the API server may send ?timeout=5s', async () => {
    const a = await sendReview(review(build()), { url: '/admissionwebhook?timeout=5s' });
    expect(a.status).to.equal(200);
  });
});
