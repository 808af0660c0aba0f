/**
 * Grants one service to sandboxes: a server listening on a Unix socket in a fresh 0755 folder, the socket made
 * connectable (0666) by the unprivileged sandbox uid. Pass `socketPath` as `SandboxOptions.service.socketPath`.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServiceSocket {
  socketPath: string;
  /** Closes the server and removes the socket's folder. */
  close(): Promise<void>;
}

export async function listenOnServiceSocket(server: Server): Promise<ServiceSocket> {
  const dir = mkdtempSync(join(tmpdir(), 'opt-native-service-'));
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'service.sock');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o666);
  return {
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
