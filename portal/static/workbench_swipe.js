/* Swipe (卷帘) between two layers or two dates (issue 23): the left side shows left of a
 * divider, the right side right of it; drag the divider (or use the slider) to compare.
 *
 * - Two layers: each catalogue layer draws in a pane of its own (OneMap.pane), so the swipe
 *   clips the two panes, which works for GeoJSON and vector-tile layers alike; the clip is
 *   recomputed as the map moves, the way leaflet-side-by-side clips tile layers.
 * - Two dates (两期地类): the classified land cover of the latest monitoring run, earlier date
 *   left, later right, as PNG tiles the app renders (api/routers/landcover_tiles.py), each
 *   date in its own pane so the same clipping applies. The tiles need the key, which an
 *   <img> cannot send, so each tile is fetched with the page's headers (OneMap.api) and
 *   shown from a blob: URL. The option is there only for a key that may read monitoring
 *   data and when a run exists; otherwise a note says why.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var map = W.map;
  var t = O.t;
  var DATES = ['landcover-a', 'landcover-b'];

  function readable() {
    return Object.keys(O.config.layers || {}).filter(function (id) {
      return O.layerStatus(id) === 'ok';
    });
  }

  function group(id) { return window[(O.config.groups || {})[id]]; }

  /* A tile layer whose tiles are fetched with the key and language headers. */
  var KeyedTiles = L.TileLayer.extend({
    createTile: function (coords, done) {
      var img = document.createElement('img');
      img.alt = '';
      img.setAttribute('role', 'presentation');
      O.api(this.getTileUrl(coords)).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.blob();
      }).then(function (blob) {
        var url = URL.createObjectURL(blob);
        img.onload = function () { URL.revokeObjectURL(url); done(null, img); };
        img.onerror = function () { URL.revokeObjectURL(url); done(new Error('tile'), img); };
        img.src = url;
      }).catch(function (err) { done(err, img); });
      return img;
    }
  });

  function legendHtml(doc) {
    return '<div class="om-wb-hint">' + O.esc(t('wb_swipe_legend')) + '</div>' +
      doc.legend.map(function (e) {
        return '<div class="om-swipe-class" data-value="' + O.esc(e.value) + '">' +
          '<span class="om-swipe-swatch" style="display:inline-block;width:14px;' +
          'height:10px;margin-right:4px;border:1px solid rgba(0,0,0,.3);background:' +
          O.esc(e.color) + '"></span>' +
          O.esc(e.label) + '</div>';
      }).join('');
  }

  function start(panel) {
    var ids = readable();
    var options = ids.map(function (id) {
      return '<option value="' + O.esc(id) + '">' + O.esc(O.config.layers[id].title) +
        '</option>';
    }).join('');
    panel.innerHTML = '<div class="om-wb-title"></div>' +
      '<label class="om-wb-field"><span id="om-swipe-mode-label"></span>' +
      '<select id="om-swipe-mode"><option value="layers"></option>' +
      '<option value="dates" hidden disabled></option></select></label>' +
      '<p class="om-muted om-wb-note" id="om-swipe-dates-note" hidden></p>' +
      '<p class="om-muted om-wb-hint"></p>' +
      '<div id="om-swipe-layers">' +
      '<label class="om-wb-field"><span id="om-swipe-left-label"></span>' +
      '<select id="om-swipe-left">' + options + '</select></label>' +
      '<label class="om-wb-field"><span id="om-swipe-right-label"></span>' +
      '<select id="om-swipe-right">' + options + '</select></label></div>' +
      '<div id="om-swipe-legend" hidden></div>' +
      '<input type="range" id="om-swipe-pos" min="0" max="100" step="any" value="50">';
    var $ = function (id) { return panel.querySelector('#' + id); };
    var hint = panel.querySelector('.om-wb-hint');
    var modeSel = $('om-swipe-mode');
    var datesOption = modeSel.querySelector('option[value="dates"]');
    panel.querySelector('.om-wb-title').textContent = t('wb_swipe');
    hint.textContent = t('wb_swipe_hint');
    $('om-swipe-mode-label').textContent = t('wb_swipe_mode');
    modeSel.querySelector('option[value="layers"]').textContent = t('wb_swipe_layers');
    datesOption.textContent = t('wb_swipe_dates');
    $('om-swipe-left-label').textContent = t('wb_swipe_left');
    $('om-swipe-right-label').textContent = t('wb_swipe_right');
    $('om-swipe-pos').setAttribute('aria-label', t('wb_swipe'));
    if (ids.length > 1) { $('om-swipe-right').value = ids[1]; }
    var divider = L.DomUtil.create('div', 'om-swipe-divider', map.getContainer());
    L.DomUtil.create('div', 'om-swipe-handle', divider);
    L.DomEvent.disableClickPropagation(divider);  // a drag's click is not an identify click
    var badges = ['a', 'b'].map(function (which) {
      var b = L.DomUtil.create('span', 'om-swipe-date om-swipe-date-' + which, divider);
      b.style.cssText = 'position:absolute;top:8px;padding:1px 6px;border-radius:3px;' +
        'background:rgba(255,255,255,.9);font-size:12px;white-space:nowrap;' +
        (which === 'a' ? 'right:8px;' : 'left:8px;');
      b.hidden = true;
      return b;
    });
    var clipped = [];
    var dates = null;       // the run's document, once loaded
    var tiles = null;       // {a, b} tile layers while the dates are shown
    var stopped = false;
    var added = [];         // layers the two-layer mode turned on

    function mode() { return modeSel.value; }

    function sides() {
      return mode() === 'dates' ? DATES : [$('om-swipe-left').value, $('om-swipe-right').value];
    }

    function clear() {
      clipped.forEach(function (name) {
        var pane = map.getPane(name);
        if (pane) { pane.style.clip = ''; }
      });
      clipped = [];
    }

    function update() {
      var pair = sides(), left = pair[0], right = pair[1];
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

    function tilesState() {
      var busy = !!tiles && ['a', 'b'].some(function (w) {
        return !tiles[w] || tiles[w].isLoading();
      });
      document.body.dataset.swipeTiles = busy ? 'loading' : 'idle';
    }

    function removeTiles() {
      if (!tiles) { return; }
      map.removeLayer(tiles.a);
      map.removeLayer(tiles.b);
      tiles = null;
      delete document.body.dataset.swipeTiles;
    }

    function showDates() {
      var b = dates.bounds;
      var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      tiles = {};
      ['a', 'b'].forEach(function (which, i) {
        var layer = new KeyedTiles(dates.tiles[which], {
          pane: O.pane(map, DATES[i]), bounds: bounds, minZoom: dates.minzoom,
          maxZoom: Math.max(dates.maxzoom, map.getMaxZoom() || dates.maxzoom),
          maxNativeZoom: dates.maxzoom, keepBuffer: 1
        });
        layer.on('loading load tileerror', tilesState);
        tiles[which] = layer.addTo(map);
      });
      tilesState();
      if (!map.getBounds().intersects(bounds)) { map.fitBounds(bounds); }
      hint.textContent = t('wb_swipe_dates_hint',
                           {a: dates.date_a, b: dates.date_b, run: dates.run_id});
      badges[0].textContent = dates.date_a;
      badges[1].textContent = dates.date_b;
      $('om-swipe-legend').innerHTML = legendHtml(dates);
    }

    function show() {
      var byDate = mode() === 'dates';
      $('om-swipe-layers').hidden = byDate;
      $('om-swipe-legend').hidden = !byDate;
      badges.forEach(function (b) { b.hidden = !byDate; });
      if (byDate) {
        // the layers this tool turned on for the two-layer swipe would cover the land cover
        added.forEach(function (g) { map.removeLayer(g); });
        added = [];
        if (!tiles) { showDates(); }
      } else {
        removeTiles();
        hint.textContent = t('wb_swipe_hint');
        sides().forEach(function (id) {
          var g = group(id);
          if (g && !map.hasLayer(g)) { map.addLayer(g); added.push(g); }
        });
      }
      update();
    }

    function datesUnavailable(message) {
      var note = $('om-swipe-dates-note');
      note.textContent = message;
      note.hidden = false;
      document.body.dataset.swipeDates = 'unavailable';
    }

    /* Only a key may read monitoring data (planner, forestry, admin): without one nothing is
     * asked (a refused request would only log an error); with one, the run list says whether
     * there is a run before its land cover is asked for. */
    function loadDates() {
      if (!O.apiKey() || O.keyRefused()) { datesUnavailable(t('wb_swipe_dates_locked')); return; }
      O.json('/api/v1/monitoring/runs?limit=1').then(function (page) {
        if (!page.total) { return null; }
        return O.json('/api/v1/monitoring/landcover');
      }).then(function (doc) {
        if (stopped) { return; }
        if (!doc) { datesUnavailable(t('wb_swipe_dates_none')); return; }
        dates = doc;
        datesOption.textContent = t('wb_swipe_dates') + ' (' + doc.date_a + ' | ' +
          doc.date_b + ')';
        datesOption.hidden = false;
        datesOption.disabled = false;
        document.body.dataset.swipeDates = 'ready';
      }).catch(function (err) {
        if (stopped) { return; }
        datesUnavailable(err.status === 401 || err.status === 403
          ? t('wb_swipe_dates_locked') : err.message);
      });
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
    modeSel.addEventListener('change', show);
    $('om-swipe-left').addEventListener('change', show);
    $('om-swipe-right').addEventListener('change', show);
    $('om-swipe-pos').addEventListener('input', update);
    map.on('move zoom viewreset resize', update);
    document.body.dataset.swipeDates = 'loading';
    show();
    loadDates();
    return {clicks: false, stop: function () {
      stopped = true;
      map.off('move zoom viewreset resize', update);
      document.removeEventListener('pointermove', move);
      document.removeEventListener('pointerup', up);
      removeTiles();
      clear();
      divider.remove();
      delete document.body.dataset.swipe;
      delete document.body.dataset.swipeDates;
    }};
  }

  W.addTool('swipe', '◫', t('wb_swipe'), start);
}());
