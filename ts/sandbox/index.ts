export { runPython, runNode, runInSandbox, SANDBOX_DEFAULTS } from './run.js';
export { listenOnServiceSocket, type ServiceSocket } from './service.js';
export { bubblewrapStatus, bubblewrapPath, type BubblewrapStatus } from './availability.js';
export { SANDBOX_SERVICE_SOCKET, SANDBOX_WORK_DIR } from './command.js';
export type { SandboxIsolation, SandboxOptions, SandboxResult, SandboxRuntime, SandboxService } from './types.js';
