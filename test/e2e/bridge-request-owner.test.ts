import t from 'tap';
import { fixture } from '../helpers/processes.js';
import { startSidecar } from '../helpers/sidecar.js';
import { connectModern, postModern } from '../helpers/modern.js';

// A legacy child's requests to its client name no request of their own: the bridge gives them to
// a request in flight. A listing forwarded after a call (a proxy re-listing prompts, another
// client) must not take the call's question: the child (late_asker_server.py) asks for the call
// only once a prompts/list has reached it, and before answering that listing.
t.test("a child's sampling request belongs to the call in flight, not to a listing forwarded after it", async (t) => {
  const sidecar = await startSidecar(t, { name: 'late', command: ['python3', fixture('late_asker_server.py')] });
  const client = await connectModern(t, sidecar.url, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'answered for the call' } }));
  let listed: Promise<unknown> | undefined;
  const result = await client.callTool(
    { name: 'ask_late', arguments: {} },
    {
      timeout: 10_000,
      // The child has the call once it reports progress: now a listing goes to it too.
      onprogress: () => void (listed ??= postModern(sidecar.url, 'prompts/list', {}, {}, 7)),
    },
  );
  t.same(result.content, [{ type: 'text', text: 'answered for the call' }], 'the call asked its own client and completed');
  t.match(await listed, { body: { result: { prompts: [] } } }, 'the listing was answered as a listing');
});
