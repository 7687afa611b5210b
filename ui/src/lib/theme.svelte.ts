// Light / dark: follows the system unless the user picked one in the sidebar (kept in
// localStorage). public/theme-init.js applies the same choice before the first paint.

export type ThemePref = 'system' | 'light' | 'dark';
const KEY = 'faurya.theme';

function stored(): ThemePref {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'light' || v === 'dark') return v;
  } catch {
    // storage blocked: follow the system
  }
  return 'system';
}

class Theme {
  pref = $state<ThemePref>('system');
  systemDark = $state(false);
  effective = $derived<'light' | 'dark'>(this.pref === 'system' ? (this.systemDark ? 'dark' : 'light') : this.pref);

  constructor() {
    if (typeof window === 'undefined') return;
    this.pref = stored();
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = mq.matches;
    mq.addEventListener('change', (e) => (this.systemDark = e.matches));
    $effect.root(() => {
      $effect(() => {
        document.documentElement.dataset.theme = this.effective;
      });
    });
  }

  set(pref: ThemePref) {
    this.pref = pref;
    try {
      if (pref === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, pref);
    } catch {
      // not persisted; still applied for this session
    }
  }
}

export const theme = new Theme();
