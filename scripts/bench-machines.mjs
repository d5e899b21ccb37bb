// npm run bench -- machines: why `--machines N` runs each machine in a process of its own. Three
// threads pass a token round a ring, sleeping in Atomics.wait until it is theirs (5 µs of work
// each, as a controlled run's CPUs on a host with fewer cores than CPUs): one ring alone, the
// baseline; two rings as threads of one process (machines as host threads); two rings in two
// processes (machines as host processes). V8 keeps every Atomics.wait of a process on one list
// under one mutex, and Atomics.notify wakes the sleeper with it held (futex-emulation.cc Wake), so
// a process's handoffs queue on it: on a 2-vCPU guest two rings as threads made 1.02x one ring's
// handoffs, as processes 2.1x.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { median, summaryRow, times } from './bench-summary.mjs';

const THREADS = 3;
const HANDOFFS = Number(process.env.RING_HANDOFFS ?? 20_000);
const WORK_MS = 0.005;
const self = fileURLToPath(import.meta.url);

/** A ring's thread: takes the token when it is its turn, works, passes it on. */
function ringThread({ sab, i }) {
  const a = new Int32Array(sab);
  for (;;) {
    let t = Atomics.load(a, 0);
    while (t < HANDOFFS && t % THREADS !== i) {
      Atomics.wait(a, 0, t, 100);
      t = Atomics.load(a, 0);
    }
    if (t >= HANDOFFS) break;
    const end = performance.now() + WORK_MS;
    while (performance.now() < end);
    Atomics.store(a, 0, t + 1);
    Atomics.notify(a, 0);
  }
  Atomics.notify(a, 0);
  parentPort.postMessage('done');
}

/** In a child process: `rings` rings of threads at once; prints their handoffs per second. */
async function rings(n) {
  const t0 = performance.now();
  const ends = [];
  for (let r = 0; r < n; r++) {
    const sab = new SharedArrayBuffer(64);
    for (let i = 0; i < THREADS; i++) {
      const w = new Worker(self, { workerData: { sab, i } });
      ends.push(new Promise((resolve) => w.once('message', resolve)));
    }
  }
  await Promise.all(ends);
  console.log(String((n * HANDOFFS) / ((performance.now() - t0) / 1000)));
}

/** `procs` child processes at once, each running `perProc` rings: their handoffs per second, added. */
async function measure(procs, perProc) {
  const outs = await Promise.all(
    Array.from({ length: procs }, () => {
      const c = spawn(process.execPath, [self, 'rings', String(perProc)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      return new Promise((resolve, reject) =>
        c.on('exit', (code) =>
          code === 0 ? resolve(Number(out)) : reject(new Error(`ring exited ${code}`)),
        ),
      );
    }),
  );
  return outs.reduce((a, b) => a + b, 0);
}

export async function run() {
  const rounds = Number(process.env.ROUNDS ?? 3);
  const xs = { one: [], threads: [], processes: [] };
  for (let r = 0; r < rounds; r++) {
    xs.one.push(await measure(1, 1));
    xs.threads.push(await measure(1, 2));
    xs.processes.push(await measure(2, 1));
  }
  const one = median(xs.one);
  const threads = median(xs.threads);
  const processes = median(xs.processes);
  console.log(
    `token rings of ${THREADS} sleeping threads, ${HANDOFFS} handoffs each, ${rounds} rounds (median)`,
  );
  console.log('case                              handoffs/s   vs one ring');
  for (const [name, v] of [
    ['one ring (baseline)', one],
    ['two rings, threads of one process', threads],
    ['two rings, two processes', processes],
  ])
    console.log(`${name.padEnd(33)} ${v.toFixed(0).padStart(10)}   ${(v / one).toFixed(2)}x`);
  return [
    summaryRow('machines', 'two token rings as threads of one process', times(threads / one), 'one ring'),
    summaryRow('machines', 'two token rings as two processes', times(processes / one), 'one ring'),
  ];
}

if (!isMainThread) ringThread(workerData);
else if (process.argv[2] === 'rings') await rings(Number(process.argv[3]));
