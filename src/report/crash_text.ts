// A CPU crash as the user reads it: the report line and the stack with only the frames worth
// reading, the user's and the emulated kernel's, as `at fn (file:line)`; mmrace's CPU machinery,
// tinypool and node internals are left out, as kernel call traces leave them out.
import { type CpuCrash, crashLine } from '../cpu/crash.js';
import { stackFrames } from '../kernel/stack_frames.js';

const FRAME = /^\s+at /;

export function crashText(c: CpuCrash): string {
  const text = crashLine(c);
  const out: string[] = [];
  let frames = 0;
  for (const line of text.split('\n')) {
    if (!FRAME.test(line)) out.push(line);
    else for (const f of stackFrames(line)) out.push(`    at ${f.text}`), frames++;
  }
  // A crash in mmrace's own machinery has no such frame: then its whole stack is what helps.
  return frames > 0 || !/^\s+at /m.test(text) ? out.join('\n') : text;
}
