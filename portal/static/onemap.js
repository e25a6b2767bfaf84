/* One-Map portal: code shared by every page.
 *
 * - OneMap.api(): the ONE fetch helper. Every request to the API goes through it so the
 *   X-API-Key header (kept in localStorage "onemap.apiKey") is never forgotten, and with it
 *   Accept-Language: the page's language, so problem details come back in the language the
 *   page shows; tile requests get the same headers through VectorGrid's fetchOptions
 *   (OneMap.headers()).
 * - Words: OneMap.t(key) is the page's words (the catalogue's portal.yaml), OneMap.label(group,
 *   value) an enum value's label (labels.yaml): no code is shown raw.
 * - Layers: each catalogue layer is an empty Folium FeatureGroup; when it is switched on it
 *   is filled from the OGC API (GeoJSON items for small layers, vector tiles for large ones).
 *   Layers the key may not read (401/403) are greyed out in the layer control.
 * - Identify: a click lists the features of every visible layer under the point, with the
 *   catalogue's field titles in the page's language, coded values by their labels and the
 *   area in m², 亩 and ha.
 */
(function () {
  'use strict';

  var KEY = 'onemap.apiKey';
  var cfgEl = document.getElementById('om-config');
  var config = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  var M2_PER_MU = 10000 / 15;

  function t(key, vars) {
    var s = (config.t && config.t[key]) || key;
    if (vars) {
      Object.keys(vars).forEach(function (name) { s = s.replace('{' + name + '}', vars[name]); });
    }
    return s;
  }

  /* The label of an enum value (labels.yaml), e.g. label('finding_status', 'open'). */
  function label(group, value) {
    if (value == null || value === '') { return ''; }
    var names = (config.labels || {})[group];
    var name = names ? names[String(value)] : null;
    return name != null ? name : String(value);
  }

  function esc(value) {
    return String(value == null ? '' : value).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  // ---- the key and the one fetch helper ------------------------------------------------------
  function apiKey() {
    try { return localStorage.getItem(KEY) || ''; } catch (e) { return ''; }
  }

  function setApiKey(value) {
    try {
      if (value) { localStorage.setItem(KEY, value); } else { localStorage.removeItem(KEY); }
    } catch (e) { /* private mode: the key lives for this page only */ }
  }

  /* A key the server refused (401: unknown or revoked) is not sent again on this page: public
   * layers are then read as the public may read them, with a message (issue 23). */
  var keyRefused = false;

  function headers(extra) {
    var h = Object.assign({}, extra || {});
    var key = apiKey();
    if (key && !keyRefused) { h['X-API-Key'] = key; }
    if (config.lang && !h['Accept-Language']) { h['Accept-Language'] = config.lang; }
    return h;
  }

  function keyStatus(state) {
    var el = document.getElementById('om-key-status');
    if (!el) { return; }
    var text = {none: t('key_none'), set: t('key_set'), invalid: t('key_invalid'),
                refused: t('key_refused_public')}[state];
    el.textContent = text;
    el.className = 'om-key-status om-key-' + state;
  }

  function api(url, options) {
    var opts = Object.assign({}, options || {});
    var sentKey = !!apiKey() && !keyRefused;
    opts.headers = headers(opts.headers);
    return fetch(url, opts).then(function (response) {
      if (response.status === 401 && sentKey) {
        // The key was refused (unknown or revoked): go on as the public, once, and say so.
        keyRefused = true;
        keyStatus('refused');
        var again = Object.assign({}, options || {});
        again.headers = headers(again.headers);
        return fetch(url, again);
      }
      return response;
    });
  }

  /* Titles of the request fields a page posts (reason -> 理由), so a validation problem reads
   * "理由 至少 1 个字符" rather than naming a JSON field. */
  var fieldTitles = {};

  function setFieldTitles(titles) { Object.assign(fieldTitles, titles); }

  /* What a problem details body says, in the page's language (the request asked for it): a
   * request-validation problem lists its fields' complaints, anything else its detail. */
  function problemText(body, response) {
    var fields = (body.errors || []).filter(function (e) { return e && e.msg; }).map(function (e) {
      var loc = e.loc || [];
      var title = fieldTitles[loc[loc.length - 1]];
      return title ? title + ' ' + e.msg : e.msg;
    });
    if (fields.length) { return (body.title ? body.title + ': ' : '') + fields.join(' · '); }
    return body.detail || body.title || response.statusText || String(response.status);
  }

  function apiError(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      var err = new Error(problemText(body, response));
      err.status = response.status;
      err.body = body;
      return err;
    });
  }

  function json(url, options) {
    return api(url, options).then(function (response) {
      if (!response.ok) { return apiError(response).then(function (e) { throw e; }); }
      return response.json();
    });
  }

  function postJSON(url, body) {
    return json(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                      body: JSON.stringify(body)});
  }

  /* Downloads go through fetch too (a plain link cannot carry the key header). */
  function download(url, fallbackName) {
    return api(url).then(function (response) {
      if (!response.ok) { return apiError(response).then(function (e) { throw e; }); }
      var cd = response.headers.get('Content-Disposition') || '';
      var match = /filename="?([^";]+)"?/.exec(cd);
      var name = match ? match[1] : fallbackName;
      return response.blob().then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
        return name;
      });
    });
  }

  function initKeyBox() {
    var form = document.getElementById('om-key-form');
    if (!form) { return; }
    var input = document.getElementById('om-key-input');
    keyStatus(keyRefused ? 'refused' : apiKey() ? 'set' : 'none');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      setApiKey(input.value.trim());
      input.value = '';
      window.location.reload();  // every layer and list is asked for again with the new key
    });
    document.getElementById('om-key-clear').addEventListener('click', function () {
      setApiKey('');
      window.location.reload();
    });
  }

  // ---- numbers and areas ---------------------------------------------------------------------
  var locale = config.lang === 'en' ? 'en-US' : 'zh-CN';

  function num(value, digits) {
    if (value == null || isNaN(value)) { return ''; }
    return Number(value).toLocaleString(locale, {minimumFractionDigits: digits,
                                                 maximumFractionDigits: digits});
  }

  function areaText(m2) {
    return num(m2, 0) + ' ' + label('unit', 'm2') + ' / ' + num(m2 / M2_PER_MU, 2) + ' ' +
      label('unit', 'mu') + ' / ' + num(m2 / 10000, 4) + ' ' + label('unit', 'ha');
  }

  // ---- CGCS2000 Gauss-Kruger (3-degree zones), Krüger n-series on the CGCS2000 ellipsoid ----
  function gaussKruger(lon, lat) {
    var a = 6378137.0, f = 1 / 298.257222101;
    var cm = 3 * Math.round(lon / 3);
    var n = f / (2 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n;
    var A = a / (1 + n) * (1 + n2 / 4 + n4 / 64);
    var alpha = [n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180,
                 13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440,
                 61 * n3 / 240 - 103 * n4 / 140,
                 49561 * n4 / 161280];
    var e = Math.sqrt(f * (2 - f));
    var phi = lat * Math.PI / 180, lam = (lon - cm) * Math.PI / 180;
    var s = Math.sin(phi);
    var tau = Math.sinh(Math.atanh(s) - e * Math.atanh(e * s));
    var xi1 = Math.atan2(tau, Math.cos(lam));
    var eta1 = Math.atanh(Math.sin(lam) / Math.sqrt(1 + tau * tau));
    var xi = xi1, eta = eta1;
    for (var j = 1; j <= 4; j++) {
      xi += alpha[j - 1] * Math.sin(2 * j * xi1) * Math.cosh(2 * j * eta1);
      eta += alpha[j - 1] * Math.cos(2 * j * xi1) * Math.sinh(2 * j * eta1);
    }
    return {cm: cm, x: A * xi, y: 500000 + A * eta, epsg: 4534 + (cm - 75) / 3};
  }

  function addGaussKrugerControl(map) {
    var control = L.control({position: 'bottomleft'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', 'om-gk leaflet-control');
      div.textContent = t('gk_prefix');
      return div;
    };
    control.addTo(map);
    // Right above the longitude/latitude read-out of the MousePosition control.
    var mouse = map.getContainer().querySelector('.leaflet-control-mouseposition');
    if (mouse) { mouse.parentNode.insertBefore(control.getContainer(), mouse); }
    map.on('mousemove', function (ev) {
      var g = gaussKruger(ev.latlng.lng, ev.latlng.lat);
      control.getContainer().textContent = t('gk_prefix') + ' CM' + g.cm + 'E (EPSG:' + g.epsg +
        ') X ' + g.x.toFixed(2) + ' Y ' + g.y.toFixed(2);
    });
  }

  // ---- geometry helpers ----------------------------------------------------------------------
  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) {
        inside = !inside;
      }
    }
    return inside;
  }

  function polygonContains(rings, x, y) {
    if (!rings.length || !ringContains(rings[0], x, y)) { return false; }
    for (var k = 1; k < rings.length; k++) {
      if (ringContains(rings[k], x, y)) { return false; }
    }
    return true;
  }

  function geometryContains(geometry, x, y) {
    if (!geometry) { return false; }
    if (geometry.type === 'Polygon') { return polygonContains(geometry.coordinates, x, y); }
    if (geometry.type === 'MultiPolygon') {
      return geometry.coordinates.some(function (p) { return polygonContains(p, x, y); });
    }
    if (geometry.type === 'GeometryCollection') {
      return geometry.geometries.some(function (g) { return geometryContains(g, x, y); });
    }
    return false;
  }

  // ---- layers --------------------------------------------------------------------------------
  var state = {};   // layer id -> {status, features, layer, loading}
  // The day whose control-line versions the map shows (?as_of=YYYY-MM-DD in the page's URL);
  // without it the API serves the versions in force today. Never two versions at once.
  var asOf = (function () {
    var v = new URLSearchParams(window.location.search).get('as_of');
    return v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null;
  })();

  function layerConfig(id) { return (config.layers || {})[id]; }

  function versionQuery(id) {
    var c = layerConfig(id);
    return asOf && c && c.versioned ? 'datetime=' + asOf : '';
  }

  function colorFor(id, props) {
    var c = layerConfig(id);
    if (!c) { return '#3388ff'; }
    var color = c.color;
    var value = c.field && props ? props[c.field] : null;
    if (value != null) {
      value = String(value);
      if (c.prefix) {
        var best = null;
        Object.keys(c.classes).forEach(function (k) {
          if (value.indexOf(k) === 0 && (!best || k.length > best.length)) { best = k; }
        });
        if (best) { color = c.classes[best]; }
      } else if (c.classes[value]) {
        color = c.classes[value];
      }
    }
    return color;
  }

  function styleFor(id, props) {
    var c = layerConfig(id) || {weight: 1, fillOpacity: 0.3};
    var color = colorFor(id, props);
    return {color: color, weight: c.weight, opacity: 0.9, fill: true, fillColor: color,
            fillOpacity: c.fillOpacity, dashArray: c.dash || null};
  }

  function pane(map, id) {
    var name = 'om-' + id;
    if (!map.getPane(name)) {
      var c = layerConfig(id);
      map.createPane(name).style.zIndex = String(400 + ((c && c.z) || 50));
    }
    return name;
  }

  function fetchAll(url) {
    var features = [];
    function page(next, guard) {
      return json(next).then(function (fc) {
        features = features.concat(fc.features || []);
        var link = (fc.links || []).filter(function (l) { return l.rel === 'next'; })[0];
        if (link && guard < 500 && (fc.features || []).length) { return page(link.href, guard + 1); }
        return features;
      });
    }
    return page(url, 0);
  }

  function itemsUrl(id, params) {
    var version = versionQuery(id);
    return '/ogc/collections/' + encodeURIComponent(id) + '/items?' + params +
      (version ? '&' + version : '');
  }

  function groupOf(id) {
    var name = (config.groups || {})[id];
    return name ? window[name] : null;
  }

  function restrictionCss() {
    var rules = [];
    Object.keys(state).forEach(function (id) {
      var st = state[id].status;
      if (st !== 'restricted' && st !== 'unavailable') { return; }
      var sel = '.om-layer[data-layer="' + id + '"]';
      var note = st === 'restricted' ? t('layer_restricted') : t('layer_unavailable');
      rules.push('.leaflet-control-layers label:has(' + sel + '){opacity:.45;pointer-events:none}');
      rules.push(sel + '::after{content:" (' + note.replace(/"/g, '') + ')";color:#a33;font-size:.85em}');
    });
    var style = document.getElementById('om-restrictions');
    if (!style) {
      style = document.createElement('style');
      style.id = 'om-restrictions';
      document.head.appendChild(style);
    }
    style.textContent = rules.join('\n');
  }

  function setLegendVisible(id, visible) {
    document.querySelectorAll('.om-legend-layer[data-layer="' + id + '"]').forEach(function (el) {
      el.classList.toggle('om-on', visible);
    });
    var any = document.querySelector('.om-legend-layer.om-on');
    document.querySelectorAll('.om-legend').forEach(function (el) {
      el.classList.toggle('om-empty', !any);
    });
  }

  function loadGeoJSON(map, id, group) {
    return fetchAll(itemsUrl(id, 'limit=1000')).then(function (features) {
      state[id].features = features;
      var layer = L.geoJSON({type: 'FeatureCollection', features: features}, {
        pane: pane(map, id), interactive: false,
        style: function (f) { return styleFor(id, f.properties); }
      });
      group.addLayer(layer);
      state[id].layer = layer;
    });
  }

  function loadTiles(map, id, group) {
    var base = '/ogc/collections/' + encodeURIComponent(id) + '/tiles/WebMercatorQuad/';
    return json(base + 'tilejson.json').catch(function () { return {}; }).then(function (tj) {
      var styles = {};
      styles[id] = function (props) { return styleFor(id, props); };
      var version = versionQuery(id);
      var layer = L.vectorGrid.protobuf(base + '{z}/{y}/{x}' + (version ? '?' + version : ''), {
        pane: pane(map, id), interactive: false, rendererFactory: L.canvas.tile,
        vectorTileLayerStyles: styles, fetchOptions: {headers: headers()},
        maxNativeZoom: Math.min(tj.maxzoom != null ? tj.maxzoom : 16, 16),
        // Only the tiles over the layer's extent: the server answers 404 for tiles outside
        // the tileset's limits (OGC API - Tiles), so the grid does not ask for them.
        bounds: tj.bounds ? L.latLngBounds([[tj.bounds[1], tj.bounds[0]],
                                            [tj.bounds[3], tj.bounds[2]]]) : undefined
      });
      // Below the tileset's minimum zoom there are no tiles: the grid leaves the group then
      // (a grid layer's own minZoom would clamp the whole map's zoom instead).
      state[id].minzoom = tj.minzoom || 0;
      state[id].layer = layer;
      layer.on('loading', function () { state[id].tilesBusy = true; });
      layer.on('load remove', function () { state[id].tilesBusy = false; });
      function follow() {
        var wanted = map.getZoom() >= state[id].minzoom;
        if (wanted && !group.hasLayer(layer)) { group.addLayer(layer); }
        if (!wanted && group.hasLayer(layer)) { group.removeLayer(layer); }
        zoomNotes(map);
      }
      map.on('zoomend', follow);
      follow();
    });
  }

  /* Parcel tiles start at a zoom (a county's parcels at zoom 8 are each below a pixel): the
   * legend says to zoom in until they show. */
  function zoomNotes(map) {
    Object.keys(state).forEach(function (id) {
      var min = state[id].minzoom || 0;
      document.querySelectorAll('.om-legend-layer[data-layer="' + id + '"]').forEach(function (el) {
        var note = el.querySelector('.om-zoom-note');
        var show = min > 0 && map.getZoom() < min;
        if (show && !note) {
          note = document.createElement('div');
          note.className = 'om-zoom-note';
          el.appendChild(note);
        }
        if (note) {
          note.textContent = show ? t('zoom_in_to_see', {z: min}) : '';
          note.hidden = !show;
        }
      });
    });
  }

  function ensureLoaded(map, id) {
    var st = state[id];
    var group = groupOf(id);
    if (!st || !group || st.status !== 'ok' || st.loading) { return st && st.loading; }
    var c = layerConfig(id);
    if (id === 'monitoring_patches') {
      st.loading = fetchAll(config.monitoring).then(function (features) {
        st.features = features;
        var layer = L.geoJSON({type: 'FeatureCollection', features: features}, {
          pane: pane(map, id), interactive: false,
          style: function () { return {color: '#ff00ff', weight: 2, fillOpacity: 0.3}; }
        });
        group.addLayer(layer);
        st.layer = layer;
      });
    } else {
      st.loading = (c.mode === 'tiles' ? loadTiles : loadGeoJSON)(map, id, group);
    }
    st.loading = st.loading.then(function () {
      st.loaded = true;
      map.fire('om:layerloaded', {id: id});
    }).catch(function (err) {
      st.status = err.status === 401 || err.status === 403 ? 'restricted' : 'unavailable';
      restrictionCss();
      if (map.hasLayer(group)) { map.removeLayer(group); }
    });
    return st.loading;
  }

  /* Which layers the key may read: one request to the collections list (a 401/403 per layer
   * would be a console error for every restricted layer). Monitoring patches lie inside the
   * red line and follow its sensitivity. */
  function readableLayers() {
    return json('/ogc/collections').then(function (body) {
      var ids = {};
      (body.collections || []).forEach(function (c) { ids[c.id] = true; });
      if (ids.eco_redline) { ids.monitoring_patches = true; }
      return {ids: ids, status: 'restricted'};
    }).catch(function (err) {
      return {ids: {}, status: err.status === 401 || err.status === 403 ? 'restricted' : 'unavailable'};
    });
  }

  /* Probe every layer with the current key, grey out what it may not read, load what is on,
   * and load the rest when it is switched on. Resolves when the visible layers have loaded. */
  function initLayers(map) {
    map.on('zoomend', function () { zoomNotes(map); });
    var ids = Object.keys(config.groups || {});
    ids.forEach(function (id) {
      state[id] = {status: 'unknown'};
      setLegendVisible(id, false);
    });
    var byGroup = {};
    ids.forEach(function (id) { byGroup[L.Util.stamp(groupOf(id))] = id; });
    map.on('layeradd', function (ev) {
      var id = byGroup[L.Util.stamp(ev.layer)];
      if (id === undefined) { return; }
      setLegendVisible(id, true);
      ensureLoaded(map, id);
    });
    map.on('layerremove', function (ev) {
      var id = byGroup[L.Util.stamp(ev.layer)];
      if (id !== undefined) { setLegendVisible(id, false); }
    });
    return readableLayers().then(function (readable) {
      return Promise.all(ids.map(function (id) {
        var status = readable.ids[id] ? 'ok' : readable.status;
        state[id].status = status;
        var group = groupOf(id);
        if (status !== 'ok') {
          if (map.hasLayer(group)) { map.removeLayer(group); }
          return null;
        }
        if (map.hasLayer(group)) {
          setLegendVisible(id, true);
          return ensureLoaded(map, id);
        }
        return null;
      }));
    }).then(function () {
      restrictionCss();
      document.body.dataset.layersReady = 'true';
      return state;
    });
  }

  /* The offline base map: district and township outlines, no tiles from anywhere. */
  function initOfflineBase(map) {
    var name = (config.bases || {}).offline;
    var group = name ? window[name] : null;
    if (!group) { return; }
    var loaded = false;
    function load() {
      if (loaded) { return; }
      loaded = true;
      fetchAll(itemsUrl('admin_divisions', 'limit=1000')).then(function (features) {
        var outlines = features.filter(function (f) {
          return f.properties && f.properties.level !== 'village';
        });
        group.addLayer(L.geoJSON({type: 'FeatureCollection', features: outlines}, {
          interactive: false,
          style: function (f) {
            var district = f.properties.level === 'district';
            return {color: district ? '#6b6b6b' : '#9a9a9a', weight: district ? 2 : 1,
                    fill: true, fillColor: '#f7f5ef', fillOpacity: district ? 0.6 : 0};
          }
        }));
      }).catch(function () { loaded = false; });
    }
    if (map.hasLayer(group)) { load(); }
    map.on('baselayerchange', function (ev) { if (ev.layer === group) { load(); } });
    map.on('layeradd', function (ev) { if (ev.layer === group) { load(); } });
  }

  // ---- identify popup ------------------------------------------------------------------------
  function valueText(c, field, value) {
    if (value == null || value === '') { return null; }
    var coded = c && c.coded && c.coded[field.name];
    if (coded && coded[value] != null) { return coded[value]; }
    if (field.type === 'bool' || typeof value === 'boolean') { return label('boolean', !!value); }
    if (field.type === 'float' && typeof value === 'number') { return num(value, 2); }
    return String(value);
  }

  /* A catalogue layer's popup, or a page's own (config.popups: the monitoring patches). */
  function featureHtml(id, props) {
    var c = layerConfig(id) || (config.popups || {})[id];
    var rows = [];
    if (c) {
      c.fields.forEach(function (field) {
        var text = valueText(c, field, props[field.name]);
        if (text != null) {
          rows.push('<tr><th>' + esc(field.title) + '</th><td>' + esc(text) + '</td></tr>');
        }
      });
    } else {
      Object.keys(props).forEach(function (k) {
        if (props[k] != null && typeof props[k] !== 'object') {
          rows.push('<tr><th>' + esc(k) + '</th><td>' + esc(props[k]) + '</td></tr>');
        }
      });
    }
    if (props.area_m2 != null) {
      rows.push('<tr><th>' + esc(t('area')) + '</th><td>' + esc(areaText(props.area_m2)) +
                '</td></tr>');
    }
    var title = c ? c.title : id;
    return '<div class="om-popup-layer" data-layer="' + esc(id) + '"><h4>' + esc(title) +
      '</h4><table>' + rows.join('') + '</table></div>';
  }

  function hitsAt(map, latlng) {
    var x = latlng.lng, y = latlng.lat, d = 1e-7;
    var visible = Object.keys(state).filter(function (id) {
      return state[id].status === 'ok' && map.hasLayer(groupOf(id));
    });
    visible.sort(function (a, b) {
      return ((layerConfig(b) || {z: 99}).z) - ((layerConfig(a) || {z: 99}).z);
    });
    return Promise.all(visible.map(function (id) {
      var c = layerConfig(id);
      if (c && c.mode === 'tiles') {
        var bbox = [x - d, y - d, x + d, y + d].join(',');
        return json(itemsUrl(id, 'bbox=' + bbox + '&limit=20')).then(function (fc) {
          return (fc.features || []).filter(function (f) { return geometryContains(f.geometry, x, y); })
            .map(function (f) { return {id: id, feature: f}; });
        }).catch(function () { return []; });
      }
      if (id === 'admin_divisions') {
        // The divisions are outlines; naming the village or township under the point is enough.
        var inside = (state[id].features || []).filter(function (f) {
          return f.properties.level !== 'district' && geometryContains(f.geometry, x, y);
        });
        return Promise.resolve(inside.map(function (f) { return {id: id, feature: f}; }));
      }
      return Promise.resolve((state[id].features || []).filter(function (f) {
        return geometryContains(f.geometry, x, y);
      }).map(function (f) { return {id: id, feature: f}; }));
    })).then(function (lists) { return [].concat.apply([], lists); });
  }

  var highlight = null;

  function showHighlight(map, features, fit) {
    if (highlight) { map.removeLayer(highlight); }
    if (!map.getPane('om-highlight')) { map.createPane('om-highlight').style.zIndex = '560'; }
    highlight = L.geoJSON({type: 'FeatureCollection', features: features}, {
      pane: 'om-highlight', interactive: false,
      style: function () { return {color: '#00e5ff', weight: 3, fill: false}; }
    }).addTo(map);
    if (fit && features.length) { map.fitBounds(highlight.getBounds(), {maxZoom: 16, padding: [30, 30]}); }
    return highlight;
  }

  function clearHighlight(map) {
    if (highlight) { map.removeLayer(highlight); highlight = null; }
  }

  /* A workbench tool that takes map clicks (measuring) turns identify off meanwhile. */
  var toolActive = false;

  function initIdentify(map) {
    map.on('click', function (ev) {
      if (toolActive) { return; }
      hitsAt(map, ev.latlng).then(function (hits) {
        var html = hits.length
          ? hits.map(function (h) { return featureHtml(h.id, h.feature.properties || {}); }).join('')
          : '<p class="om-muted">' + esc(t('nothing_here')) + '</p>';
        showHighlight(map, hits.map(function (h) { return h.feature; }), false);
        L.popup({maxWidth: 380, maxHeight: 340, className: 'om-popup'})
          .setLatLng(ev.latlng)
          .setContent('<div class="om-popup-body">' + html + '</div>')
          .openOn(map);
      });
    });
    map.on('popupclose', function () { clearHighlight(map); });
  }

  function mapObject() { return config.map ? window[config.map] : null; }

  function status(el, text, kind) {
    if (typeof el === 'string') { el = document.getElementById(el); }
    if (!el) { return; }
    el.textContent = text || '';
    el.className = 'om-status' + (kind ? ' om-' + kind : '');
  }

  document.addEventListener('DOMContentLoaded', initKeyBox);
  if (document.readyState !== 'loading') { initKeyBox(); }

  window.OneMap = {
    config: config, t: t, label: label, esc: esc, api: api, json: json, postJSON: postJSON,
    setFieldTitles: setFieldTitles,
    download: download, headers: headers, apiKey: apiKey, setApiKey: setApiKey,
    keyRefused: function () { return keyRefused; },
    setToolActive: function (on) { toolActive = !!on; },
    num: num, areaText: areaText, gaussKruger: gaussKruger,
    addGaussKrugerControl: addGaussKrugerControl, geometryContains: geometryContains,
    styleFor: styleFor, colorFor: colorFor, pane: pane, fetchAll: fetchAll,
    initLayers: initLayers, initOfflineBase: initOfflineBase, initIdentify: initIdentify,
    ensureLoaded: ensureLoaded, hitsAt: hitsAt, showHighlight: showHighlight,
    clearHighlight: clearHighlight, featureHtml: featureHtml, state: state,
    layerStatus: function (id) { return state[id] ? state[id].status : null; },
    tilesIdle: function () {
      return Object.keys(state).every(function (id) { return !state[id].tilesBusy; });
    },
    map: mapObject, status: status
  };
}());
