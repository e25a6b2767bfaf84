/* Measure distance and area on the map (issue 23).
 *
 * Lengths and areas are geodesic on the CGCS2000 ellipsoid (GRS80 axes), computed by
 * GeographicLib (npm geographiclib-geodesic, Karney's algorithms, the same that pyproj.Geod
 * uses), never on the Web Mercator screen: a planar area off the screen is 30% too large in
 * Ningxia. Areas read in m², 亩 and ha like every other area in the portal.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W || !window.geodesic) { return; }
  var map = W.map;
  var t = O.t;
  // CGCS2000: a = 6378137 m, f = 1/298.257222101 (the GRS80 ellipsoid).
  var geod = new window.geodesic.Geodesic.Geodesic(6378137, 1 / 298.257222101);

  /* {length, perimeter, area} of the points ([lat, lng]); area for a closed ring. */
  function measure(points, closed) {
    var poly = geod.Polygon(!closed);
    points.forEach(function (p) { poly.AddPoint(p[0], p[1]); });
    var r = poly.Compute(false, true);
    return {length: closed ? null : r.perimeter, perimeter: closed ? r.perimeter : null,
            area: closed ? Math.abs(r.area) : null, number: r.number};
  }

  function lengthText(m) {
    if (m >= 1000) { return O.num(m / 1000, 3) + ' ' + t('wb_kilometers'); }
    return O.num(m, 2) + ' ' + t('wb_meters');
  }

  function start(panel, closed) {
    var points = [];
    var layer = L.layerGroup().addTo(map);
    var shape = null;
    var zoomOnDbl = map.doubleClickZoom.enabled();
    map.doubleClickZoom.disable();
    map.getContainer().classList.add('om-measuring');
    panel.innerHTML = '<div class="om-wb-title"></div><p class="om-muted om-wb-hint"></p>' +
      '<table class="om-wb-result" id="om-measure-result"></table>' +
      '<div class="om-wb-actions"><button type="button" id="om-measure-finish"></button>' +
      '<button type="button" id="om-measure-clear"></button></div>' +
      '<p class="om-muted om-wb-note"></p>';
    panel.querySelector('.om-wb-title').textContent =
      closed ? t('wb_measure_area') : t('wb_measure_distance');
    panel.querySelector('.om-wb-hint').textContent = t('wb_measure_hint');
    panel.querySelector('.om-wb-note').textContent = t('wb_ellipsoid_note');
    var result = panel.querySelector('#om-measure-result');
    var finishBtn = panel.querySelector('#om-measure-finish');
    var clearBtn = panel.querySelector('#om-measure-clear');
    finishBtn.textContent = t('wb_measure_finish');
    clearBtn.textContent = t('wb_measure_clear');
    var finished = false;
    W.lastPoints = function () { return points.slice(); };

    function row(title, value, kind) {
      return '<tr><th>' + O.esc(title) + '</th><td data-kind="' + kind + '">' + O.esc(value) +
        '</td></tr>';
    }

    function redraw() {
      if (shape) { layer.removeLayer(shape); }
      var style = {color: '#e6550d', weight: 2, dashArray: finished ? null : '6 4',
                   fillOpacity: 0.15, interactive: false};
      shape = closed && points.length > 2 ? L.polygon(points, style) : L.polyline(points, style);
      layer.addLayer(shape);
      var rows = [];
      if (closed && points.length > 2) {
        var a = measure(points, true);
        rows.push(row(t('wb_area'), O.areaText(a.area), 'area'));
        rows.push(row(t('wb_perimeter'), lengthText(a.perimeter), 'perimeter'));
        result.dataset.areaM2 = String(a.area);
      } else if (!closed && points.length > 1) {
        var d = measure(points, false);
        rows.push(row(t('wb_distance'), lengthText(d.length), 'distance'));
        result.dataset.lengthM = String(d.length);
      }
      result.innerHTML = rows.join('');
      result.dataset.points = String(points.length);
    }

    function add(ev) {
      if (finished) { points = []; layer.clearLayers(); shape = null; finished = false; }
      var p = [ev.latlng.lat, ev.latlng.lng];
      var last = points[points.length - 1];
      if (last && last[0] === p[0] && last[1] === p[1]) { return; }  // a double click's second
      points.push(p);
      L.circleMarker(ev.latlng, {radius: 3, color: '#e6550d', interactive: false}).addTo(layer);
      redraw();
    }

    function finish() {
      finished = true;
      redraw();
      document.body.dataset.measure = 'done';
    }

    map.on('click', add);
    map.on('dblclick', finish);
    finishBtn.addEventListener('click', finish);
    clearBtn.addEventListener('click', function () {
      points = []; layer.clearLayers(); shape = null; finished = false; redraw();
    });
    return {
      clicks: true,
      stop: function () {
        map.off('click', add);
        map.off('dblclick', finish);
        map.removeLayer(layer);
        map.getContainer().classList.remove('om-measuring');
        if (zoomOnDbl) { map.doubleClickZoom.enable(); }
        delete document.body.dataset.measure;
      }
    };
  }

  W.addTool('distance', '⟷', t('wb_measure_distance'), function (panel) {
    return start(panel, false);
  });
  W.addTool('area', '▱', t('wb_measure_area'), function (panel) { return start(panel, true); });
  W.measure = measure;
}());
