import { OptNativeError } from '../errors.js';
import type { ChatMessage, Role } from './types.js';

/**
 * The messages as a text provider sends them: role and content. A message carrying a clip is refused rather than
 * sent without it, which would score the prompt on silence.
 */
export function textMessages(messages: readonly ChatMessage[], provider: string): { role: Role; content: string }[] {
  if (messages.some((message) => message.audio !== undefined)) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${provider} models take text only; a message carrying audio needs an audio model`,
    );
  }
  return messages.map(({ role, content }) => ({ role, content }));
}
