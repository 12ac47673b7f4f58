// The one wire contract of the registration API (/v1) and its answers: zod schemas with their
// z.infer types, imported by the proxy, MeshClient and the instance runtime alike.
export * from './names.js';
export * from './states.js';
export * from './tool.js';
export * from './offerings.js';
export * from './lease.js';
export * from './registration.js';
export * from './heartbeat.js';
export * from './load.js';
export * from './services.js';
export * from './call.js';
export * from './audit.js';
export * from './events.js';
export * from './error-answer.js';
export * from './zod-message.js';
export * from './views.js';
export * from './remotes.js';
