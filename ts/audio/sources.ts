// Finds the recordings the speech-conditions dataset is built from, in the standard install paths of the Debian
// and npm packages (or folders given with --sources), and sorts them into speech / non-speech / silence.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { OptNativeError } from '../errors.js';

/** What a recording holds: speech; other sounds; or (near) digital silence. */
export type SourceKind = 'speech' | 'nonspeech' | 'silence';

export interface SourceRecording {
  /** Stable name: `<root name>/<path under the root, no extension>`; the unit the dev/test split groups by. */
  readonly id: string;
  readonly path: string;
  readonly kind: SourceKind;
  /** The package (or --sources folder) it comes from: one talker or sound family, the unit of stratification. */
  readonly root: string;
}

/** The packages the builder knows, where they install, and how to get them. */
export const KNOWN_SOURCE_ROOTS: readonly { name: string; path: string; install: string }[] = [
  { name: 'pocketsphinx', path: '/usr/share/pocketsphinx/test/data', install: 'apt-get install pocketsphinx-testdata' },
  {
    name: 'asterisk',
    path: '/usr/share/asterisk/sounds/en_US_f_Allison',
    install: 'apt-get install asterisk-core-sounds-en-wav',
  },
  {
    name: 'freedesktop',
    path: '/usr/share/sounds/freedesktop/stereo',
    install: 'apt-get install sound-theme-freedesktop',
  },
  { name: 'alsa', path: '/usr/share/sounds/alsa', install: 'apt-get install alsa-utils' },
];

export const SUPERSONIC_PACKAGE = 'supersonic-scsynth-samples';

const AUDIO_EXTENSION = /\.(wav|flac|oga|ogg)$/i;

/** Spoken announcements inside otherwise non-speech themes ("Front left", "Rear center"…). */
const SPOKEN_NAME = /^(audio-channel-|front_|rear_|side_)/i;
/** Sonic Pi samples with voices in them: neither clean speech nor clean non-speech, so left out. */
const VOCAL_NAME = /(choir|voxy|vocal|voice)/i;

/** The kind a file is, from its place: folder names win (`silence/`, `speech/`, `nonspeech/`), then known packages. */
export function classifySourceFile(path: string): SourceKind | undefined {
  if (!AUDIO_EXTENSION.test(path)) return undefined;
  const segments = path.toLowerCase().split(/[\\/]/);
  const name = basename(path);
  if (segments.includes('silence')) return 'silence';
  if (segments.some((segment) => segment === 'nonspeech' || segment === 'non-speech')) return 'nonspeech';
  if (segments.includes('speech')) return 'speech';
  if (SPOKEN_NAME.test(name)) return 'speech';
  if (VOCAL_NAME.test(name)) return undefined;
  if (segments.includes('pocketsphinx') || segments.includes('asterisk')) return 'speech';
  if (segments.includes('freedesktop') || segments.includes('alsa') || segments.includes('samples')) {
    return 'nonspeech';
  }
  return undefined;
}

function listAudioFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listAudioFiles(path));
    else if ((entry.isFile() || entry.isSymbolicLink()) && AUDIO_EXTENSION.test(entry.name)) files.push(path);
  }
  return files;
}

/** The npm samples folder when the optional package is installed (resolved from this module, then the cwd). */
export function supersonicSamplesDir(): string | undefined {
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      const packageJson = createRequire(base).resolve(`${SUPERSONIC_PACKAGE}/package.json`);
      const samples = join(dirname(packageJson), 'samples');
      if (existsSync(samples)) return samples;
    } catch {
      // not installed from here
    }
  }
  return undefined;
}

/** The default source folders that exist on this machine. */
export function defaultSourceDirs(): string[] {
  const dirs = KNOWN_SOURCE_ROOTS.map((root) => root.path).filter((path) => existsSync(path));
  const samples = supersonicSamplesDir();
  return samples ? [...dirs, samples] : dirs;
}

function rootName(dir: string): string {
  const known = KNOWN_SOURCE_ROOTS.find((root) => resolve(root.path) === resolve(dir));
  if (known) return known.name;
  if (dir.includes(SUPERSONIC_PACKAGE)) return 'supersonic';
  return basename(resolve(dir));
}

/** Every classifiable recording under `dirs`, sorted by id (so discovery never depends on directory order). */
export function discoverSources(dirs: readonly string[]): SourceRecording[] {
  const recordings = new Map<string, SourceRecording>();
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new OptNativeError('E_FILE_NOT_FOUND', `source folder not found: ${dir}`);
    }
    const root = rootName(dir);
    for (const path of listAudioFiles(dir)) {
      const kind = classifySourceFile(path);
      if (kind === undefined) continue;
      const id = `${root}/${relative(dir, path).replace(/\\/g, '/').replace(AUDIO_EXTENSION, '')}`;
      recordings.set(id, { id, path, kind, root });
    }
  }
  return [...recordings.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What to install, for the error that says no (or not enough) recordings were found. */
export function installHint(): string {
  const debian = KNOWN_SOURCE_ROOTS.map((root) => root.install.replace('apt-get install ', ''));
  return (
    `install the source recordings: apt-get install -y ${debian.join(' ')} ` +
    `(optional: npm i ${SUPERSONIC_PACKAGE}), or pass --sources DIR… with speech/ and nonspeech/ folders`
  );
}

/** Speech and non-speech recordings are both required; silence is optional. */
export function requireBothClasses(recordings: readonly SourceRecording[], dirs: readonly string[]): void {
  const speech = recordings.filter((recording) => recording.kind === 'speech').length;
  const nonspeech = recordings.length - speech;
  if (speech >= 2 && nonspeech >= 2) return;
  const looked = dirs.length > 0 ? dirs.join(', ') : KNOWN_SOURCE_ROOTS.map((root) => root.path).join(', ');
  throw new OptNativeError(
    'E_FILE_NOT_FOUND',
    `found ${speech} speech and ${nonspeech} non-speech recordings in ${looked}; need at least 2 of each ` +
      `(one per split): ${installHint()}`,
  );
}
