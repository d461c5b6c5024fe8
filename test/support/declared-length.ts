// What a server answers to the headers of a request whose declared body is over its limit, the body never sent. A
// server that refuses by Content-Length answers at once; sending the body first (as fetch does) races its close of
// the unread connection, and the client may see a reset instead of the answer (EPIPE), whatever the server said.
// A server that waits for the body never answers here: that is reported as such, after `timeoutMs`.
import { connect } from 'node:net';

export interface Answer {
  readonly status: number;
  readonly body: string;
}

export const answerToDeclaredLength = (
  url: string,
  headers: Readonly<Record<string, string>>,
  length: number,
  timeoutMs = 30_000,
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const socket = connect(Number(u.port), u.hostname);
    let got = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => {
      fail(`no answer in ${timeoutMs} ms without the body (does the server wait for it?)`);
    }, timeoutMs);
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      f();
    };
    const fail = (why: string): void => {
      settle(() => {
        reject(new Error(`${url}, ${length} bytes declared: ${why}`));
      });
    };
    /** The first final (non-1xx) answer in what was read, once whole. */
    const finalAnswer = (): Answer | undefined => {
      let rest = got.toString('latin1');
      for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) return undefined;
        const head = rest.slice(0, end);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
        rest = rest.slice(end + 4);
        if (status >= 100 && status < 200) continue;
        const size = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
        if (!Number.isNaN(size) && Buffer.byteLength(rest, 'latin1') < size) return undefined;
        return { status, body: Buffer.from(rest, 'latin1').toString('utf8') };
      }
    };
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const answer = finalAnswer();
      if (answer !== undefined)
        settle(() => {
          resolve(answer);
        });
    });
    socket.on('error', (e) => {
      fail(String(e));
    });
    socket.on('close', () => {
      fail(`closed without an answer (${got.length} bytes read)`);
    });
    const lines = Object.entries({ ...headers, host: u.host, 'content-length': String(length) }).map(
      ([k, v]) => `${k}: ${v}`,
    );
    socket.write(`POST ${u.pathname}${u.search} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  });
