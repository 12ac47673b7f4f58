import type { JSONRPCRequest } from '@modelcontextprotocol/server';

// A legacy child's requests name no request of the client, so the bridge guesses their owner (the
// latest call in flight). A layer that knows the owner (a modern child's InputRequiredResult is the
// answer to one forwarded request) says so here, off the wire: the bridge then sends it to that owner.
const owners = new WeakMap<JSONRPCRequest, number>();

/** Marks `request` (about to reach the bridge as the child's) as belonging to the forwarded request `childId`. */
export function markRelated(request: JSONRPCRequest, childId: number): JSONRPCRequest {
  owners.set(request, childId);
  return request;
}

/** The forwarded request a child's request was marked as belonging to, if any. */
export function relatedChildId(request: JSONRPCRequest): number | undefined {
  return owners.get(request);
}
