// func.yaml against kn func's own JSON schema (knative/func schema/func_yaml-schema.json, draft-04; a fixture, see
// test/fixtures/README.md: knative.dev/func is not published on the Go module proxy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'chai';
import { parse } from 'yaml';
import { BODY_LIMIT_BYTES } from '../../../functions/index.js';
import { readEventPath, renderInstall } from '../../event-path/manifests.js';
import { repoRoot } from '../../harness/index.js';

/** The schema without its `$schema` markers: draft-04 and draft-07 agree on every keyword it uses. */
const withoutSchemaMarkers = (u: unknown): unknown => {
  if (Array.isArray(u)) return u.map(withoutSchemaMarkers);
  if (typeof u !== 'object' || u === null) return u;
  return Object.fromEntries(
    Object.entries(u)
      .filter(([k]) => k !== '$schema')
      .map(([k, v]) => [k, withoutSchemaMarkers(v)]),
  );
};

// RFC 3339 date-time, the format `created` declares.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const validator = (): ValidateFunction => {
  const schema = JSON.parse(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'knative', 'func_yaml-schema.json'), 'utf8'),
  ) as unknown;
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    formats: { 'date-time': (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) },
  });
  return ajv.compile(withoutSchemaMarkers(schema) as object);
};

const funcYaml = (): Record<string, unknown> =>
  parse(readFileSync(join(repoRoot, 'func.yaml'), 'utf8')) as Record<string, unknown>;

describe('func.yaml', () => {
  const validate = validator();

  it("is valid against kn func's schema", () => {
    const valid = validate(funcYaml());
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).to.deep.equal([]);
    expect(valid).to.be.true;
  });

  it('builds one TypeScript CloudEvent function with the pack builder, running `npm run build`', () => {
    const f = funcYaml() as {
      specVersion: string;
      runtime: string;
      invoke: string;
      build: { builder: string; buildEnvs: { name: string; value: string }[] };
      run: { envs: { name: string; value: string }[] };
    };
    expect(f.specVersion).to.match(/^0\.36\.\d+$/);
    expect([f.runtime, f.invoke, f.build.builder]).to.deep.equal(['typescript', 'cloudevent', 'pack']);
    expect(f.build.buildEnvs).to.deep.include({ name: 'BP_NODE_RUN_SCRIPTS', value: 'build' });
    expect(f.run.envs.map((e) => e.name)).to.include('QUAY_BRIDGE_STEP');
  });

  it('fails the schema with a misspelt field (a control for the test above)', () => {
    const f = funcYaml();
    expect(validate({ ...f, build: { ...(f.build as object), buildEnv: [] } })).to.be.false;
    expect(validate({ ...f, invoke: 'events' })).to.be.false;
    expect(validate({ ...f, created: 'yesterday' })).to.be.false;
  });

  it("the image's default process (Procfile `web`) is what every Knative Service runs under the launcher", () => {
    const procfile = readFileSync(join(repoRoot, 'Procfile'), 'utf8');
    const web = /^web:\s*(.+)$/m.exec(procfile)?.[1]?.trim().split(/\s+/);
    expect(web, 'a web process').to.not.equal(undefined);
    // The steps (the webhook is its own server, dist/functions/build-webhook/main.js).
    const services = readEventPath(renderInstall()).services.filter((k) => 'QUAY_BRIDGE_STEP' in k.env);
    expect(services.length).to.be.greaterThan(0);
    for (const k of services) {
      expect(k.command, k.name).to.deep.equal(['/cnb/lifecycle/launcher']);
      expect(k.args, k.name).to.deep.equal(web);
      // The limit the tests' step processes run with (test/support/step-server.ts), above the API server's 3 MiB.
      expect(k.env.FUNC_BODY_LIMIT, `${k.name} FUNC_BODY_LIMIT`).to.equal(String(BODY_LIMIT_BYTES));
    }
    expect(BODY_LIMIT_BYTES).to.be.greaterThan(3 * 1024 * 1024);
  });

  it('keeps sources and build inputs in the build context, and tests, bench and manifests out (.funcignore)', () => {
    const ignored = readFileSync(join(repoRoot, '.funcignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const needed of [
      'functions/',
      'shared/',
      'package.json',
      'package-lock.json',
      'Procfile',
      'tsconfig',
    ])
      expect(
        ignored.filter((i) => !i.includes('*') && needed.startsWith(i)),
        needed,
      ).to.deep.equal([]);
    expect(ignored).to.include.members(['node_modules/', 'test/', 'bench/']);
  });
});
