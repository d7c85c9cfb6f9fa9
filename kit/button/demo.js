/* The demo page's own script: its strings in the button's language, and the result shown. */
(function () {
  'use strict';
  var TEXT = {
    en: { title: 'Have your say in Teststad', resultTitle: 'What this page received',
      intro: 'Only residents of Teststad aged 16 or over can take part. We learn yes or no, never your name, address or birthdate.' },
    nl: { title: 'Praat mee in Teststad', resultTitle: 'Wat deze pagina ontving',
      intro: 'Alleen inwoners van Teststad van 16 jaar of ouder doen mee. Wij horen alleen ja of nee, nooit uw naam, adres of geboortedatum.' }
  };
  var host = document.getElementById('civic');
  var lang = (host.civicVerify && host.civicVerify.lang) || 'en';
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(function (e) {
    e.textContent = TEXT[lang][e.getAttribute('data-i18n')];
  });
  document.title = TEXT[lang].title;
  host.addEventListener('civic-verify:result', function (ev) {
    document.getElementById('result').textContent = JSON.stringify(ev.detail, null, 2);
  });
}());
