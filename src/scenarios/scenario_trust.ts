// Whether this thread checks scenarios or trusts them: a CPU worker trusts them, because the main
// thread checked every scenario before it started the CPUs, and so never loads zod (~70 ms a
// worker). Its own module so the worker entry can set it without loading the schema.
let trusted = false;

/** Called by the CPU worker entry (workers/cpu.ts) before any scenario loads. */
export function trustCheckedScenarios(): void {
  trusted = true;
}

export function scenariosTrusted(): boolean {
  return trusted;
}
