// Reload a live page (the dashboard) every data-refresh-seconds, but not while it is hidden or
// someone is using it: a <meta http-equiv="refresh"> interrupts screen readers and keyboard users.
(function () {
  var marker = document.querySelector('[data-refresh-seconds]');
  if (!marker) return;
  var seconds = Math.max(15, Number(marker.getAttribute('data-refresh-seconds')) || 60);
  var lastInput = Date.now();
  ['keydown', 'pointerdown', 'focusin'].forEach(function (name) {
    document.addEventListener(name, function () { lastInput = Date.now(); }, true);
  });
  setInterval(function () {
    if (document.hidden || Date.now() - lastInput < seconds * 1000) return;
    location.reload();
  }, seconds * 1000);
})();
