/**
 * The cancellation of one call, without an AbortController: the hot path makes one per tools/call,
 * and an AbortSignal with its listeners costs several µs of the proxy's ~250 µs per call. The
 * request in flight sets `onCancel`; whoever hears the client cancel calls `cancel()`.
 *
 * @example
 * const cancel = new CallCancel();
 * router.call('fs', 'scan', args, { relay: { cancel } });
 * // on notifications/cancelled for that call:
 * cancel.cancel(new Error('the client cancelled the call'));
 */
export class CallCancel {
  cancelled = false;
  reason: unknown = undefined;
  /** Set by the request in flight (one at a time); called once, with the reason. */
  onCancel: ((reason: unknown) => void) | undefined = undefined;

  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    this.onCancel?.(reason);
  }

  // For requests that came through the SDK transport, whose handlers get an AbortSignal.
  /**
   * A CallCancel that follows an AbortSignal until `stop()` (call it once the request settled, so
   * the signal keeps no listener of a finished request).
   * @example
   * const { cancel, stop } = CallCancel.following(signal);
   * try { await postJsonRpc(target, id, method, params, deadlineMs, undefined, cancel); } finally { stop(); }
   */
  static following(signal: AbortSignal): { cancel: CallCancel; stop: () => void } {
    const cancel = new CallCancel();
    if (signal.aborted) {
      cancel.cancel(signal.reason);
      return { cancel, stop: () => undefined };
    }
    const onAbort = () => cancel.cancel(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    return { cancel, stop: () => signal.removeEventListener('abort', onAbort) };
  }
}
