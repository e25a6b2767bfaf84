/* The reconciliation work list: filters, paged table, findings on the map, the decision panel,
 * detection as a background job, the summary by township and village, apply and export.
 *
 * The panel shows exactly what the server answered: a decision or status change answers with
 * the finding as it is now and its whole history, and the panel is drawn from that answer
 * (not from the table, which may no longer list the finding under its filters). A refused
 * change (409) says who changed the finding (the API's message names the event's actor) and
 * offers to reload it. The export takes the table's filters, so the file holds the rows the
 * screen lists. */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var map = O.map();
  var PAGE = 15;
  var POLL_MS = 400;
  var offset = 0;
  var total = 0;
  var items = [];
  var selected = null;
  var shapes = null;
  var chart = null;
  var KIND_COLORS = {
    forest_grass_overlap: '#e31a1c', class_mismatch: '#ff7f00', ownership_overlap: '#6a3d9a',
    missing_owner: '#b15928', missing_certificate: '#1f78b4', certificate_mismatch: '#33a02c',
    sliver: '#999999'
  };
  var API = '/api/v1/reconciliation';
  var JOBS = '/api/v1/jobs';
  var LOCALE = O.config.lang === 'en' ? 'en-GB' : 'zh-CN';

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initLayers(map);
  if (!map.getPane('om-findings')) { map.createPane('om-findings').style.zIndex = '530'; }

  var el = function (id) { return document.getElementById(id); };
  O.setFieldTitles({decision: t('recon_decision'), reason: t('recon_reason'),
                    division: t('division')});

  /* The table's filters: the same for the list, the summary and the export. */
  function filters() {
    var params = new URLSearchParams();
    ['division', 'kind', 'status', 'township', 'village'].forEach(function (name) {
      var v = el('recon-' + name).value;
      if (v) { params.set(name, v); }
    });
    return params;
  }

  function fillSelect(select, values) {
    var keep = select.value;
    select.length = 1;
    values.forEach(function (v) {
      var opt = document.createElement('option');
      opt.value = v;
      opt.textContent = v;
      select.appendChild(opt);
    });
    select.value = values.indexOf(keep) >= 0 ? keep : '';
  }

  function loadPlaces() {
    var division = el('recon-division').value;
    return O.json(API + '/summary' + (division ? '?division=' + division : '')).then(function (rows) {
      var towns = {}, villages = {};
      rows.forEach(function (r) {
        if (r.township) { towns[r.township] = true; }
        if (r.village) { villages[r.village] = true; }
      });
      fillSelect(el('recon-township'), Object.keys(towns).sort());
      fillSelect(el('recon-village'), Object.keys(villages).sort());
    }).catch(function () { /* the list itself reports a missing key */ });
  }

  /* Layers by their catalogue names, as the export names them. */
  function parcelsText(f) {
    return (f.parcels || []).map(function (p) {
      var c = O.config.layers[p.layer];
      return (c ? c.title : p.layer) + ' ' + p.key;
    }).join(O.config.lang === 'en' ? '; ' : '；');
  }

  function row(f) {
    var decision = O.label('finding_decision', f.decision);
    return '<tr data-id="' + f.id + '"' + (selected && selected.id === f.id ? ' class="om-selected"' : '') +
      '><td>' + f.id + '</td><td><span class="om-swatch" style="--c:' + (KIND_COLORS[f.kind] || '#333') +
      '"></span> ' + O.esc(O.label('finding_kind', f.kind)) + '</td><td class="om-status-cell">' +
      O.esc(O.label('finding_status', f.status)) + '</td><td>' + O.esc(decision) + '</td><td>' +
      O.esc(f.township || '') + '</td><td>' + O.esc(f.village || '') + '</td><td>' +
      O.esc(parcelsText(f)) + '</td><td class="num">' + O.num(f.area_mu, 2) + '</td></tr>';
  }

  function draw() {
    if (shapes) { map.removeLayer(shapes); }
    var features = items.filter(function (f) { return f.geometry; }).map(function (f) {
      return {type: 'Feature', geometry: f.geometry, properties: {id: f.id, kind: f.kind}};
    });
    shapes = L.geoJSON({type: 'FeatureCollection', features: features}, {
      pane: 'om-findings',
      style: function (f) {
        var c = KIND_COLORS[f.properties.kind] || '#333';
        return {color: c, weight: 2, fillColor: c, fillOpacity: 0.45};
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip('#' + f.properties.id + ' ' + O.label('finding_kind', f.properties.kind));
        layer.on('click', function (ev) {
          L.DomEvent.stopPropagation(ev);
          var item = items.filter(function (i) { return i.id === f.properties.id; })[0];
          if (item) { select(item, false); }
        });
      }
    }).addTo(map);
  }

  /* What an empty list means: nothing detected yet (say how to start) or nothing matching. */
  function emptyState(page) {
    var box = el('recon-empty');
    if (page.total > 0) { box.hidden = true; return; }
    var division = el('recon-division').value || O.config.divisions.map(function (d) { return d.code; })[0] || '';
    box.textContent = page.last_detection ? t('recon_empty_filtered')
      : t('recon_empty_never', {command: 'gis reconcile detect ' + division});
    box.dataset.state = page.last_detection ? 'filtered' : 'never';
    box.hidden = false;
  }

  function load() {
    var params = filters();
    params.set('limit', PAGE);
    params.set('offset', offset);
    params.set('geometry', 'true');
    O.status('recon-status-line', t('loading'));
    return O.json(API + '/findings?' + params.toString()).then(function (page) {
      total = page.total;
      items = page.items;
      el('recon-need-key').hidden = true;
      document.querySelectorAll('.om-forestry').forEach(function (e) { e.hidden = false; });
      document.querySelector('#recon-table tbody').innerHTML = items.map(row).join('');
      var pages = Math.max(1, Math.ceil(total / PAGE));
      el('recon-page').textContent = t('recon_page', {page: Math.floor(offset / PAGE) + 1, pages: pages});
      el('recon-prev').disabled = offset === 0;
      el('recon-next').disabled = offset + PAGE >= total;
      O.status('recon-status-line', t('recon_total', {total: total}) + (total ? ' · ' + t('recon_select_hint') : ''));
      emptyState(page);
      draw();
      document.body.dataset.findings = String(total);
      return loadSummary();
    }).catch(function (err) {
      if (err.status === 401 || err.status === 403) { el('recon-need-key').hidden = false; }
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  }

  function when(at) {
    return new Date(at).toLocaleString(LOCALE, {timeZone: 'Asia/Shanghai', hour12: false});
  }

  /* The actor is the key's holder; a typed name is only "on behalf of"; entries written
   * before actors were authenticated are marked unverified. */
  function who(actor, onBehalf, verified) {
    return O.esc(actor) +
      (onBehalf ? ' (' + O.esc(t('on_behalf', {name: onBehalf})) + ')' : '') +
      (verified === false ? ' <span class="om-unverified">' + O.esc(t('unverified')) + '</span>' : '');
  }

  /* The history: every action, decision and status by its label (发现, 保留林地 ...). */
  function historyHtml(events) {
    return events.map(function (e) {
      var details = e.details || {};
      var detail = details.decision ? ' ' + O.label('finding_decision', details.decision)
        : details.status ? ' ' + O.label('finding_status', details.status)
        : details.result ? ' ' + O.label('finding_decision', details.result) : '';
      var version = e.version != null ? ' · ' + t('recon_version') + ' ' + e.version : '';
      return '<li data-action="' + O.esc(e.action) + '">' + O.esc(when(e.at)) + ' · ' +
        who(e.actor, e.on_behalf_of, e.actor_verified) + ' · ' +
        O.esc(O.label('event_action', e.action)) + O.esc(detail) + O.esc(version) +
        (e.reason ? ' — ' + O.esc(e.reason) : '') + '</li>';
    }).join('');
  }

  /* The panel, drawn from a finding as the server gave it (with its history). */
  function showFinding(finding, history) {
    var geometry = finding.geometry || (selected && selected.id === finding.id ? selected.geometry : null);
    selected = Object.assign({}, finding, {geometry: geometry});
    var panel = el('recon-detail');
    panel.hidden = false;
    panel.dataset.id = String(finding.id);
    panel.dataset.version = String(finding.version);
    panel.dataset.status = finding.status;
    el('recon-detail-title').textContent = '#' + finding.id + ' ' + O.label('finding_kind', finding.kind);
    var trail = finding.decided_by ? '<p class="om-trail">' + O.esc(t('recon_trail', {
      decision: O.label('finding_decision', finding.decision), at: when(finding.decided_at)})) +
      ' · ' + who(finding.decided_by, finding.decided_on_behalf_of, finding.decided_verified) +
      (finding.decision_reason ? ' — ' + O.esc(finding.decision_reason) : '') + '</p>' : '';
    el('recon-detail-body').innerHTML = '<p id="recon-detail-state">' + O.esc(t('recon_status')) + '：' +
      O.esc(O.label('finding_status', finding.status)) + ' · ' + O.esc(t('recon_version')) + ' ' +
      finding.version + '</p>' + trail + '<p>' + O.esc(parcelsText(finding)) + '</p><p>' +
      O.esc(O.areaText(finding.area_m2)) + '</p>';
    if (finding.decision) { el('recon-decision').value = finding.decision; }
    var final = finding.status === 'applied' || finding.status === 'closed';
    el('recon-send-field').disabled = final || finding.status === 'field_check';
    el('recon-reopen').disabled = final || finding.status === 'open';
    el('recon-decide-button').disabled = final;
    el('recon-conflict').hidden = true;
    if (history) { el('recon-history').innerHTML = historyHtml(history); }
    document.querySelectorAll('#recon-table tbody tr').forEach(function (tr) {
      tr.classList.toggle('om-selected', Number(tr.dataset.id) === finding.id);
    });
  }

  function reloadFinding(id) {
    return O.json(API + '/findings/' + id).then(function (detail) {
      // A late answer must not undo a newer state: the user may have picked another finding,
      // or a change answered (with a higher version) while this read was on its way.
      var stale = !selected || selected.id !== detail.finding.id ||
                  (detail.finding.version < selected.version);
      if (!stale) { showFinding(detail.finding, detail.history); }
      return detail;
    });
  }

  function select(item, fromTable) {
    if (item.geometry) {
      O.showHighlight(map, [{type: 'Feature', geometry: item.geometry, properties: {}}], true);
    }
    showFinding(item, null);
    el('recon-history').innerHTML = '';
    O.status('recon-decide-status', '');
    reloadFinding(item.id).catch(function () { /* the list already said what is wrong */ });
    if (!fromTable) {
      var tr = document.querySelector('#recon-table tr[data-id="' + item.id + '"]');
      if (tr) { tr.scrollIntoView({block: 'nearest'}); }
    }
  }

  /* A change (decision or status) on the version the panel shows; the panel is redrawn from
   * the answer, the table and summary reloaded; a conflict names who changed it. */
  function change(path, body, done) {
    if (!selected) { return Promise.resolve(); }
    body.version = selected.version;
    var onBehalf = el('recon-actor').value.trim();
    if (onBehalf) { body.on_behalf_of = onBehalf; }
    el('recon-decide-button').disabled = true;
    return O.postJSON(API + '/findings/' + selected.id + path, body).then(function (finding) {
      // The panel is ready for the next change as soon as the answer is shown: the reason
      // was used by this change, the button follows the new status. The table reloads after.
      showFinding(finding, finding.history);
      el('recon-reason').value = '';
      enableDecide();
      O.status('recon-decide-status', done + ' · ' + t('recon_version') + ' ' + finding.version, 'ok');
      return load();
    }).catch(function (err) {
      if (err.status === 409) {
        el('recon-conflict-text').textContent = err.message;
        el('recon-conflict').hidden = false;
        O.status('recon-decide-status', '');
      } else {
        O.status('recon-decide-status', t('error') + ': ' + err.message, 'error');
      }
      enableDecide();
    });
  }

  function enableDecide() {
    if (selected) { el('recon-decide-button').disabled = selected.status === 'applied' || selected.status === 'closed'; }
  }

  document.querySelector('#recon-table tbody').addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr[data-id]');
    if (!tr) { return; }
    var item = items.filter(function (i) { return i.id === Number(tr.dataset.id); })[0];
    if (item) { select(item, true); }
  });

  el('recon-filters').addEventListener('submit', function (ev) {
    ev.preventDefault();
    offset = 0;
    load();
  });
  el('recon-division').addEventListener('change', function () { loadPlaces(); });
  el('recon-prev').addEventListener('click', function () { offset = Math.max(0, offset - PAGE); load(); });
  el('recon-next').addEventListener('click', function () { offset += PAGE; load(); });

  el('recon-decide').addEventListener('submit', function (ev) {
    ev.preventDefault();
    change('/decision', {decision: el('recon-decision').value, reason: el('recon-reason').value.trim()},
           t('recon_decided'));
  });
  el('recon-send-field').addEventListener('click', function () {
    change('/status', {status: 'field_check', reason: el('recon-reason').value.trim() || null},
           t('recon_sent_field'));
  });
  el('recon-reopen').addEventListener('click', function () {
    change('/status', {status: 'open', reason: el('recon-reason').value.trim() || null},
           t('recon_reopened'));
  });
  el('recon-reload').addEventListener('click', function () {
    if (!selected) { return; }
    reloadFinding(selected.id).then(function () {
      O.status('recon-decide-status', t('recon_reloaded'), 'ok');
      return load();
    });
  });

  // ---- detection as background jobs, one per division, with the progress polled ---------
  function poll(job) {
    return new Promise(function (resolve, reject) {
      function tick() {
        O.json(JOBS + '/' + job.id).then(function (current) {
          progress(current);
          if (current.status === 'succeeded') { resolve(current); }
          else if (current.status === 'failed' || current.status === 'cancelled') {
            var err = new Error(current.error ? current.error.message : O.label('job_status', current.status));
            reject(err);
          } else { setTimeout(tick, POLL_MS); }
        }).catch(reject);
      }
      tick();
    });
  }

  var running = {index: 0, count: 0, division: ''};

  function progress(job) {
    var p = job.progress || {};
    var bar = el('recon-job-bar');
    if (p.total) { bar.max = p.total; bar.value = p.done; } else { bar.removeAttribute('value'); }
    el('recon-job-text').textContent = t('recon_job_progress', {
      division: running.division, n: running.index + 1, count: running.count,
      status: O.label('job_status', job.status), stage: p.stage || ''});
    document.body.dataset.job = job.status;
  }

  function detect() {
    var division = el('recon-division').value;
    var divisions = division ? [division] : O.config.divisions.map(function (d) { return d.code; });
    running.count = divisions.length;
    el('recon-run').disabled = true;
    el('recon-job').hidden = false;
    var summaries = [];
    return divisions.reduce(function (chain, code, i) {
      return chain.then(function () {
        running.index = i;
        running.division = code;
        return O.postJSON(JOBS, {kind: 'reconciliation.detect', params: {division: code}})
          .then(function (job) { progress(job); return poll(job); })
          .then(function (job) { summaries.push(job.result); });
      });
    }, Promise.resolve()).then(function () {
      var sum = function (key) { return summaries.reduce(function (s, r) { return s + r[key]; }, 0); };
      el('recon-job-text').textContent = t('recon_job_done', {new: sum('new'), kept: sum('kept'), closed: sum('closed')});
      document.body.dataset.job = 'done';
      offset = 0;
      return loadPlaces().then(load);
    }).catch(function (err) {
      el('recon-job-text').textContent = t('recon_job_failed', {message: err.message});
      document.body.dataset.job = 'failed';
    }).then(function () {
      el('recon-run').disabled = false;
      el('recon-job-bar').value = el('recon-job-bar').max;
    });
  }

  el('recon-run').addEventListener('click', detect);

  // ---- summary by township and village: a table and a chart --------------------------------
  function loadSummary() {
    return O.json(API + '/summary?' + filters().toString()).then(function (rows) {
      el('recon-summary-section').hidden = rows.length === 0;
      document.querySelector('#recon-summary tbody').innerHTML = rows.map(function (r) {
        return '<tr><td>' + O.esc(r.township || '') + '</td><td>' + O.esc(r.village || '') +
          '</td><td>' + O.esc(O.label('finding_kind', r.kind)) + '</td><td>' +
          O.esc(O.label('finding_status', r.status)) + '</td><td class="num">' + r.count +
          '</td><td class="num">' + O.num(r.area_mu, 2) + '</td><td class="num">' +
          O.num(r.area_ha, 4) + '</td></tr>';
      }).join('');
      drawChart(rows);
    }).catch(function () { /* the list reports what is wrong */ });
  }

  function drawChart(rows) {
    var towns = [], kinds = [];
    rows.forEach(function (r) {
      var town = r.township || '—';
      if (towns.indexOf(town) < 0) { towns.push(town); }
      if (kinds.indexOf(r.kind) < 0) { kinds.push(r.kind); }
    });
    var datasets = kinds.map(function (kind) {
      return {
        label: O.label('finding_kind', kind), backgroundColor: KIND_COLORS[kind] || '#333',
        data: towns.map(function (town) {
          return rows.filter(function (r) { return (r.township || '—') === town && r.kind === kind; })
            .reduce(function (s, r) { return s + r.area_mu; }, 0);
        })
      };
    });
    if (chart) { chart.destroy(); }
    chart = new window.Chart(el('recon-chart'), {
      type: 'bar', data: {labels: towns, datasets: datasets},
      options: {indexAxis: 'y', animation: false, maintainAspectRatio: false,
                plugins: {title: {display: true, text: t('recon_chart')}},
                scales: {x: {stacked: true, title: {display: true, text: O.label('unit', 'mu')}},
                         y: {stacked: true}}}
    });
  }

  // ---- apply and export ------------------------------------------------------------------
  el('recon-apply').addEventListener('click', function () {
    var division = el('recon-division').value;
    if (!division) { O.status('recon-status-line', t('recon_apply_needs_division'), 'error'); return; }
    O.postJSON(API + '/apply', {division: division}).then(function (result) {
      if (selected) { reloadFinding(selected.id).catch(function () { /* reported by the list */ }); }
      return load().then(function () {
        O.status('recon-status-line', t('recon_applied', {version: result.version_id, count: result.applied}), 'ok');
      });
    }).catch(function (err) {
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  });

  el('recon-export').addEventListener('click', function () {
    O.download(API + '/export.xlsx?' + filters().toString(), 'reconciliation.xlsx').catch(function (err) {
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  });

  loadPlaces();
  load();
}());
