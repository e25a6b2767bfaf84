/* The one-map viewer: layers, identify popups, search, Gauss-Kruger coordinates. */
(function () {
  'use strict';
  var O = window.OneMap;
  var map = O.map();
  var t = O.t;

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initIdentify(map);
  O.initLayers(map);

  var form = document.getElementById('om-search');
  var input = document.getElementById('om-search-input');
  var list = document.getElementById('om-search-results');
  L.DomEvent.disableClickPropagation(form);
  L.DomEvent.disableScrollPropagation(form);

  function zoomTo(hit) {
    O.showHighlight(map, [{type: 'Feature', geometry: hit.geometry, properties: {}}], true);
    var props = {area_m2: hit.area_m2};
    L.popup({maxWidth: 360, className: 'om-popup'})
      .setLatLng([(hit.bbox[1] + hit.bbox[3]) / 2, (hit.bbox[0] + hit.bbox[2]) / 2])
      .setContent('<div class="om-popup-body"><div class="om-popup-layer"><h4>' +
                  O.esc(hit.layer_title) + '</h4><p>' + O.esc(hit.label) + '</p><p>' +
                  O.esc(O.areaText(props.area_m2)) + '</p></div></div>')
      .openOn(map);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q) { return; }
    list.hidden = false;
    list.innerHTML = '<li class="om-muted">' + O.esc(t('loading')) + '</li>';
    O.json('/portal/api/search?q=' + encodeURIComponent(q) + '&lang=' + O.config.lang)
      .then(function (hits) {
        if (!hits.length) {
          list.innerHTML = '<li class="om-muted">' + O.esc(t('search_none')) + '</li>';
          return;
        }
        list.innerHTML = '';
        hits.forEach(function (hit) {
          var li = document.createElement('li');
          li.innerHTML = '<span class="om-search-layer">' + O.esc(hit.layer_title) +
            '</span> ' + O.esc(hit.label);
          li.tabIndex = 0;
          li.addEventListener('click', function () { zoomTo(hit); list.hidden = true; });
          li.addEventListener('keydown', function (e) {
            if (e.key === 'Enter') { zoomTo(hit); list.hidden = true; }
          });
          list.appendChild(li);
        });
        if (hits.length === 1) { zoomTo(hits[0]); list.hidden = true; }
      })
      .catch(function (err) {
        list.innerHTML = '<li class="om-error">' + O.esc(t('error') + ': ' + err.message) + '</li>';
      });
  });
}());
