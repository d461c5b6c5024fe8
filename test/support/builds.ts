// The Build the end-to-end tests create: a Docker build run by the builder ServiceAccount whose output is an
// ImageStreamTag, the kind the webhook sends to Quay.
export const imageStreamTagBuild = (name = 'app-1', tag = 'app:latest') => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  metadata: { name },
  spec: {
    serviceAccount: 'builder',
    strategy: { type: 'Docker', dockerStrategy: {} },
    output: { to: { kind: 'ImageStreamTag', name: tag } },
  },
});
