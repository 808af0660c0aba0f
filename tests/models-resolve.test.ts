import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultQwenTokenizerPath } from '../ts/models/default-model.js';
import { parseHubModelReference } from '../ts/models/huggingface.js';
import { listModels } from '../ts/models/list.js';
import { huggingFaceHubCacheDir } from '../ts/models/paths.js';
import { resolveModel } from '../ts/models/resolve.js';
import { jsonRoute, startTestServer, type TestServer } from './models-http-server.js';

const COMMIT = 'a'.repeat(40);

async function fakeHubSnapshot(hubCache: string, repoId: string, files: Record<string, string>) {
  const repoFolder = join(hubCache, `models--${repoId.replace('/', '--')}`);
  const snapshot = join(repoFolder, 'snapshots', COMMIT);
  await mkdir(join(repoFolder, 'refs'), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await writeFile(join(repoFolder, 'refs', 'main'), `${COMMIT}\n`);
  for (const [name, content] of Object.entries(files)) await writeFile(join(snapshot, name), content);
  return snapshot;
}

describe('hub cache location', () => {
  it('honours HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME', () => {
    expect(huggingFaceHubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(huggingFaceHubCacheDir({ HF_HOME: '/b' })).toBe('/b/hub');
    expect(huggingFaceHubCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/huggingface/hub');
  });

  it('parses repository ids and file references', () => {
    expect(parseHubModelReference('Qwen/Qwen2.5-0.5B-Instruct')).toEqual({
      repoId: 'Qwen/Qwen2.5-0.5B-Instruct',
      fileName: undefined,
    });
    expect(parseHubModelReference('Qwen/Qwen2.5-0.5B-Instruct-GGUF/q4_k_m.gguf')).toEqual({
      repoId: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF',
      fileName: 'q4_k_m.gguf',
    });
    expect(parseHubModelReference('default')).toBeUndefined();
    expect(parseHubModelReference('Org/../etc')).toBeUndefined();
  });
});

describe('resolveModel', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'opt-native-resolve-'));
    env = { HF_HOME: join(root, 'hf'), OPT_NATIVE_CACHE: join(root, 'opt-native'), HF_ENDPOINT: 'http://127.0.0.1:9' };
  });

  it('takes a GGUF path as is, with the bundled Qwen2.5 tokenizer', async () => {
    const gguf = join(root, 'model.gguf');
    await writeFile(gguf, 'GGUF');
    const resolved = await resolveModel(gguf, { env });
    expect(resolved).toEqual({
      spec: gguf,
      path: gguf,
      format: 'gguf',
      tokenizerPath: defaultQwenTokenizerPath(),
      source: 'path',
    });
    expect(resolved.tokenizerPath).toMatch(/@lenml[\\/]tokenizer-qwen2_5[\\/]models[\\/]tokenizer\.json$/);
  });

  it('prefers a tokenizer.json next to the GGUF file', async () => {
    await writeFile(join(root, 'model.gguf'), 'GGUF');
    await writeFile(join(root, 'tokenizer.json'), '{}');
    expect((await resolveModel(join(root, 'model.gguf'), { env })).tokenizerPath).toBe(join(root, 'tokenizer.json'));
  });

  it('finds a model id in the HF cache under HF_HOME', async () => {
    const snapshot = await fakeHubSnapshot(join(root, 'hf', 'hub'), 'Org/Tiny', {
      'config.json': '{}',
      'tokenizer.json': '{}',
    });
    expect(await resolveModel('Org/Tiny', { env })).toEqual({
      spec: 'Org/Tiny',
      path: snapshot,
      format: 'hf-folder',
      tokenizerPath: join(snapshot, 'tokenizer.json'),
      source: 'hf-cache',
    });
  });

  it('says E_MODEL_NOT_FOUND for a missing path and for an uncached id with downloads off', async () => {
    await expect(resolveModel(join(root, 'missing.gguf'), { env })).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
    });
    await expect(resolveModel('Org/Absent', { env, allowDownload: false })).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
    });
    await expect(resolveModel('default', { env, allowDownload: false })).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
      message: expect.stringContaining('opt-native models pull default'),
    });
  });

  it('says E_MODEL_FORMAT for a folder without config.json', async () => {
    await mkdir(join(root, 'folder'));
    await expect(resolveModel(join(root, 'folder'), { env })).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
  });

  it('resolves `default` to the cached mirror without any network', async () => {
    const modelsDir = join(root, 'opt-native', 'models');
    await mkdir(modelsDir, { recursive: true });
    const path = join(modelsDir, 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf');
    // Only the size is checked on resolve (the sha256 was verified when the mirror stored it).
    await writeFile(path, Buffer.alloc(0));
    const { truncate } = await import('node:fs/promises');
    await truncate(path, 491_400_064);
    expect(await resolveModel('default', { env, allowDownload: false })).toMatchObject({ path, source: 'mirror' });
    const listed = await listModels(env);
    expect(listed[0]).toMatchObject({ id: 'default', cached: true, path, sizeBytes: 491_400_064 });
  });
});

describe('hub downloads (HF_ENDPOINT on 127.0.0.1)', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const sha = 'b'.repeat(40);
  const files = {
    'config.json': '{"model_type":"qwen2"}',
    'tokenizer.json': '{"version":"1.0"}',
    'model.safetensors': 'weights',
    'README.md': 'not needed',
    'onnx/model.onnx': 'not needed',
  };

  beforeEach(async () => {
    server = await startTestServer();
    const root = await mkdtemp(join(tmpdir(), 'opt-native-hub-'));
    env = { HF_HUB_CACHE: join(root, 'hub'), HF_ENDPOINT: server.baseUrl, HF_TOKEN: 'secret' };
    server.routes.set(
      '/api/models/Org/Tiny/revision/main',
      jsonRoute({ sha, siblings: Object.keys(files).map((rfilename) => ({ rfilename })) }),
    );
    for (const [name, content] of Object.entries(files)) {
      server.routes.set(`/Org/Tiny/resolve/${sha}/${name}`, { body: Buffer.from(content) });
    }
  });
  afterEach(() => server.close());

  it('downloads config, tokenizer and safetensors into the hub cache layout, then resolves from the cache', async () => {
    const resolved = await resolveModel('Org/Tiny', { env });
    const snapshot = join(env.HF_HUB_CACHE!, 'models--Org--Tiny', 'snapshots', sha);
    expect(resolved).toMatchObject({ path: snapshot, format: 'hf-folder', source: 'hf-hub' });
    expect(await readFile(join(snapshot, 'model.safetensors'), 'utf8')).toBe('weights');
    expect(await readFile(join(env.HF_HUB_CACHE!, 'models--Org--Tiny', 'refs', 'main'), 'utf8')).toBe(sha);
    const downloaded = server.requests.filter((request) => request.path.includes('/resolve/')).map((r) => r.path);
    expect(downloaded.sort()).toEqual(
      ['config.json', 'model.safetensors', 'tokenizer.json'].map((name) => `/Org/Tiny/resolve/${sha}/${name}`),
    );

    const requestsBefore = server.requests.length;
    expect(await resolveModel('Org/Tiny', { env })).toMatchObject({ path: snapshot, source: 'hf-cache' });
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('downloads one named GGUF file', async () => {
    const gguf = Buffer.from('GGUF fake');
    server.routes.set(
      '/api/models/Org/Tiny-GGUF/revision/main',
      jsonRoute({ sha, siblings: [{ rfilename: 'q4.gguf' }] }),
    );
    server.routes.set(`/Org/Tiny-GGUF/resolve/${sha}/q4.gguf`, { body: gguf });
    const resolved = await resolveModel('Org/Tiny-GGUF/q4.gguf', { env });
    expect(resolved).toMatchObject({ format: 'gguf', source: 'hf-hub' });
    expect(
      createHash('sha256')
        .update(await readFile(resolved.path))
        .digest('hex'),
    ).toBe(createHash('sha256').update(gguf).digest('hex'));
  });

  it('maps an unknown repository to E_MODEL_NOT_FOUND', async () => {
    await expect(resolveModel('Org/Nope', { env })).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
  });
});
