import t from 'tap';
import { SessionLimits, type SessionActivity } from '../../src/http/session-limits.js';

// The policy on an injected clock: no sleeping.
t.test('idle: only sessions quiet longer than the timeout and with nothing in flight', async (t) => {
  const clock = { now: 1_000_000 };
  const limits = new SessionLimits({ idleMs: 60_000, maxSessions: 10, now: () => clock.now });
  const sessions = new Map<string, SessionActivity>([
    ['old', { lastActive: clock.now, busy: 0 }],
    ['busy', { lastActive: clock.now, busy: 1 }],
  ]);
  clock.now += 30_000;
  sessions.set('new', { lastActive: clock.now, busy: 0 });
  t.same(
    limits.idle(sessions).map(([id]) => id),
    [],
  );
  clock.now += 30_001;
  t.same(
    limits.idle(sessions).map(([id]) => id),
    ['old'],
    'a busy session is never idle, however long its call',
  );
});

t.test('admit: room, else the least recently used idle session, else full', async (t) => {
  const clock = { now: 0 };
  const limits = new SessionLimits({ maxSessions: 3, now: () => clock.now });
  const sessions = new Map<string, SessionActivity>([
    ['a', { lastActive: 1, busy: 0 }],
    ['b', { lastActive: 2, busy: 0 }],
  ]);
  t.equal(limits.admit(sessions.size, sessions), undefined);
  sessions.set('c', { lastActive: 3, busy: 0 });
  t.equal(limits.admit(sessions.size, sessions), 'a');
  sessions.get('a')!.busy = 1;
  t.equal(limits.admit(sessions.size, sessions), 'b', 'a busy session is not evicted');
  for (const s of sessions.values()) s.busy = 1;
  t.equal(limits.admit(sessions.size, sessions), 'full');
  const refused = limits.fullResponse('mesh-proxy');
  t.equal(refused.status, 503);
  t.match(await refused.json(), { jsonrpc: '2.0', id: null, error: { code: -32000, message: /3 open sessions, all busy \(--max-sessions\)/, data: { code: 'SERVICE_UNAVAILABLE', maxSessions: 3 } } });
});

t.test('track: busy while the request runs, active when it ends', async (t) => {
  const clock = { now: 5 };
  const limits = new SessionLimits({ now: () => clock.now });
  const session: SessionActivity = { lastActive: 0, busy: 0 };
  let release!: () => void;
  const running = limits.track(session, () => new Promise<void>((resolve) => (release = resolve)));
  t.equal(session.busy, 1);
  clock.now = 99;
  release();
  await running;
  t.same(session, { lastActive: 99, busy: 0 });
});
