// The ticket page's flow graph (<details id="progress-details">): remember whether the user folded it.
// The element folds without this script; the script only keeps the choice across pages (localStorage).
(function () {
  'use strict';
  var KEY = 'itsm.progress.open';
  var details = document.getElementById('progress-details');
  if (!details) { return; }
  var stored = null;
  try { stored = window.localStorage.getItem(KEY); } catch (e) { /* storage blocked: keep the default */ }
  if (stored === '0') { details.open = false; }
  details.addEventListener('toggle', function () {
    try { window.localStorage.setItem(KEY, details.open ? '1' : '0'); } catch (e) { /* nothing to keep it in */ }
  });
}());
