/* Swipe (卷帘) between two layers (issue 23): the left layer shows left of a divider, the
 * right layer right of it; drag the divider (or use the slider) to compare. Each catalogue
 * layer draws in a pane of its own (OneMap.pane), so the swipe clips the two panes, which
 * works for GeoJSON and vector-tile layers alike; the clip is recomputed as the map moves,
 * the way leaflet-side-by-side clips tile layers.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var map = W.map;
  var t = O.t;

  function readable() {
    return Object.keys(O.config.layers || {}).filter(function (id) {
      return O.layerStatus(id) === 'ok';
    });
  }

  function group(id) { return window[(O.config.groups || {})[id]]; }

  function start(panel) {
    var ids = readable();
    var options = ids.map(function (id) {
      return '<option value="' + O.esc(id) + '">' + O.esc(O.config.layers[id].title) +
        '</option>';
    }).join('');
    panel.innerHTML = '<div class="om-wb-title"></div><p class="om-muted om-wb-hint"></p>' +
      '<label class="om-wb-field"><span id="om-swipe-left-label"></span>' +
      '<select id="om-swipe-left">' + options + '</select></label>' +
      '<label class="om-wb-field"><span id="om-swipe-right-label"></span>' +
      '<select id="om-swipe-right">' + options + '</select></label>' +
      '<input type="range" id="om-swipe-pos" min="0" max="100" value="50">';
    var $ = function (id) { return panel.querySelector('#' + id); };
    panel.querySelector('.om-wb-title').textContent = t('wb_swipe');
    panel.querySelector('.om-wb-hint').textContent = t('wb_swipe_hint');
    $('om-swipe-left-label').textContent = t('wb_swipe_left');
    $('om-swipe-right-label').textContent = t('wb_swipe_right');
    $('om-swipe-pos').setAttribute('aria-label', t('wb_swipe'));
    if (ids.length > 1) { $('om-swipe-right').value = ids[1]; }
    var divider = L.DomUtil.create('div', 'om-swipe-divider', map.getContainer());
    L.DomUtil.create('div', 'om-swipe-handle', divider);
    var clipped = [];

    function clear() {
      clipped.forEach(function (name) {
        var pane = map.getPane(name);
        if (pane) { pane.style.clip = ''; }
      });
      clipped = [];
    }

    function update() {
      var left = $('om-swipe-left').value, right = $('om-swipe-right').value;
      var size = map.getSize();
      var x = size.x * Number($('om-swipe-pos').value) / 100;
      divider.style.left = x + 'px';
      var nw = map.containerPointToLayerPoint([0, 0]);
      var se = map.containerPointToLayerPoint(size);
      var cut = nw.x + x;
      clear();
      [[left, 'rect(' + [nw.y, cut, se.y, nw.x].join('px,') + 'px)'],
       [right, 'rect(' + [nw.y, se.x, se.y, cut].join('px,') + 'px)']].forEach(function (e) {
        if (e[0] === left && e[0] === right) { return; }  // the same layer: nothing to cut
        var name = O.pane(map, e[0]);
        map.getPane(name).style.clip = e[1];
        clipped.push(name);
      });
      document.body.dataset.swipe = left + '|' + right + '|' + Math.round(x);
    }

    function show() {
      [$('om-swipe-left').value, $('om-swipe-right').value].forEach(function (id) {
        var g = group(id);
        if (g && !map.hasLayer(g)) { map.addLayer(g); }
      });
      update();
    }

    var dragging = false;
    L.DomEvent.on(divider, 'pointerdown', function (ev) {
      dragging = true;
      map.dragging.disable();
      L.DomEvent.stop(ev);
    });
    function move(ev) {
      if (!dragging) { return; }
      var r = map.getContainer().getBoundingClientRect();
      var pos = Math.max(0, Math.min(100, (ev.clientX - r.left) / r.width * 100));
      $('om-swipe-pos').value = String(pos);
      update();
    }
    function up() {
      if (dragging) { dragging = false; map.dragging.enable(); }
    }
    document.addEventListener('pointermove', move);
    document.addEventListener('pointerup', up);
    $('om-swipe-left').addEventListener('change', show);
    $('om-swipe-right').addEventListener('change', show);
    $('om-swipe-pos').addEventListener('input', update);
    map.on('move zoom viewreset resize', update);
    show();
    return {clicks: false, stop: function () {
      map.off('move zoom viewreset resize', update);
      document.removeEventListener('pointermove', move);
      document.removeEventListener('pointerup', up);
      clear();
      divider.remove();
      delete document.body.dataset.swipe;
    }};
  }

  W.addTool('swipe', '◫', t('wb_swipe'), start);
}());
