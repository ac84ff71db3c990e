/* Behaviour every page shares, loaded from a file because the Content-Security-Policy allows no
 * inline script or on* handler attribute (config/settings/base.py). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (language, alert filters).
  document.addEventListener("change", function (evt) {
    var target = evt.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
})();
