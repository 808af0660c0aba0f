/** Spawning the CLI from tests: from source through tsx (no dist/ build needed) or the installed bin. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = join(import.meta.dirname, '..');
const ENTRY = "import { main } from './ts/cli/main.ts'; await main(['node', 'opt-native', ...process.argv.slice(1)]);";
/** Node arguments that run the CLI's own entry (`main`) from source. */
export const SOURCE_CLI_ARGS = ['--import', 'tsx', '--input-type=module', '-e', ENTRY];
/** bin/opt-native.js, as a user runs it (dist/, built by `npm run build:ts`). */
export const BIN_CLI_ARGS = [join(repoRoot, 'bin', 'opt-native.js')];

export interface CliOutcome {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs `node <cliArgs> <args>` in the repo root; a non-zero exit comes back as its code, not as a throw. */
export async function runCli(
  cliArgs: readonly string[],
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...cliArgs, ...args], {
      cwd: repoRoot,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as CliOutcome;
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}
