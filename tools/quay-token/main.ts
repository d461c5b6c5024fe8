// `npm run quay-token -- …` here, `node dist/tools/quay-token/main.js …` in the image (knative/quay-token/job.yaml):
// quay-bridge's Quay OAuth token without Quay's UI. See run.ts, and `--help`.
import { createKubeClient } from '../../shared/kube/http.js';
import { loadKubeAccess } from '../../shared/kube/access.js';
import { runQuayToken } from './run.js';

const status = await runQuayToken(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  terminal: { input: process.stdin, output: process.stderr },
  kube: async (kubeconfig) =>
    createKubeClient(
      await loadKubeAccess(
        kubeconfig === undefined ? process.env : { ...process.env, KUBECONFIG: kubeconfig },
      ),
      {
        fieldManager: 'quay-bridge-token',
      },
    ),
});
process.exitCode = status;
