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
        layer.bindTooltip(v.village_name + ' ' + O.num(v.share * 100, 2) + '%',
                          {permanent: true, direction: 'center', className: 'om-village-label'});
        layer.on('click', function (ev) { L.DomEvent.stopPropagation(ev); showLedger(v); });
      }
    }).addTo(map);
    if (features.length) { map.fitBounds(villageLayer.getBounds(), {padding: [20, 20]}); }
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
            '</td><td>' + O.esc(d.draw_date) + '</td><td>' + O.esc(O.label('purpose', d.purpose)) +
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
    /* One call per district for the region; a region-wide figure (the UDB expansion ratio,
     * whose 1.3x limit is region-wide) comes with each and is shown once. Rows without a
     * target of their own (a district's own UDB ratio) are marked information only, and each
     * row's note says what it covers, in the page language (a note repeated from an earlier
     * row is kept as the row's tooltip). */
    var tbody = el('quota-indicators').querySelector('tbody');
    var code = division.length >= 6 ? division : null;
    var codes = code ? [code] : O.config.divisions.map(function (d) { return d.code; });
    var names = {'640000': t('region')};
    O.config.divisions.forEach(function (d) { names[d.code] = d.name; });
    return Promise.all(codes.map(function (c) {
      return O.json('/api/v1/indicators/' + c).catch(function () { return []; });
    })).then(function (lists) {
      var seen = {};
      var notes = {};
      var all = [].concat.apply([], lists).filter(function (i) {
        var key = i.id + '@' + i.division;
        if (seen[key]) { return false; }
        seen[key] = true;
        return true;
      });
      tbody.innerHTML = all.map(function (i) {
        var meets = i.information_only
          ? '<span class="om-badge om-muted" style="white-space: nowrap">' +
            O.esc(t('quota_information_only')) + '</span>'
          : i.meets_target == null ? '' : (i.meets_target ? '✔' : '✘');
        var target = i.target == null ? ''
          : (i.comparator ? O.label('comparator', i.comparator) + ' ' : '') + O.num(i.target, 2);
        var note = O.config.lang === 'en' ? i.note_en : i.note_zh;
        var repeated = note && notes[note];
        if (note) { notes[note] = true; }
        var where = code && i.division === code ? '' : ' <span class="om-muted">' +
          O.esc(names[i.division] || i.division) + '</span>';
        return '<tr data-indicator="' + O.esc(i.id) + '" data-information-only="' +
          !!i.information_only + '"' + (i.meets_target === false ? ' class="om-bad"' : '') +
          (repeated ? ' title="' + O.esc(note) + '"' : '') + '><td>' + O.esc(i.label_zh) + where +
          (note && !repeated ? '<div class="om-hint">' + O.esc(note) + '</div>' : '') +
          '</td><td class="num">' + O.num(i.value, 2) + ' ' + O.esc(O.label('unit', i.unit)) +
          '</td><td>' + O.esc(target) + '</td><td>' + meets + '</td></tr>';
      }).join('');
    });
  }

  function load() {
    var division = el('quota-division').value;
    O.status('quota-status', t('loading'));
    var villages = O.json('/api/v1/reserve/villages?division=' + division);
    var plans = Object.keys(shapes).length ? Promise.resolve(null)
      : O.fetchAll('/ogc/collections/village_plans/items?limit=1000').then(function (features) {
        features.forEach(function (f) { shapes[f.properties.village_code] = f; });
      }).catch(function () { return null; });
    return Promise.all([villages, plans]).then(function (res) {
      rows = res[0];
      table();
      drawChart();
      drawVillages();
      O.status('quota-status', '');
      document.body.dataset.villages = String(rows.length);
    }).catch(function (err) {
      O.status('quota-status', t('error') + ': ' + err.message, 'error');
    }).then(function () {
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
  load();
}());
