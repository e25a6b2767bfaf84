/* The reconciliation work list: filters, paged table, findings on the map, decisions. */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var map = O.map();
  var PAGE = 15;
  var offset = 0;
  var total = 0;
  var items = [];
  var selected = null;
  var shapes = null;
  var KIND_COLORS = {
    forest_grass_overlap: '#e31a1c', class_mismatch: '#ff7f00', ownership_overlap: '#6a3d9a',
    missing_owner: '#b15928', missing_certificate: '#1f78b4', certificate_mismatch: '#33a02c',
    sliver: '#999999'
  };
  var API = '/api/v1/reconciliation';

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initLayers(map);
  if (!map.getPane('om-findings')) { map.createPane('om-findings').style.zIndex = '530'; }

  var el = function (id) { return document.getElementById(id); };
  O.setFieldTitles({decision: t('recon_decision'), reason: t('recon_reason'),
                    division: t('division')});

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

  function parcelsText(f) {
    return (f.parcels || []).map(function (p) {
      var c = O.config.layers[p.layer];
      return (c ? c.title : p.layer) + ' ' + p.key;
    }).join('；');
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
      document.querySelector('#recon-table tbody').innerHTML = items.map(row).join('');
      var pages = Math.max(1, Math.ceil(total / PAGE));
      el('recon-page').textContent = t('recon_page', {page: Math.floor(offset / PAGE) + 1, pages: pages});
      el('recon-prev').disabled = offset === 0;
      el('recon-next').disabled = offset + PAGE >= total;
      O.status('recon-status-line', t('recon_total', {total: total}) + ' · ' + t('recon_select_hint'));
      draw();
      document.body.dataset.findings = String(total);
    }).catch(function (err) {
      if (err.status === 401 || err.status === 403) { el('recon-need-key').hidden = false; }
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  }

  /* The history: every action, decision and status by its label (发现, 保留林地 ...). */
  function historyHtml(events) {
    return events.map(function (e) {
      var when = new Date(e.at).toLocaleString(O.config.lang === 'en' ? 'en-GB' : 'zh-CN');
      var details = e.details || {};
      var detail = details.decision ? ' ' + O.label('finding_decision', details.decision)
        : details.status ? ' ' + O.label('finding_status', details.status) : '';
      /* The actor is the key's holder; a typed name is only "on behalf of"; entries written
       * before actors were authenticated are marked unverified. */
      var who = O.esc(e.actor) +
        (e.on_behalf_of ? ' (' + O.esc(t('on_behalf', {name: e.on_behalf_of})) + ')' : '') +
        (e.actor_verified === false ? ' <span class="om-unverified">' + O.esc(t('unverified')) + '</span>' : '');
      return '<li data-action="' + O.esc(e.action) + '">' + O.esc(when) + ' · ' + who + ' · ' +
        O.esc(O.label('event_action', e.action)) +
        O.esc(detail) + (e.reason ? ' — ' + O.esc(e.reason) : '') + '</li>';
    }).join('');
  }

  function select(item, fromTable) {
    selected = item;
    document.querySelectorAll('#recon-table tbody tr').forEach(function (tr) {
      tr.classList.toggle('om-selected', Number(tr.dataset.id) === item.id);
    });
    if (item.geometry) {
      O.showHighlight(map, [{type: 'Feature', geometry: item.geometry, properties: {}}], true);
    }
    el('recon-detail').hidden = false;
    el('recon-detail-title').textContent = '#' + item.id + ' ' + O.label('finding_kind', item.kind);
    el('recon-detail-body').innerHTML = '<p>' + O.esc(t('recon_status')) + '：' +
      O.esc(O.label('finding_status', item.status)) + ' · ' + O.esc(t('recon_version')) + ' ' +
      item.version +
      '</p><p>' + O.esc(parcelsText(item)) + '</p><p>' + O.esc(O.areaText(item.area_m2)) + '</p>';
    if (item.decision) { el('recon-decision').value = item.decision; }
    O.status('recon-decide-status', '');
    O.json(API + '/findings/' + item.id).then(function (detail) {
      selected = Object.assign({}, item, detail.finding, {geometry: item.geometry});
      el('recon-history').innerHTML = historyHtml(detail.history);
    }).catch(function () { /* the list already said what is wrong */ });
    if (!fromTable) {
      var tr = document.querySelector('#recon-table tr[data-id="' + item.id + '"]');
      if (tr) { tr.scrollIntoView({block: 'nearest'}); }
    }
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
    if (!selected) { return; }
    var body = {decision: el('recon-decision').value, reason: el('recon-reason').value.trim(),
                version: selected.version};
    var onBehalf = el('recon-actor').value.trim();
    if (onBehalf) { body.on_behalf_of = onBehalf; }
    el('recon-decide-button').disabled = true;
    O.postJSON(API + '/findings/' + selected.id + '/decision', body).then(function (finding) {
      el('recon-reason').value = '';
      var keep = finding.id;
      return load().then(function () {
        var item = items.filter(function (i) { return i.id === keep; })[0];
        if (item) { select(item, false); }
        O.status('recon-decide-status', t('recon_decided') + ' (#' + finding.id + ')', 'ok');
      });
    }).catch(function (err) {
      O.status('recon-decide-status', t('error') + ': ' + err.message, 'error');
    }).then(function () { el('recon-decide-button').disabled = false; });
  });

  el('recon-run').addEventListener('click', function () {
    var division = el('recon-division').value;
    var divisions = division ? [division] : O.config.divisions.map(function (d) { return d.code; });
    O.status('recon-status-line', t('loading'));
    divisions.reduce(function (p, code) {
      return p.then(function () { return O.postJSON(API + '/runs', {division: code}); });
    }, Promise.resolve()).then(function () { loadPlaces(); return load(); }).catch(function (err) {
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  });

  el('recon-export').addEventListener('click', function () {
    var division = el('recon-division').value;
    O.download(API + '/export.xlsx' + (division ? '?division=' + division : ''),
               'reconciliation.xlsx').catch(function (err) {
      O.status('recon-status-line', t('error') + ': ' + err.message, 'error');
    });
  });

  loadPlaces();
  load();
}());
