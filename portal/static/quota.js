/* The village quota dashboard: villages by compliance on the map, share against the
 * requirement in a chart, the ledger per village, control-line conflicts and indicators. */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var map = O.map();
  var chart = null;
  var villageLayer = null;
  var conflictLayer = null;
  var rows = [];
  var shapes = {};
  var COLORS = {good: '#2e9d4a', bad: '#d62728', overdrawn: '#8c1d9e'};
  var el = function (id) { return document.getElementById(id); };

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initLayers(map);
  ['om-villages', 'om-conflicts'].forEach(function (name, i) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = String(520 + i * 10); }
  });

  function kindOf(v) {
    if (v.overdrawn) { return 'overdrawn'; }
    return v.compliant ? 'good' : 'bad';
  }

  function requirement(v) {
    var sign = {'>=': '≥', '>': '>', '<=': '≤', '<': '<', approx: '≈'}[v.comparator] || v.comparator;
    var tol = v.comparator === 'approx' && v.tolerance ? ' ±' + O.num(v.tolerance * 100, 1) : '';
    return sign + ' ' + O.num(v.threshold * 100, 1) + '%' + tol;
  }

  function assessment(v) {
    var parts = [];
    parts.push('<span class="om-badge om-badge-' + (v.compliant ? 'good">' + O.esc(t('quota_compliant'))
      : 'bad">' + O.esc(t('quota_noncompliant'))) + '</span>');
    if (v.overdrawn) { parts.push('<span class="om-badge om-badge-warn">' + O.esc(t('quota_overdrawn')) + '</span>'); }
    return parts.join(' ') + (O.config.lang === 'en' ? '' : ' <span class="om-muted">' + O.esc(v.assessment_zh) + '</span>');
  }

  function table() {
    el('quota-table').querySelector('tbody').innerHTML = rows.map(function (v) {
      var bad = !v.compliant || v.overdrawn;
      return '<tr data-village="' + O.esc(v.village_code) + '" data-compliant="' + v.compliant +
        '" data-overdrawn="' + v.overdrawn + '"' + (bad ? ' class="om-bad"' : '') + '><td>' +
        O.esc(v.village_name) + '</td><td>' + O.esc(v.township_name) + '</td><td class="num">' +
        O.num(v.share * 100, 2) + '%</td><td>' + O.esc(requirement(v)) + '</td><td>' +
        assessment(v) + '</td><td class="num">' + O.num(v.drawn_m2, 0) + '</td><td class="num">' +
        O.num(v.remaining_m2, 0) + '</td></tr>';
    }).join('');
  }

  function drawChart() {
    var labels = rows.map(function (v) { return v.village_name; });
    var data = {
      labels: labels,
      datasets: [{
        type: 'bar', label: t('quota_share') + ' (%)',
        data: rows.map(function (v) { return +(v.share * 100).toFixed(3); }),
        backgroundColor: rows.map(function (v) { return COLORS[kindOf(v)]; }), order: 2
      }, {
        type: 'line', label: t('quota_threshold') + ' (%)',
        data: rows.map(function (v) { return +(v.threshold * 100).toFixed(3); }),
        borderColor: '#111', borderDash: [6, 4], pointRadius: 0, stepped: 'middle', order: 1
      }]
    };
    if (chart) { chart.destroy(); }
    chart = new window.Chart(el('quota-chart'), {
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {y: {beginAtZero: true, title: {display: true, text: '%'}}},
        plugins: {legend: {position: 'bottom'}},
        onClick: function (ev, elements) {
          if (elements.length) { showLedger(rows[elements[0].index]); }
        }
      }
    });
  }

  function drawVillages() {
    if (villageLayer) { map.removeLayer(villageLayer); }
    var features = rows.map(function (v) { return shapes[v.village_code]; }).filter(Boolean);
    var byCode = {};
    rows.forEach(function (v) { byCode[v.village_code] = v; });
    villageLayer = L.geoJSON({type: 'FeatureCollection', features: features}, {
      pane: 'om-villages',
      style: function (f) {
        var v = byCode[f.properties.village_code];
        var c = COLORS[kindOf(v)];
        return {color: c, weight: 2, fillColor: c, fillOpacity: 0.45};
      },
      onEachFeature: function (f, layer) {
        var v = byCode[f.properties.village_code];
        layer.omVillage = v;
        layer.bindTooltip(v.village_name + ' ' + O.num(v.share * 100, 2) + '%',
                          {permanent: true, direction: 'center', className: 'om-village-label'});
        layer.on('click', function (ev) { L.DomEvent.stopPropagation(ev); showLedger(v); });
      }
    }).addTo(map);
    if (features.length) {
      map.fitBounds(villageLayer.getBounds(), {padding: [20, 20], animate: false});
    }
    declutter();
  }

  /* Village labels, at most one on a spot (they piled up in clumps): the villages that need
   * attention (not compliant, overdrawn) first, then by share; a label that would overlap
   * one already shown is hidden until the map is zoomed in far enough to part them. */
  function declutter() {
    if (!villageLayer) { return; }
    var items = [];
    villageLayer.eachLayer(function (layer) {
      var tip = layer.getTooltip && layer.getTooltip();
      var node = tip && tip.getElement();
      if (node && layer.omVillage) { items.push({el: node, v: layer.omVillage}); }
    });
    items.sort(function (a, b) {
      var ka = kindOf(a.v) === 'good' ? 1 : 0, kb = kindOf(b.v) === 'good' ? 1 : 0;
      return ka - kb || b.v.share - a.v.share;
    });
    var placed = [];
    var shown = 0;
    items.forEach(function (item) {
      item.el.classList.remove('om-label-hidden');
      var r = item.el.getBoundingClientRect();
      var clash = placed.some(function (p) {
        return r.left < p.right + 2 && r.right > p.left - 2 &&
          r.top < p.bottom + 1 && r.bottom > p.top - 1;
      });
      item.el.classList.toggle('om-label-hidden', clash);
      if (!clash) { placed.push(r); shown += 1; }
    });
    document.body.dataset.labelsShown = String(shown);
  }

  function addLegend() {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'om-quota-legend leaflet-control');
      div.id = 'quota-legend';
      div.innerHTML = '<div class="om-legend-head">' + O.esc(t('legend')) + '</div>' + [
        [COLORS.good, t('quota_compliant')], [COLORS.bad, t('quota_noncompliant')],
        [COLORS.overdrawn, t('quota_overdrawn')], ['#ffff00', t('quota_conflicts')]
      ].map(function (e) {
        return '<div class="om-legend-row"><span class="om-swatch" style="--c:' + e[0] +
          '"></span>' + O.esc(e[1]) + '</div>';
      }).join('');
      return div;
    };
    ctl.addTo(map);
  }

  /* What a draw was for: an "other" draw states it (其他：<note>), a named one may add a note. */
  function purposeText(d) {
    var name = O.label('purpose', d.purpose);
    if (!d.purpose_note) { return name; }
    return d.purpose === 'other' ? t('quota_purpose_other', {note: d.purpose_note})
      : t('quota_purpose_noted', {label: name, note: d.purpose_note});
  }

  function showLedger(v) {
    el('quota-ledger-village').textContent = v.village_name + ' (' + v.village_code + ')';
    document.querySelectorAll('#quota-table tbody tr').forEach(function (tr) {
      tr.classList.toggle('om-selected', tr.dataset.village === v.village_code);
    });
    O.json('/api/v1/reserve/villages/' + encodeURIComponent(v.village_code) + '/ledger')
      .then(function (draws) {
        el('quota-ledger').hidden = false;
        el('quota-ledger-hint').textContent = t('quota_quota') + ' ' + O.num(v.quota_m2, 0) + ' ' +
          O.label('unit', 'm2') + ' · ' + t('quota_drawn') + ' ' + O.num(v.drawn_m2, 0) + ' · ' +
          t('quota_remaining') + ' ' + O.num(v.remaining_m2, 0) +
          (draws.length ? '' : ' · ' + t('quota_ledger_empty'));
        el('quota-ledger').querySelector('tbody').innerHTML = draws.map(function (d) {
          /* Reversals, reversed draws and invalid rows say so: the ledger is never edited. */
          var note = d.entry === 'reversal' ? t('quota_reversal', {id: d.reverses, reason: d.reason || ''})
            : d.invalid_value ? t('quota_invalid', {value: d.invalid_value})
            : d.reversed_by ? t('quota_reversed', {id: d.reversed_by}) : '';
          var who = (d.recorded_by || '') +
            (d.on_behalf_of ? ' (' + t('on_behalf', {name: d.on_behalf_of}) + ')' : '');
          return '<tr data-entry="' + O.esc(d.id) + '"><td>' + O.esc(d.project_code) +
            (d.project_name ? ' ' + O.esc(d.project_name) : '') +
            (note ? '<div class="om-hint">' + O.esc(note) + '</div>' : '') +
            '</td><td>' + O.esc(d.draw_date) + '</td><td>' + O.esc(purposeText(d)) +
            '</td><td class="num">' + (d.area_m2 == null ? '-' : O.num(d.area_m2, 0)) +
            '</td><td class="num">' + (d.area_mu == null ? '-' : O.num(d.area_mu, 2)) +
            '</td><td>' + O.esc(who) + (d.actor_verified === false
              ? ' <span class="om-unverified">' + O.esc(t('unverified')) + '</span>' : '') +
            '</td></tr>';
        }).join('');
      }).catch(function (err) { O.status('quota-status', t('error') + ': ' + err.message, 'error'); });
  }

  function loadConflicts(division) {
    if (conflictLayer) { map.removeLayer(conflictLayer); conflictLayer = null; }
    var tbody = el('quota-conflicts').querySelector('tbody');
    return O.json('/api/v1/control-lines/conflicts?division=' + division).then(function (list) {
      el('quota-conflicts-note').hidden = true;
      tbody.innerHTML = list.length ? list.map(function (c, i) {
        var a = O.config.layers[c.layer_a], b = O.config.layers[c.layer_b];
        return '<tr data-index="' + i + '"><td>' + O.esc((a ? a.title : c.layer_a) + ' ' + c.key_a) +
          '</td><td>' + O.esc((b ? b.title : c.layer_b) + ' ' + c.key_b) + '</td><td class="num">' +
          O.num(c.area_mu, 2) + '</td></tr>';
      }).join('') : '<tr><td colspan="3">' + O.esc(t('quota_conflicts_none')) + '</td></tr>';
      conflictLayer = L.geoJSON({type: 'FeatureCollection', features: list.map(function (c) {
        return {type: 'Feature', geometry: c.geometry, properties: {}};
      })}, {pane: 'om-conflicts', style: function () {
        return {color: '#000', weight: 2, fillColor: '#ff0', fillOpacity: 0.7};
      }}).addTo(map);
      tbody.onclick = function (ev) {
        var tr = ev.target.closest('tr[data-index]');
        if (tr) {
          O.showHighlight(map, [{type: 'Feature', geometry: list[Number(tr.dataset.index)].geometry,
                                 properties: {}}], true);
        }
      };
    }).catch(function (err) {
      tbody.innerHTML = '';
      if (err.status === 401 || err.status === 403) { el('quota-conflicts-note').hidden = false; }
      else { O.status('quota-status', t('error') + ': ' + err.message, 'error'); }
    });
  }

  function loadIndicators(division) {
    return window.QuotaIndicators.load(division);  // quota_indicators.js
  }

  var loading = 0;  // a slower answer for a division no longer chosen must not overwrite

  function load() {
    var mine = ++loading;
    var division = el('quota-division').value;
    O.status('quota-status', t('loading'));
    var villages = O.json('/api/v1/reserve/villages?division=' + division);
    var plans = Object.keys(shapes).length ? Promise.resolve(null)
      : O.fetchAll('/ogc/collections/village_plans/items?limit=1000').then(function (features) {
        features.forEach(function (f) { shapes[f.properties.village_code] = f; });
      }).catch(function () { return null; });
    return Promise.all([villages, plans]).then(function (res) {
      if (mine !== loading) { return; }
      rows = res[0];
      table();
      drawChart();
      drawVillages();
      O.status('quota-status', '');
      document.body.dataset.villages = String(rows.length);
    }).catch(function (err) {
      O.status('quota-status', t('error') + ': ' + err.message, 'error');
    }).then(function () {
      if (mine !== loading) { return null; }
      return Promise.all([loadConflicts(division), loadIndicators(division)]);
    });
  }

  el('quota-table').querySelector('tbody').addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr[data-village]');
    if (!tr) { return; }
    var v = rows.filter(function (r) { return r.village_code === tr.dataset.village; })[0];
    if (v) {
      showLedger(v);
      if (shapes[v.village_code]) {
        O.showHighlight(map, [shapes[v.village_code]], true);
      }
    }
  });
  el('quota-division').addEventListener('change', load);
  map.on('zoomend', declutter);
  addLegend();
  load();
}());
