// A JSON or YAML parser's error as one line, for `error[E_CODE]: …`: yaml's code frame (after a blank line) is
// dropped, and the newlines of the excerpt JSON.parse quotes from the input are escaped.

export function oneLineParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const [description = ''] = message.split(/\r?\n[ \t]*\r?\n/, 1);
  return description.trim().replace(/:$/, '').replace(/\r?\n/g, '\\n');
}
