// maillage: small progressive enhancements; every page works without this file.
'use strict';
document.addEventListener('click', function (e) {
  // Close an open <details> menu when clicking elsewhere.
  document.querySelectorAll('details.plan-switcher[open]').forEach(function (d) {
    if (!d.contains(e.target)) d.removeAttribute('open');
  });
});
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) e.preventDefault();
});
