// Runs before the app and its libraries. WebKitGTK under LANG=C reports navigator.language
// "C", a tag Intl rejects: any `new Intl.NumberFormat(navigator.language)` (uPlot does this when
// it loads) then throws and the app never starts. Report a usable language instead.
(function () {
  try {
    new Intl.NumberFormat(navigator.language);
  } catch (e) {
    try {
      Object.defineProperty(navigator, 'language', { value: 'en-US', configurable: true });
      Object.defineProperty(navigator, 'languages', { value: ['en-US'], configurable: true });
    } catch (ignored) {}
  }
})();
