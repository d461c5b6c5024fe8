// An in-memory Red Hat Quay speaking Quay's REST API over real HTTP, for integration tests (quay-api.md).
export { startQuayEmulator, type QuayEmulator, type QuayEmulatorOptions } from './emulator.js';
export type { FaultKnobs } from './faults.js';
export type { EmulatorSnapshot } from './snapshot.js';
