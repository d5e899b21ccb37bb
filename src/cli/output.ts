// Standard output as a pipeline stage: `mmrace repro ... | head -c 10` or `> /dev/full` must end the
// command quietly, never with Node's unhandled 'error' event and its stack.

/** The code to exit with if the reader goes away (the verdict's, once it is known). */
let codeIfClosed = 0;

export function setCodeIfStdoutCloses(code: number): void {
  codeIfClosed = code;
}

let ending = false;

/** The command chose to end here, having said why (or having nobody left to tell). */
export function exitNow(code: number): never {
  ending = true;
  process.exit(code);
}

/** Whether the process is ending through exitNow (the unfinished-command hook stays quiet). */
export function exitingOnPurpose(): boolean {
  return ending;
}

/**
 * A closed pipe (EPIPE) ends the command at once with its code so far, as SIGPIPE would end a C
 * program; any other write error (a full disk) is one line on stderr and exit 2, like an
 * unwritable --trace file. process.exit also ends the CPU worker threads.
 */
export function guardStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exitNow(codeIfClosed);
    try {
      process.stderr.write(`mmrace: cannot write to standard output: ${e.code ?? e.message}\n`);
    } catch {
      // stderr is gone too: the exit code still says it
    }
    exitNow(2);
  });
}
