/**
 * The timer wheel (src/actor/timer-wheel.ts): never early, at most one tick late, in deadline
 * order; cancel, cancel and re-arm from inside a callback, a stalled loop, timers further away than
 * a turn; the last cancel and close() leave no Node timer. Mocked timers (deterministic) except the
 * last test, which counts this process's real Timeouts.
 */
import assert from 'node:assert/strict';
import { mock, test, type TestContext } from 'node:test';
import { TimerWheel } from '../../src/actor/timer-wheel.js';

const TICK = 100;

/**
 * Advances the mocked clock in 10 ms steps: MockTimers.tick(ms) moves Date to the end first, so a
 * timer set from a callback inside one big tick would be scheduled from the end of it.
 */
function advance(ms: number): void {
  for (let done = 0; done < ms; done += 10) mock.timers.tick(Math.min(10, ms - done));
}

/** A wheel on mocked setTimeout and Date; `skew` moves its clock without running timers (a stalled loop). */
function mocked(t: TestContext): { wheel: TimerWheel; clock: { skew: number }; now: () => number } {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const clock = { skew: 0 };
  const now = (): number => Date.now() + clock.skew;
  const wheel = new TimerWheel({ tickMs: TICK, now });
  t.after(() => wheel.close());
  return { wheel, clock, now };
}

test('each timer fires once, never before its time, at most one tick later, in deadline order (ties in arming order)', (t) => {
  const { wheel, now } = mocked(t);
  const fired: Array<{ name: string; at: number; late: number }> = [];
  const start = now();
  const plan: Array<[string, number]> = [['e', 830], ['a', 20], ['c', 50], ['b', 20], ['d', 130], ['f', 7_000]];
  for (const [name, ms] of plan) {
    const at = start + ms;
    wheel.timer(() => fired.push({ name, at, late: now() - at })).armAt(at);
  }
  assert.equal(wheel.size, plan.length);
  advance(8_000);
  assert.deepEqual(fired.map((f) => f.name), ['a', 'b', 'c', 'd', 'e', 'f']);
  for (const f of fired) {
    assert.ok(f.late >= 0, `${f.name} fired ${-f.late} ms early`);
    assert.ok(f.late <= TICK, `${f.name} fired ${f.late} ms late (tick ${TICK})`);
  }
  assert.equal(wheel.size, 0);
  assert.equal(wheel.ticking, false, 'no Node timer once nothing is armed');
});

test('a timer further away than a whole turn of the wheel waits for its own turn', (t) => {
  const { wheel, now } = mocked(t);
  const at = now() + 64 * TICK * 3 + 250;
  let firedAt: number | undefined;
  wheel.timer(() => (firedAt = now())).armAt(at);
  advance(64 * TICK * 3);
  assert.equal(firedAt, undefined, 'not a turn (or three) early');
  advance(250 + TICK);
  assert.ok(firedAt !== undefined && firedAt >= at && firedAt - at <= TICK, `fired at ${firedAt} for ${at}`);
});

test('cancel: a cancelled timer never fires; re-arming moves it; the last cancel clears the Node timer', (t) => {
  const { wheel, now } = mocked(t);
  const fired: string[] = [];
  const keep = wheel.timer(() => fired.push('keep'));
  const drop = wheel.timer(() => fired.push('drop'));
  const moved = wheel.timer(() => fired.push(`moved@${now()}`));
  keep.armIn(300);
  drop.armIn(200);
  moved.armIn(100);
  const movedTo = now() + 2_000;
  moved.armAt(movedTo);
  drop.cancel();
  drop.cancel(); // idempotent
  assert.equal(wheel.size, 2);
  advance(1_000);
  assert.deepEqual(fired, ['keep']);
  advance(1_500);
  assert.equal(fired.length, 2);
  assert.ok(Number((fired[1] as string).split('@')[1]) >= movedTo, 'moved to its new time');
  const last = wheel.timer(() => fired.push('last'));
  last.armIn(10_000);
  assert.equal(wheel.ticking, true);
  last.cancel();
  assert.equal(wheel.ticking, false, 'the last cancel leaves no Node timer behind');
  assert.equal(wheel.size, 0);
});

test('cancel during fire: a callback cancels a timer due in the same tick (it never fires) and re-arms itself (next tick, not in this one)', (t) => {
  const { wheel, now } = mocked(t);
  const fired: string[] = [];
  const times: number[] = [];
  const start = now();
  let rounds = 0;
  const victim = wheel.timer(() => fired.push('victim'));
  const periodic = wheel.timer(() => {
    fired.push(`periodic${rounds}`);
    times.push(now());
    victim.cancel();
    // Re-armed for a moment already passed: it must wait for the next tick, not loop in this one.
    if (++rounds < 3) periodic.armAt(start);
  });
  periodic.armAt(start + 10);
  victim.armAt(start + 20); // same tick, after periodic
  advance(TICK * 10);
  assert.deepEqual(fired, ['periodic0', 'periodic1', 'periodic2']);
  // One tick apart: a deadline in the past goes to the next tick, not into a slot already passed.
  for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) - (times[i - 1] as number) <= TICK, `rounds ${times.join(', ')}`);
  assert.equal(wheel.size, 0);
});

test('a callback that throws does not stop the others due with it', (t) => {
  const { wheel, now } = mocked(t);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const fired: string[] = [];
  wheel.timer(() => {
    throw new Error('boom');
  }).armAt(now() + 10);
  wheel.timer(() => fired.push('after')).armAt(now() + 20);
  advance(TICK * 2);
  assert.deepEqual(fired, ['after']);
});

test('a stalled loop (the clock jumps several turns ahead): every timer due fires once, in order; later ones wait', (t) => {
  const { wheel, clock, now } = mocked(t);
  const fired: string[] = [];
  const wakes = new Set<number>();
  const start = now();
  for (const [name, ms] of [['x', 150], ['y', 64 * TICK + 1_150], ['z', 5 * 64 * TICK + 3_350]] as const) {
    wheel.timer(() => {
      fired.push(name);
      wakes.add(Date.now());
    }).armAt(start + ms);
  }
  const later = start + 10 * 64 * TICK;
  wheel.timer(() => fired.push('later')).armAt(later);
  clock.skew = 6 * 64 * TICK; // the loop was blocked for six turns
  advance(TICK * 2);
  assert.deepEqual(fired, ['x', 'y', 'z']);
  assert.equal(wakes.size, 1, 'all at the first wake-up after the stall');
  advance(later - now() - 1);
  assert.deepEqual(fired, ['x', 'y', 'z'], 'not early');
  advance(TICK + 1);
  assert.deepEqual(fired, ['x', 'y', 'z', 'later']);
});

test('close() cancels everything, leaves no Node timer, and later arms are ignored', (t) => {
  const { wheel, now } = mocked(t);
  const fired: string[] = [];
  const a = wheel.timer(() => fired.push('a'));
  a.armIn(50);
  wheel.timer(() => fired.push('b')).armIn(100_000);
  assert.equal(wheel.ticking, true);
  wheel.close();
  wheel.close();
  assert.equal(wheel.size, 0);
  assert.equal(wheel.ticking, false);
  assert.equal(a.isArmed, false);
  a.armAt(now() + 10);
  assert.equal(wheel.size, 0);
  advance(200_000);
  assert.deepEqual(fired, []);
  assert.throws(() => new TimerWheel().timer(() => undefined).armAt(Number.NaN), RangeError);
});

test('on real timers: one Node Timeout for a thousand armed timers, none after the last cancel or close', (t) => {
  const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timeouts();
  const wheel = new TimerWheel({ tickMs: 1000 });
  t.after(() => wheel.close());
  const timers = Array.from({ length: 1000 }, (_, i) => wheel.timer(() => assert.fail('must not fire')));
  timers.forEach((w, i) => w.armIn(60_000 + i * 100));
  assert.equal(timeouts(), before + 1);
  for (const w of timers) w.cancel();
  assert.equal(timeouts(), before);
  timers.forEach((w) => w.armIn(60_000));
  assert.equal(timeouts(), before + 1);
  wheel.close();
  assert.equal(timeouts(), before);
});
