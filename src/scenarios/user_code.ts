// Errors thrown by a scenario's own code on the main thread (its setup, its final checks) are the
// user's, not mmrace's: reported as one line with the user's own stack frames, never as an
// internal error.
import { userFrames } from '../kernel/stack_frames.js';

export class ScenarioCodeError extends Error {
  constructor(
    /** "setup", "final check 'rss'". */
    readonly where: string,
    readonly thrown: unknown,
  ) {
    super(`${where} threw ${describeThrown(thrown)}`);
    this.name = 'ScenarioCodeError';
  }
}

function describeThrown(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const frames = userFrames(e.stack ?? '');
  const at = frames.length > 0 ? ` at ${frames.slice(0, 3).join(' < ')}` : '';
  return `${e.name}: ${e.message.split('\n')[0]}${at}`;
}

/** Runs `fn`; anything it throws becomes a ScenarioCodeError naming `where`. */
export function callScenarioCode<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ScenarioCodeError) throw e;
    throw new ScenarioCodeError(where, e);
  }
}
