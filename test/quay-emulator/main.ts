// `npm run quay-emulator [-- --port 8089 --host 127.0.0.1 --seed N --gc-after-ms N]`: a Quay emulator to point a
// bridge or curl at. Prints the URL, the superuser's password and bootstrap token, and the organization `platform`
// it made for `npm run quay-token`; Ctrl-C stops it.
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startQuayEmulator } from './index.js';
import { INITIALIZE_TOKEN_SECONDS } from './tokens.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8089' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    'gc-after-ms': { type: 'string' },
  },
});

const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, not ${raw}`);
  return n;
};

const gcAfterMs = number('gc-after-ms', values['gc-after-ms']);
const quay = await startQuayEmulator({
  port: number('port', values.port) ?? 8089,
  host: values.host,
  seed: number('seed', values.seed) ?? randomInt(2 ** 31),
  ...(gcAfterMs === undefined ? {} : { gcAfterMs }),
});

quay.createOrganization('platform', 'quayadmin');

const expires = new Date(Date.now() + INITIALIZE_TOKEN_SECONDS * 1000).toISOString();
process.stdout.write(
  [
    `Quay emulator listening on ${quay.url} (registry host ${quay.registryHost})`,
    `superuser quayadmin, password: ${quay.adminPassword}`,
    `superuser quayadmin, all scopes, token valid until ${expires}:`,
    quay.adminToken,
    'organization platform (admin quayadmin), for an OAuth token of its own:',
    `  QUAY_PASSWORD=${quay.adminPassword} npm run quay-token -- --quay ${quay.url} --org platform --user quayadmin --password-env QUAY_PASSWORD --print`,
    `try: curl -H "Authorization: Bearer ${quay.adminToken}" ${quay.url}/api/v1/user/`,
    'Ctrl-C to stop.',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping after ${quay.totalRequests()} requests\n`);
  quay.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => {
  stop('SIGINT');
});
process.on('SIGTERM', () => {
  stop('SIGTERM');
});
