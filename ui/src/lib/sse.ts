// A reader for `text/event-stream` (the subset /api/stream uses: event, data, comments).

/** Parses `text/event-stream` text fed in chunks; calls `dispatch` once per complete event. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private dispatch: (event: string, data: string) => void;

  constructor(dispatch: (event: string, data: string) => void) {
    this.dispatch = dispatch;
  }

  push(chunk: string) {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string) {
    if (line === '') {
      // Unlike EventSource, an event without data is still an event here.
      if (this.event || this.data.length) this.dispatch(this.event || 'message', this.data.join('\n'));
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // keep-alive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
