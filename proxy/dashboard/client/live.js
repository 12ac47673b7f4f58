// The event stream (GET /v1/events, with `call` events where the proxy has them): one EventSource for the page.

const NAMES = ['hello', 'joined', 'left', 'status', 'tools', 'call'];

/** Opens the stream and hands each event (its name and parsed data) to `onEvent`; shows its state in #live. */
export function connectLive(onEvent) {
  const indicator = document.getElementById('live');
  const show = (text, kind) => {
    indicator.textContent = text;
    indicator.className = `live live-${kind}`;
  };
  const source = new EventSource('/v1/events?calls=1');
  source.addEventListener('open', () => show('live', 'on'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) show('disconnected: reload the page (the login may have expired)', 'off');
    else show('reconnecting…', 'wait');
  });
  for (const name of NAMES) {
    source.addEventListener(name, (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      onEvent(name, data);
    });
  }
  return source;
}
