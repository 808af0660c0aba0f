import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile } from '../ts/models/download.js';
import type { ByteProgress } from '../ts/models/progress.js';
import { startTestServer, type TestServer } from './models-http-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('downloadFile', () => {
  let server: TestServer;
  let folder: string;
  const body = randomBytes(300_000);

  beforeEach(async () => {
    server = await startTestServer();
    folder = await mkdtemp(join(tmpdir(), 'opt-native-download-'));
  });
  afterEach(() => server.close());

  it('downloads, verifies the sha256 and reports progress up to the total', async () => {
    server.routes.set('/file.bin', { body });
    const progress: ByteProgress[] = [];
    const destination = join(folder, 'file.bin');
    await downloadFile(`${server.baseUrl}/file.bin`, destination, {
      expectedSha256: sha256(body),
      onProgress: (update) => progress.push(update),
    });
    expect((await readFile(destination)).equals(body)).toBe(true);
    expect(progress.at(-1)).toEqual({ receivedBytes: body.length, totalBytes: body.length });
    expect(existsSync(`${destination}.partial`)).toBe(false);
  });

  it('resumes an interrupted download with a Range request', async () => {
    server.routes.set('/file.bin', { body, cutAfterBytes: 100_000 });
    const destination = join(folder, 'file.bin');
    await expect(downloadFile(`${server.baseUrl}/file.bin`, destination)).rejects.toMatchObject({
      code: 'E_DOWNLOAD',
    });
    const partialSize = (await stat(`${destination}.partial`)).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThan(body.length);

    const progress: ByteProgress[] = [];
    await downloadFile(`${server.baseUrl}/file.bin`, destination, {
      expectedSha256: sha256(body),
      onProgress: (update) => progress.push(update),
    });
    expect(server.requests.at(-1)?.range).toBe(`bytes=${partialSize}-`);
    expect(progress[0]!.receivedBytes).toBeGreaterThan(partialSize);
    expect(progress.at(-1)).toEqual({ receivedBytes: body.length, totalBytes: body.length });
    expect((await readFile(destination)).equals(body)).toBe(true);
  });

  it('restarts from zero when the server ignores Range', async () => {
    server.routes.set('/file.bin', { body, cutAfterBytes: 50_000, ignoreRange: true });
    const destination = join(folder, 'file.bin');
    await expect(downloadFile(`${server.baseUrl}/file.bin`, destination)).rejects.toMatchObject({
      code: 'E_DOWNLOAD',
    });
    await downloadFile(`${server.baseUrl}/file.bin`, destination, { expectedSha256: sha256(body) });
    expect((await readFile(destination)).equals(body)).toBe(true);
  });

  it('finishes a partial file that already holds every byte (416) after checking it', async () => {
    server.routes.set('/file.bin', { body });
    const destination = join(folder, 'file.bin');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${destination}.partial`, body);
    await downloadFile(`${server.baseUrl}/file.bin`, destination, { expectedSha256: sha256(body) });
    expect((await readFile(destination)).equals(body)).toBe(true);
  });

  it('deletes the bytes and throws E_CHECKSUM when the digest does not match', async () => {
    server.routes.set('/file.bin', { body });
    const destination = join(folder, 'file.bin');
    await expect(
      downloadFile(`${server.baseUrl}/file.bin`, destination, { expectedSha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'E_CHECKSUM' });
    expect(existsSync(destination)).toBe(false);
    expect(existsSync(`${destination}.partial`)).toBe(false);
  });

  it('throws E_DOWNLOAD on an HTTP error status', async () => {
    await expect(downloadFile(`${server.baseUrl}/missing.bin`, join(folder, 'x'))).rejects.toMatchObject({
      code: 'E_DOWNLOAD',
      message: expect.stringContaining('HTTP 404'),
    });
  });
});
