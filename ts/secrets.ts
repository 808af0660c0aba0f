// Redaction of credentials from free text. Upstream error bodies can echo the Authorization header (proxies do), so
// every coded error message, log line and HTTP error body passes through `redactSecrets` before it leaves the process.

export const REDACTED = '[REDACTED]';

/** Shorter strings are not treated as keys: redacting them would mangle ordinary words. */
const MIN_SECRET_LENGTH = 6;
/** Environment variables whose values are credentials. */
const SECRET_ENV_NAME = /(?:^|_)(?:API_KEY|TOKEN|SECRET|PASSWORD)$/;
/** Key shapes redacted even when nobody registered them: OpenAI/Anthropic keys, bearer tokens, key headers. */
const SECRET_SHAPES: [RegExp, string][] = [
  [/\bBearer\s+(?!\[REDACTED\])[^\s"',;}\]]+/gi, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/(\b(?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;}\]]+/gi, `$1${REDACTED}`],
];

const registered = new Set<string>();

/** Remembers a key given in code (not from the environment), so that it is redacted wherever it shows up. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= MIN_SECRET_LENGTH) registered.add(secret);
}

function configuredSecrets(): string[] {
  const fromEnv = Object.entries(process.env)
    .filter(([name, value]) => SECRET_ENV_NAME.test(name) && value !== undefined && value.length >= MIN_SECRET_LENGTH)
    .map(([, value]) => value as string);
  // Longest first, so a key that contains another is replaced whole.
  return [...new Set([...registered, ...fromEnv])].sort((a, b) => b.length - a.length);
}

/** `text` with every configured key and every key-shaped substring replaced by [REDACTED]. */
export function redactSecrets(text: string): string {
  // Shapes first: `Bearer <configured key>` then goes as a whole.
  let redacted = text;
  for (const [pattern, replacement] of SECRET_SHAPES) redacted = redacted.replace(pattern, replacement);
  for (const secret of configuredSecrets()) redacted = redacted.split(secret).join(REDACTED);
  return redacted;
}

/**
 * The message of anything thrown, redacted. Coded errors are redacted when made; this covers the rest (a model or
 * SDK that throws a plain Error) wherever an error's text is stored in a run's files or shown.
 */
export function errorMessage(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
