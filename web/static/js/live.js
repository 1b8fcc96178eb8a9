// Follows the room live over Server-Sent Events and says honestly when it is not.
// The browser's EventSource retries by itself after a network error; when it gives up (the server
// answered with an error) or goes silent past the server's pings, we reconnect ourselves.

const SILENT_MS = 25000;   // the server pings every 10 s

export function follow({ onState, onLink, stillLoggedIn }) {
  let source = null;
  let retryTimer = null;
  let silenceTimer = null;
  let delay = 1000;

  function connect() {
    source = new EventSource("/api/events");
    source.addEventListener("state", (event) => {
      heard();
      onState(JSON.parse(event.data));
    });
    source.addEventListener("ping", heard);
    source.addEventListener("error", () => {
      onLink("reconnecting");
      if (source.readyState === EventSource.CLOSED) retry();
    });
  }

  function heard() {
    delay = 1000;
    onLink("live");
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => { onLink("reconnecting"); retry(); }, SILENT_MS);
  }

  function retry() {
    source?.close();
    clearTimeout(silenceTimer);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(async () => {
      let loggedIn;
      try { loggedIn = await stillLoggedIn(); } catch { retry(); return; }
      if (loggedIn) connect();  // else the PIN screen is up, and a login reloads the page
    }, delay);
    delay = Math.min(delay * 2, 8000);
  }

  connect();
}
