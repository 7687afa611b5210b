// The locale for every Intl formatter. Normally the browser's default (undefined). Some engines
// report a locale Intl itself rejects: WebKitGTK under LANG=C (a server, a CI box, a minimal
// desktop session) says "C" and every `new Intl.*(undefined)` throws "invalid language tag",
// which would leave the whole app blank. Fall back to English there.

function usableDefault(): string | undefined {
  try {
    new Intl.DateTimeFormat().format(0);
    new Intl.NumberFormat().format(0);
    return undefined;
  } catch {
    return 'en-US';
  }
}

export const LOCALE: string | undefined = usableDefault();
