// Live updates: one stream of server-sent events from /api/stream shared by every page. When the
// stream is not available (an older build, a proxy that buffers, a dropped connection)
// subscribers are polled every 5 seconds instead, and the stream is tried again later.
//
// The stream is read with fetch, not EventSource: EventSource drops events whose data is empty
// (the SSE spec says so), and older servers sent `settings`, `tunnel` and `resync` without data.
// Event data is a bare id (`d_12`, `r_3`, `7`, `con_…`, for `pageview` the site id), or for
// `tunnel` the new state (`up`), not JSON. Subscribers refetch what they show rather than trust the data.

import { SseParser } from './sse';

export type Topic = 'delivery' | 'payment' | 'connection' | 'settings' | 'tunnel' | 'pageview';
export type LiveMode = 'off' | 'connecting' | 'stream' | 'polling';
/**
 * `poll` means "something may have changed, refresh everything": sent on every poll tick, on
 * reconnect, and when the server says `resync` (this client fell behind and missed events).
 */
type Listener = (topic: Topic | 'poll', data: string | null) => void;

const TOPICS = new Set<string>(['delivery', 'payment', 'connection', 'settings', 'tunnel', 'pageview']);
const POLL_MS = 5_000;
/** After a dropped stream (network, server restart). */
const RECONNECT_MS = 3_000;
/** After a refused stream (404 from an older build, 401, not an event stream). */
const RETRY_REFUSED_MS = 60_000;

class Live {
  mode = $state<LiveMode>('off');
  private abort: AbortController | null = null;
  private subs = new Map<Listener, Set<Topic>>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  /** Listen to some topics; returns the unsubscribe function (use it as an $effect cleanup). */
  subscribe(topics: Topic[], fn: Listener): () => void {
    this.subs.set(fn, new Set(topics));
    return () => this.subs.delete(fn);
  }

  start() {
    if (this.mode !== 'off') return;
    if (typeof fetch === 'undefined' || typeof TextDecoderStream === 'undefined') {
      this.startPolling();
      return;
    }
    void this.openStream();
  }

  /** Close the stream and stop polling (after signing out). */
  stop() {
    this.abort?.abort();
    this.abort = null;
    this.stopPolling();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.mode = 'off';
  }

  private emit(topic: Topic | 'poll', data: string | null) {
    for (const [fn, topics] of this.subs) {
      if (topic === 'poll' || topics.has(topic)) fn(topic, data);
    }
  }

  private async openStream() {
    this.abort?.abort();
    const ctrl = new AbortController();
    this.abort = ctrl;
    if (this.mode !== 'polling') this.mode = 'connecting';

    let res: Response;
    try {
      res = await fetch('/api/stream', {
        headers: { Accept: 'text/event-stream' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctrl.signal,
      });
    } catch {
      if (!ctrl.signal.aborted) this.dropped(RECONNECT_MS);
      return;
    }
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !res.body || !type.includes('text/event-stream')) {
      void res.body?.cancel();
      if (!ctrl.signal.aborted) this.dropped(RETRY_REFUSED_MS);
      return;
    }

    const wasPolling = this.mode === 'polling';
    this.stopPolling();
    this.mode = 'stream';
    if (wasPolling) this.emit('poll', null); // catch up on what happened in between

    const parser = new SseParser((event, data) => {
      if (event === 'resync') this.emit('poll', null);
      else if (TOPICS.has(event)) this.emit(event as Topic, data || null);
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch {
      // dropped: handled below
    }
    if (!ctrl.signal.aborted) this.dropped(RECONNECT_MS);
  }

  /** The stream ended or was refused: poll meanwhile and try it again after `retryMs`. */
  private dropped(retryMs: number) {
    this.startPolling();
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = null;
      if (this.mode !== 'off') void this.openStream();
    }, retryMs);
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
