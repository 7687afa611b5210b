// "Now" for relative times ("3 minutes ago"): reading `clock.now` inside a component or effect
// re-renders it every 30 seconds, for as long as something reads it (no timer otherwise).

import { createSubscriber } from 'svelte/reactivity';

const TICK_MS = 30_000;

class Clock {
  private subscribe = createSubscriber((update) => {
    const timer = setInterval(update, TICK_MS);
    return () => clearInterval(timer);
  });

  get now(): number {
    this.subscribe();
    return Date.now();
  }
}

export const clock = new Clock();
