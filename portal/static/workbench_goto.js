/* Go to a coordinate (issue 23): CGCS2000 longitude/latitude, or a CGCS2000 3-degree
 * Gauss-Kruger X (northing) / Y (easting) with its zone, the way survey sheets and the
 * 三调 data give them. The inverse projection is the Krüger n-series, the inverse of the
 * read-out's (OneMap.gaussKruger, checked against PROJ in the tests); Y may carry the zone
 * number in front (35 512345.67), as the national convention writes it.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var map = W.map;
  var t = O.t;
  var A_AXIS = 6378137.0, FLAT = 1 / 298.257222101;

  /* CGCS2000 GK 3-degree (central meridian cm) X/Y -> [lon, lat]. */
  function gaussKrugerInverse(x, y, cm) {
    var n = FLAT / (2 - FLAT), n2 = n * n, n3 = n2 * n, n4 = n3 * n;
    var A = A_AXIS / (1 + n) * (1 + n2 / 4 + n4 / 64);
    var beta = [n / 2 - 2 * n2 / 3 + 37 * n3 / 96 - n4 / 360,
                n2 / 48 + n3 / 15 - 437 * n4 / 1440,
                17 * n3 / 480 - 37 * n4 / 840,
                4397 * n4 / 161280];
    var xi = x / A, eta = (y - 500000) / A;
    var xi1 = xi, eta1 = eta;
    for (var j = 1; j <= 4; j++) {
      xi1 -= beta[j - 1] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
      eta1 -= beta[j - 1] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
    }
    var tauc = Math.sin(xi1) / Math.sqrt(Math.sinh(eta1) * Math.sinh(eta1) +
                                          Math.cos(xi1) * Math.cos(xi1));
    var lam = Math.atan2(Math.sinh(eta1), Math.cos(xi1));
    // conformal -> geodetic latitude (Karney 2011, Newton's method on tau = tan(phi))
    var e2 = FLAT * (2 - FLAT), e = Math.sqrt(e2), tau = tauc;
    for (var k = 0; k < 8; k++) {
      var s = Math.sqrt(1 + tau * tau);
      var sig = Math.sinh(e * Math.atanh(e * tau / s));
      var taui = tau * Math.sqrt(1 + sig * sig) - sig * s;
      var dtau = (tauc - taui) / Math.sqrt(1 + taui * taui) *
        (1 + (1 - e2) * tau * tau) / ((1 - e2) * s);
      tau += dtau;
      if (Math.abs(dtau) < 1e-14) { break; }
    }
    return [cm + lam * 180 / Math.PI, Math.atan(tau) * 180 / Math.PI];
  }

  function number(input, title) {
    var raw = input.value.trim().replace(/\s+/g, '');
    var v = raw === '' ? NaN : Number(raw);
    if (!isFinite(v)) { throw new Error(t('wb_goto_bad_number', {field: title})); }
    return v;
  }

  /* The central meridian from a zone field (3° zone 25..45 or a meridian 75..135) or the
   * zone prefix of Y; returns [cm, y without the prefix]. */
  function zoneOf(zoneText, y) {
    var cm = null;
    if (y >= 1e6) {
      var zone = Math.floor(y / 1e6);
      y -= zone * 1e6;
      cm = zone * 3;
    }
    if (zoneText !== '') {
      var z = Number(zoneText);
      if (!isFinite(z)) { throw new Error(t('wb_goto_bad_zone')); }
      cm = z <= 60 ? z * 3 : z;
    }
    if (cm == null) { throw new Error(t('wb_goto_no_zone')); }
    if (cm < 75 || cm > 135 || cm % 3 !== 0) { throw new Error(t('wb_goto_bad_zone')); }
    return [cm, y];
  }

  var marker = null;

  function goTo(lon, lat) {
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) {
      throw new Error(t('wb_goto_out_of_range'));
    }
    if (marker) { map.removeLayer(marker); }
    var gk = O.gaussKruger(lon, lat);
    marker = L.circleMarker([lat, lon], {radius: 8, color: '#d7301f', weight: 3,
                                         fillOpacity: 0.2, interactive: false}).addTo(map);
    map.setView([lat, lon], Math.max(map.getZoom(), 15), {animate: false});
    return gk;
  }

  function field(id, title) {
    return '<label class="om-wb-field"><span>' + O.esc(title) + '</span><input id="' + id +
      '" inputmode="decimal" autocomplete="off" spellcheck="false"></label>';
  }

  function start(panel) {
    panel.innerHTML = '<div class="om-wb-title"></div>' +
      '<form id="om-goto-form" class="om-wb-form" novalidate>' +
      '<select id="om-goto-mode"><option value="lonlat"></option><option value="gk"></option>' +
      '</select><div id="om-goto-lonlat">' + field('om-goto-lon', t('wb_lon')) +
      field('om-goto-lat', t('wb_lat')) + '</div><div id="om-goto-gk" hidden>' +
      field('om-goto-x', t('wb_gk_x')) + field('om-goto-y', t('wb_gk_y')) +
      field('om-goto-zone', t('wb_gk_zone')) + '</div><button type="submit"></button>' +
      '<p id="om-goto-status" class="om-status"></p></form>';
    panel.querySelector('.om-wb-title').textContent = t('wb_goto');
    var mode = panel.querySelector('#om-goto-mode');
    mode.options[0].textContent = t('wb_goto_lonlat');
    mode.options[1].textContent = t('wb_goto_gk');
    panel.querySelector('button[type=submit]').textContent = t('wb_goto_button');
    mode.addEventListener('change', function () {
      panel.querySelector('#om-goto-lonlat').hidden = mode.value !== 'lonlat';
      panel.querySelector('#om-goto-gk').hidden = mode.value !== 'gk';
    });
    var form = panel.querySelector('#om-goto-form');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var status = panel.querySelector('#om-goto-status');
      try {
        var lon, lat;
        if (mode.value === 'lonlat') {
          lon = number(panel.querySelector('#om-goto-lon'), t('wb_lon'));
          lat = number(panel.querySelector('#om-goto-lat'), t('wb_lat'));
        } else {
          var x = number(panel.querySelector('#om-goto-x'), t('wb_gk_x'));
          var y = number(panel.querySelector('#om-goto-y'), t('wb_gk_y'));
          var z = zoneOf(panel.querySelector('#om-goto-zone').value.trim(), y);
          var ll = gaussKrugerInverse(x, z[1], z[0]);
          lon = ll[0];
          lat = ll[1];
        }
        var gk = goTo(lon, lat);
        O.status(status, t('wb_goto_result') + ': ' + lon.toFixed(6) + ', ' + lat.toFixed(6) +
                 ' · CM' + gk.cm + 'E X ' + gk.x.toFixed(2) + ' Y ' + gk.y.toFixed(2), 'ok');
        document.body.dataset.goto = lon.toFixed(8) + ',' + lat.toFixed(8);
      } catch (err) {
        O.status(status, err.message, 'error');
        document.body.dataset.goto = 'error';
      }
    });
    return {
      clicks: false,
      stop: function () {
        if (marker) { map.removeLayer(marker); marker = null; }
      }
    };
  }

  W.addTool('goto', '◎', t('wb_goto'), start);
  W.gaussKrugerInverse = gaussKrugerInverse;
}());
