// Applies the saved theme before the first paint (no flash of the wrong colours).
// A plain external script so a strict Content-Security-Policy does not block it.
(function () {
  var pref = null;
  try {
    pref = localStorage.getItem('faurya.theme');
  } catch (e) {}
  var dark = pref === 'dark' || (pref !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
})();
