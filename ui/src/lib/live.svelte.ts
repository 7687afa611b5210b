// Live updates: one EventSource on /api/stream shared by every page. When the stream is not
// available (an older build, a proxy that buffers, a dropped connection) subscribers are polled
// every 5 seconds instead, and the stream is tried again later.

export type Topic = 'delivery' | 'payment' | 'connection' | 'settings';
export type LiveMode = 'off' | 'connecting' | 'stream' | 'polling';
/** `poll` means "something may have changed, refresh": sent on every poll tick and on reconnect. */
type Listener = (topic: Topic | 'poll', data: unknown) => void;

const TOPICS: Topic[] = ['delivery', 'payment', 'connection', 'settings'];
const POLL_MS = 5_000;
const RETRY_STREAM_MS = 60_000;

class Live {
  mode = $state<LiveMode>('off');
  private source: EventSource | null = null;
  private subs = new Map<Listener, Set<Topic>>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  /** Listen to some topics; returns the unsubscribe function (use it as an $effect cleanup). */
  subscribe(topics: Topic[], fn: Listener): () => void {
    this.subs.set(fn, new Set(topics));
    return () => this.subs.delete(fn);
  }

  start() {
    if (this.mode !== 'off' || typeof EventSource === 'undefined') {
      if (typeof EventSource === 'undefined') this.startPolling();
      return;
    }
    this.openStream();
  }

  private emit(topic: Topic | 'poll', data: unknown) {
    for (const [fn, topics] of this.subs) {
      if (topic === 'poll' || topics.has(topic)) fn(topic, data);
    }
  }

  private openStream() {
    this.source?.close();
    this.mode = this.mode === 'polling' ? 'polling' : 'connecting';
    const es = new EventSource('/api/stream', { withCredentials: true });
    this.source = es;
    es.onopen = () => {
      const wasPolling = this.mode === 'polling';
      this.stopPolling();
      this.mode = 'stream';
      if (wasPolling) this.emit('poll', null); // catch up on what happened in between
    };
    for (const topic of TOPICS) {
      es.addEventListener(topic, (ev) => {
        let data: unknown = null;
        try {
          data = JSON.parse((ev as MessageEvent<string>).data);
        } catch {
          data = null;
        }
        this.emit(topic, data);
      });
    }
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (404, 401, wrong type): poll, and try the stream again later.
        es.close();
        this.source = null;
        this.startPolling();
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          this.openStream();
        }, RETRY_STREAM_MS);
      } else {
        // The browser reconnects by itself; poll meanwhile.
        this.startPolling();
      }
    };
  }

  private startPolling() {
    this.mode = 'polling';
    this.pollTimer ??= setInterval(() => {
      if (!document.hidden) this.emit('poll', null);
    }, POLL_MS);
  }

  private stopPolling() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

export const live = new Live();
