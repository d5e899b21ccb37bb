// Which errors are the user's input (one line, exit 2) rather than mmrace's own bugs. Shared by
// the command (main.ts) and the machine hosts of --machines (machine_host.ts), which must classify
// an error where it was thrown: its class does not survive the trip between threads.
import { MachineError } from '../cpu/machine.js';
import { ScheduleError } from '../cpu/schedule.js';
import { ExperimentInputError } from '../experiments/experiment.js';
import { ScenarioFileError } from '../scenarios/catalogue.js';
import { ScenarioCodeError } from '../scenarios/user_code.js';
import { ArenaLayoutError } from '../shm/arena.js';
import { UsageError } from './args.js';

/** The one line for an error that is the user's input (exit 2), or null for mmrace's own bugs. */
export function badInput(e: unknown): string | null {
  if (
    e instanceof UsageError ||
    e instanceof ScenarioFileError ||
    e instanceof ScheduleError ||
    e instanceof MachineError ||
    e instanceof ArenaLayoutError ||
    e instanceof ExperimentInputError
  )
    return e.message.split('\n')[0]!;
  // The scenario's own setup threw before any run: the scenario is broken, not mmrace.
  if (e instanceof ScenarioCodeError) return e.message;
  return null;
}
