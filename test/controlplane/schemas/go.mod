// The Knative modules whose published CRDs the tests install (config/core/resources of eventing,
// config/core/300-resources of serving): test/harness/crds.ts downloads these exact versions from the module proxy
// and reads the CRDs from the module cache. Eventing's version matches the receive adapter's (../knative/go.mod).
module quay-bridge.local/test/controlplane/schemas

go 1.26

require (
	knative.dev/eventing v0.50.0
	knative.dev/serving v0.50.0
)
