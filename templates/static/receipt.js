// The contact confirmation checks again a few times until the worker has made the ticket
// (a meta refresh would interrupt screen readers and never stop).
(function () {
  if (!document.querySelector('[data-pending]')) return;
  var key = 'receipt-tries:' + location.search;
  var tries = Number(sessionStorage.getItem(key) || 0);
  if (tries >= 15) return;
  sessionStorage.setItem(key, String(tries + 1));
  setTimeout(function () { location.reload(); }, 2000);
})();
