// Exceptions that unwind a CPU's kernel stack.

/** The run was aborted (another CPU oopsed, the campaign stopped): unwind quietly. */
export class CpuStop extends Error {
  constructor() {
    super('cpu stopped');
    this.name = 'CpuStop';
  }
}

/** The emulated kernel oopsed on this CPU: the text is already in the log; the task dies. */
export class KernelOops extends Error {
  constructor(readonly summary: string) {
    super(summary);
    this.name = 'KernelOops';
  }
}
