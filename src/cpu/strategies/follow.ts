// follow: replay a free run's recorded order (cpu/record.ts) in controlled mode.
//
// There is no 1:1 mapping between the two modes: a controlled-mode decision happens at every
// point, at every relax() of a spin loop, at a wait that sleeps and when a CPU exits, while a free
// run spins and sleeps as often as its timing made it. So the strategy aligns each CPU's own
// recorded events with what that CPU does in the replay, and orders the CPUs by the recording:
//
// - Each CPU has a cursor: the last of its recorded events it has reached in the replay. Picking
//   a CPU runs it from there to its next event, so the stretch of code is ranked by the stamp of
//   the event that ends it (stamped on arrival, before any jitter): at a decision the runnable CPU
//   whose next recorded event comes first in the global order runs. When that is the CPU of the
//   earliest pending event of all, the decision "followed" the recording; when that CPU was not
//   runnable (it waits or spins in the replay and did not in the free run), the earliest runnable
//   one runs instead and the decision counts as a divergence. A CPU past its recorded events
//   ranks last; once every runnable CPU is past them the run goes on round-robin ("past end").
//   Ranking a stretch by the stamp of the event that starts it, with stamps taken after the
//   jitter, reproduced 24 of 40 recorded 2017 failures instead of 40 of 40: a CPU then reaches a
//   lock before its holder let go, and spins where the free run did not.
// - When a CPU hands the token back, `probe` says what it stopped at, and its cursor moves to the
//   matching recorded event: a point to its next recorded point (skipping the sleeps the free run
//   had there and the replay did not); a wait to a recorded wait if one is next, else nowhere (the
//   free run did not sleep there); its exit past the end. A spin moves it nowhere: spin starts are
//   recorded (marked) but not followed unless `followSpins`, because controlled mode runs a
//   spinner only when no other CPU can, so ranking it at its spin start makes it the CPU the
//   recording wants while it cannot be picked (2017 scenario, v4.14, seeds 1..5, the same
//   recordings replayed both ways: following them reproduced 444 of 769 recorded failures,
//   ignoring them 765 of 769). Without a probe every hand-back moves the cursor one event
//   on (exact when the recording holds only points and the replay neither spins nor sleeps).
//
// Deterministic: the picks depend only on the recording and the runnable sets. The strategy keeps
// its picks, so a caller can print them as an ordinary schedule string (--replay replays them).
import { mem } from '../../shm/arena.js';
import { PC, percpu, SchedState } from '../control.js';
import { EventKind, type RecordedEvent } from '../record.js';
import type { RunEnd, Strategy } from '../strategy.js';

/** What the CPU that handed the token back stopped at. */
export type Handback = 'point' | 'spin' | 'wait' | 'exit';

export interface FollowOptions {
  /** Reads what a CPU stopped at; without one every hand-back consumes one recorded event. */
  probe?: ((cpu: number) => Handback) | undefined;
  /** Rank spinning CPUs by their recorded spin starts (default: ignore Spin events). */
  followSpins?: boolean;
  /** Called at the end of each run, with the run's picks and statistics. */
  onEnd?: (f: FollowStrategy) => void;
}

export interface FollowStats {
  /** Decisions taken. */
  decisions: number;
  /** Decisions that ran the CPU of the earliest pending recorded event. */
  followed: number;
  /** Decisions where that CPU was not runnable, so another recorded CPU ran first. */
  divergences: number;
  /** Decisions after every runnable CPU had run past its recorded events (round-robin). */
  pastEnd: number;
  /**
   * Recorded events the CPUs were seen to reach (at their hand-backs: the stretch a CPU runs last
   * ends unseen), and how many there were (those followed: spin starts only with followSpins).
   */
  reached: number;
  recorded: number;
}

interface Stream {
  /** Global positions (stamp order) of this CPU's events. */
  at: number[];
  kind: EventKind[];
}

/** The control block's view of what `cpu` stopped at (main thread, at a decision). */
export function controlBlockProbe(cpu: number): Handback {
  switch (Atomics.load(mem.i32, percpu(cpu, PC.SCHED)) as SchedState) {
    case SchedState.Runnable:
      return 'point';
    case SchedState.Spinning:
      return 'spin';
    case SchedState.Waiting:
      return 'wait';
    default:
      return 'exit';
  }
}

export class FollowStrategy implements Strategy {
  readonly name = 'follow';
  private readonly streams: Stream[] = [];
  private readonly total: number;
  private cursor: number[] = [];
  private lastSpin: boolean[] = [];
  private ncpus = 0;
  /** This run's picks (the decider's, since follow never runs ahead). */
  picks: number[] = [];
  stats: FollowStats;

  constructor(
    events: readonly RecordedEvent[],
    private readonly opts: FollowOptions = {},
  ) {
    let i = 0;
    for (const e of events) {
      if (!Number.isInteger(e.cpu) || e.cpu < 0) throw new RangeError(`follow: bad CPU ${e.cpu}`);
      if (e.kind === EventKind.Spin && !opts.followSpins) continue;
      while (this.streams.length <= e.cpu) this.streams.push({ at: [], kind: [] });
      const s = this.streams[e.cpu]!;
      s.at.push(i++);
      s.kind.push(e.kind);
    }
    this.total = i;
    this.stats = this.freshStats();
  }

  beginRun(_runSeed: number, ncpus: number): void {
    this.ncpus = ncpus;
    while (this.streams.length < ncpus) this.streams.push({ at: [], kind: [] });
    this.cursor = this.streams.map(() => -1);
    this.lastSpin = this.streams.map(() => false);
    this.picks = [];
    this.stats = this.freshStats();
  }

  pick(runnable: readonly number[], current: number, _step: number): number {
    if (current >= 0) this.handBack(current);
    const st = this.stats;
    st.decisions++;
    let best = -1;
    let bestKey = Infinity;
    for (const c of runnable) {
      const k = this.key(c);
      if (k < bestKey) {
        best = c;
        bestKey = k;
      }
    }
    let pick: number;
    if (best < 0) {
      st.pastEnd++;
      pick = runnable.find((c) => c > current) ?? runnable[0]!;
    } else {
      let wanted = Infinity;
      for (let c = 0; c < this.ncpus; c++) wanted = Math.min(wanted, this.key(c));
      if (bestKey <= wanted) st.followed++;
      else st.divergences++;
      pick = best;
    }
    this.picks.push(pick);
    return pick;
  }

  endRun(_end: RunEnd): boolean {
    let reached = 0;
    this.streams.forEach((s, c) => {
      reached += Math.min(s.at.length, (this.cursor[c] ?? -1) + 1);
    });
    this.stats.reached = reached;
    this.opts.onEnd?.(this);
    return true;
  }

  private freshStats(): FollowStats {
    return { decisions: 0, followed: 0, divergences: 0, pastEnd: 0, reached: 0, recorded: this.total };
  }

  /** The CPU's rank: the global position of its next recorded event (Infinity: none left). */
  private key(c: number): number {
    const s = this.streams[c];
    return s?.at[(this.cursor[c] ?? 0) + 1] ?? Infinity;
  }

  private handBack(c: number): void {
    const s = this.streams[c];
    if (!s) return;
    const n = s.kind.length;
    const cur = this.cursor[c]!;
    const probe = this.opts.probe;
    if (!probe) {
      this.cursor[c] = Math.min(cur + 1, n);
      return;
    }
    const what = probe(c);
    const wasSpinning = this.lastSpin[c]!;
    this.lastSpin[c] = what === 'spin';
    switch (what) {
      case 'exit':
        this.cursor[c] = n;
        return;
      case 'point': {
        let j = cur + 1;
        while (j < n && s.kind[j] !== EventKind.Point) j++;
        this.cursor[c] = j;
        return;
      }
      case 'spin':
        if (!wasSpinning && s.kind[cur + 1] === EventKind.Spin) this.cursor[c] = cur + 1;
        return;
      case 'wait': {
        let j = cur + 1;
        while (j < n && s.kind[j] === EventKind.Spin) j++;
        if (s.kind[j] === EventKind.Wait) this.cursor[c] = j;
        return;
      }
    }
  }
}
