/* The history of siting checks (审查记录): GET /api/v1/analysis/siting with the filters ->
 * the runs, newest first; a row reopens its run (footprint and pieces on the map, reports);
 * "re-run" checks it again against the current data (POST .../{id}/rerun) and shows what
 * changed; two ticked rows are compared (GET .../compare?a=&b=). */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var map = O.map();
  var BASE = '/api/v1/analysis/siting';
  var PAGE = 20;
  var offset = 0;
  var total = 0;
  var current = null;   // the reopened run
  var picked = [];      // ids ticked for comparison, in the order ticked
  var pieces = null;
  var latest = 0;       // the newest listing asked for: an older answer arriving late is dropped

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initLayers(map);

  function value(id) { return document.getElementById(id).value.trim(); }

  function query() {
    var params = new URLSearchParams({limit: PAGE, offset: offset});
    [['project_code', 'history-code'], ['q', 'history-q'], ['verdict', 'history-verdict'],
     ['from', 'history-from'], ['to', 'history-to']].forEach(function (pair) {
      if (value(pair[1])) { params.set(pair[0], value(pair[1])); }
    });
    return BASE + '?' + params.toString();
  }

  /* A stored time in Beijing time, as the reports print it. */
  function beijing(iso) {
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return d.toISOString().slice(0, 16).replace('T', ' ');
  }

  function projectText(run) {
    return [run.project_code, run.project_name].filter(Boolean).join(' ') || '—';
  }

  function load() {
    var asked = ++latest;
    var url = query();
    O.status('history-status', t('loading'));
    return O.json(url).then(function (page) {
      if (asked !== latest) { return; }
      document.body.dataset.listed = url;  // what the table shows (for tests and links)
      total = page.total;
      O.status('history-status', t('history_found', {total: page.total}), 'ok');
      var tbody = document.querySelector('#history-table tbody');
      tbody.innerHTML = page.items.map(function (run) {
        return '<tr data-run="' + O.esc(run.id) + '" data-verdict="' + O.esc(run.verdict) + '">' +
          '<td><input type="checkbox" class="history-pick" value="' + O.esc(run.id) + '"' +
          (picked.indexOf(run.id) >= 0 ? ' checked' : '') + '></td>' +
          '<td>' + O.esc(beijing(run.created_at)) + '</td><td>' + O.esc(projectText(run)) +
          (run.rerun_of ? ' <span class="om-muted">' + O.esc(t('history_rerun_mark')) + '</span>' : '') +
          '</td><td>' + O.esc(O.label('verdict', run.verdict)) + '</td><td class="num">' +
          (run.area_mu == null ? '—' : O.num(run.area_mu, 2)) + '</td><td>' +
          O.esc(run.requested_by || '—') + '</td></tr>';
      }).join('') || '<tr><td colspan="6">' + O.esc(t('history_none')) + '</td></tr>';
      document.getElementById('history-page').textContent =
        t('history_page', {from: page.items.length ? offset + 1 : 0, to: offset + page.items.length,
                           total: page.total});
      document.getElementById('history-prev').disabled = offset === 0;
      document.getElementById('history-next').disabled = offset + PAGE >= total;
    }).catch(function (err) { O.status('history-status', t('error') + ': ' + err.message, 'error'); });
  }

  function draw(run) {
    if (pieces) { map.removeLayer(pieces); }
    if (!map.getPane('om-pieces')) { map.createPane('om-pieces').style.zIndex = '540'; }
    pieces = L.geoJSON(run.overlap_geojson, {
      pane: 'om-pieces',
      style: function (f) {
        var p = f.properties;
        if (p.layer === 'footprint') { return {color: '#1f78b4', weight: 2, fill: false, dashArray: '4 3'}; }
        return {color: '#000', weight: 1.5, fillColor: O.colorFor(p.layer, {zone: p.zone}), fillOpacity: 0.75};
      }
    }).addTo(map);
    map.fitBounds(pieces.getBounds(), {maxZoom: 16, padding: [30, 30]});
  }

  function open(id) {
    return O.json(BASE + '/' + encodeURIComponent(id)).then(function (run) {
      current = run;
      document.getElementById('history-detail').hidden = false;
      document.getElementById('history-detail-title').textContent =
        projectText(run.project) + ' · ' + beijing(run.created_at);
      var verdict = document.getElementById('history-detail-verdict');
      verdict.className = 'om-verdict om-verdict-' + run.verdict;
      verdict.dataset.verdict = run.verdict;
      verdict.textContent = t('siting_verdict_is', {verdict: O.label('verdict', run.verdict)});
      var p = run.project;
      document.getElementById('history-detail-info').textContent = [
        t('siting_footprint_area_is', {area: O.areaText(run.footprint_area.area_m2)}),
        p.applicant, p.purpose, run.requested_by].filter(Boolean).join(' · ');
      document.body.dataset.opened = run.id;
      draw(run);
      return run;
    }).catch(function (err) { O.status('history-status', t('error') + ': ' + err.message, 'error'); });
  }

  function areaChange(m2) { return (m2 > 0 ? '+' : '') + O.num(m2 / (10000 / 15), 2) + ' ' + O.label('unit', 'mu'); }

  function layerZone(o) {
    var c = O.config.layers[o.layer];
    var coded = (c && c.coded) || {};
    var zones = coded.zone || (c && c.field ? coded[c.field] : null) || {};
    return (c ? c.title : o.layer) + (o.zone ? ' ' + (zones[o.zone] || o.zone) : '');
  }

  function showChanges(cmp) {
    var rows = [];
    function row(item, before, after, key) {
      rows.push('<tr data-change="' + O.esc(key) + '"><td>' + O.esc(item) + '</td><td>' + O.esc(before) +
                '</td><td>' + O.esc(after) + '</td></tr>');
    }
    if (cmp.verdict_before !== cmp.verdict_after) {
      row(t('history_verdict'), O.label('verdict', cmp.verdict_before), O.label('verdict', cmp.verdict_after), 'verdict');
    }
    if (cmp.path_before !== cmp.path_after) {
      row(t('siting_approval_path'), cmp.path_before ? t('history_path_yes') : '—',
          cmp.path_after ? t('history_path_yes') : '—', 'path');
    }
    if (cmp.profile_version_before !== cmp.profile_version_after) {
      row(t('history_profile_version'), cmp.profile_version_before, cmp.profile_version_after, 'profile');
    }
    if (cmp.footprint_difference_m2 > 0.01) {
      row(t('history_footprint_moved'), O.areaText(cmp.area_before_m2), O.areaText(cmp.area_after_m2), 'footprint');
    }
    cmp.overlaps.filter(function (o) { return Math.abs(o.change_m2) > 0.01; }).forEach(function (o) {
      row(layerZone(o) + ' (' + areaChange(o.change_m2) + ')', O.areaText(o.before_m2), O.areaText(o.after_m2),
          'overlap:' + o.layer);
    });
    cmp.control_lines.forEach(function (c) {
      row(t('history_control_line', {layer: (O.config.layers[c.layer] || {}).title || c.layer}),
          c.before || '—', c.after || '—', 'control_line:' + c.layer);
    });
    cmp.warnings_added.forEach(function (w) {
      row(t('history_warning_added'), '—', O.config.lang === 'en' ? w.message_en : w.message_zh, 'warning');
    });
    cmp.warnings_removed.forEach(function (w) {
      row(t('history_warning_removed'), O.config.lang === 'en' ? w.message_en : w.message_zh, '—', 'warning');
    });
    document.getElementById('history-changes').hidden = false;
    document.getElementById('history-changes').dataset.changed = String(cmp.changed);
    var when = {before: beijing(cmp.before_at), after: beijing(cmp.after_at)};
    document.getElementById('history-changes-summary').textContent =
      cmp.changed ? t('history_changed', when) : t('history_unchanged', when);
    document.querySelector('#history-changes-table tbody').innerHTML = rows.join('');
  }

  function compare(a, b) {
    return O.json(BASE + '/compare?a=' + encodeURIComponent(a) + '&b=' + encodeURIComponent(b))
      .then(showChanges)
      .catch(function (err) { O.status('history-status', t('error') + ': ' + err.message, 'error'); });
  }

  document.getElementById('history-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    offset = 0;
    load();
  });
  document.getElementById('history-prev').addEventListener('click', function () {
    offset = Math.max(0, offset - PAGE); load();
  });
  document.getElementById('history-next').addEventListener('click', function () {
    offset += PAGE; load();
  });
  document.querySelector('#history-table tbody').addEventListener('change', function (ev) {
    if (!ev.target.classList.contains('history-pick')) { return; }
    var id = ev.target.value;
    picked = picked.filter(function (x) { return x !== id; });
    if (ev.target.checked) { picked.push(id); }
    document.getElementById('history-compare').disabled = picked.length !== 2;
  });
  document.querySelector('#history-table tbody').addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr[data-run]');
    if (!tr || ev.target.classList.contains('history-pick')) { return; }
    open(tr.dataset.run);
  });
  document.getElementById('history-compare').addEventListener('click', function () {
    if (picked.length === 2) { compare(picked[0], picked[1]); }
  });
  document.getElementById('history-rerun').addEventListener('click', function () {
    if (!current) { return; }
    var before = current.id;
    var button = document.getElementById('history-rerun');
    button.disabled = true;
    O.status('history-status', t('siting_running'));
    O.postJSON(BASE + '/' + encodeURIComponent(before) + '/rerun', {}).then(function (run) {
      O.status('history-status', t('history_rerun_done'), 'ok');
      return open(run.id).then(function () { return compare(before, run.id); }).then(load);
    }).catch(function (err) {
      O.status('history-status', t('error') + ': ' + err.message, 'error');
    }).then(function () { button.disabled = false; });
  });
  function report(kind) {
    if (!current) { return; }
    O.download(current.links['report_' + kind], 'siting-' + current.id + '.' + kind)
      .catch(function (err) { O.status('history-status', t('error') + ': ' + err.message, 'error'); });
  }
  document.getElementById('history-pdf').addEventListener('click', function () { report('pdf'); });
  document.getElementById('history-html').addEventListener('click', function () { report('html'); });

  // A link from elsewhere (?project=CODE&run=ID) opens that project's history and run.
  var params = new URLSearchParams(window.location.search);
  if (params.get('project')) { document.getElementById('history-code').value = params.get('project'); }
  load().then(function () { if (params.get('run')) { open(params.get('run')); } });
}());
