/* The siting check: footprint (drawn or uploaded) -> POST /api/v1/analysis/siting -> verdict,
 * approval path, overlap pieces per layer, areas, cited rules, reports. */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var map = O.map();
  var drawn = window[O.config.extra.drawn];
  var result = null;
  var pieces = null;
  var activityNames = {};  // profile -> activity code -> name in the page's language

  O.initOfflineBase(map);
  O.addGaussKrugerControl(map);
  O.initLayers(map);

  var profileSel = document.getElementById('siting-profile');
  var activitySel = document.getElementById('siting-activity');
  O.setFieldTitles({activity: t('siting_activity'), profile: t('siting_profile'),
                    new_construction_land: t('siting_new_land'),
                    temporary: t('siting_temporary'), construction: t('siting_construction'),
                    linear: t('siting_linear'), line_width_m: t('siting_line_width')});

  function loadActivities() {
    var keep = activitySel.value;
    var profile = profileSel.value;
    return O.json('/api/v1/rules/' + encodeURIComponent(profile)).then(function (p) {
      activitySel.innerHTML = '';
      activityNames[profile] = {};
      p.activities.forEach(function (a) {
        var name = O.config.lang === 'en' ? a.name_en : a.name_zh;
        activityNames[profile][a.code] = name;
        var opt = document.createElement('option');
        opt.value = a.code;
        opt.textContent = a.code + ' ' + name;
        activitySel.appendChild(opt);
      });
      if (keep) { activitySel.value = keep; }
    }).catch(function (err) { O.status('siting-status', t('error') + ': ' + err.message, 'error'); });
  }
  profileSel.addEventListener('change', loadActivities);
  loadActivities();

  // One footprint at a time: a new drawing replaces the previous one.
  map.on('draw:created', function (ev) {
    drawn.clearLayers();
    drawn.addLayer(ev.layer);
    document.body.dataset.footprint = 'drawn';
  });

  document.getElementById('siting-file').addEventListener('change', function (ev) {
    var file = ev.target.files[0];
    if (!file) { return; }
    O.status('siting-file-status', t('loading'));
    var query = '?filename=' + encodeURIComponent(file.name);
    var uploadCrs = document.getElementById('siting-upload-crs').value;
    var zone = document.getElementById('siting-zone').value;
    if (uploadCrs) { query += '&crs=' + encodeURIComponent(uploadCrs); }
    if (zone) { query += '&zone=' + encodeURIComponent(zone); }
    O.json('/api/v1/footprints/parse' + query, {
      method: 'POST', headers: {'Content-Type': 'application/octet-stream'}, body: file
    }).then(function (fc) {
      drawn.clearLayers();
      L.geoJSON(fc, {style: function () { return {color: '#1f78b4', weight: 2}; }})
        .eachLayer(function (layer) { drawn.addLayer(layer); });
      map.fitBounds(drawn.getBounds(), {maxZoom: 16, padding: [20, 20]});
      O.status('siting-file-status', t('siting_parsed', {n: fc.features.length}), 'ok');
      // A coordinate file's parcel name is the project's until the planner types another.
      var name = document.getElementById('siting-project-name');
      var first = fc.features[0].properties || {};
      if (!name.value && fc.features.length === 1 && first.name) { name.value = first.name; }
      if (window.OneMapSitingBatch) { window.OneMapSitingBatch.offer(fc); }
      document.body.dataset.footprint = 'uploaded';
    }).catch(function (err) {
      O.status('siting-file-status', t('error') + ': ' + err.message, 'error');
    });
  });

  function layerTitle(id, fallback) {
    var c = O.config.layers[id];
    return c ? c.title : fallback;
  }

  /* A piece's zone by its catalogue label: the layer's zone field, or the field it is
   * classified by (cultivated land's subclass: 水田 for paddy). */
  function zoneText(layer, zone) {
    if (!zone) { return ''; }
    var c = O.config.layers[layer];
    var coded = (c && c.coded) || {};
    var names = coded.zone || (c && c.field ? coded[c.field] : null);
    return (names && names[zone]) || zone;
  }

  /* A reading of the text (the profile's interpretation), in the page's language. */
  function readingHtml(reading) {
    if (!reading) { return ''; }
    return '<div class="om-muted om-reading"><b>' + O.esc(t('siting_interpretation')) + '</b>：' +
      O.esc(O.config.lang === 'en' ? reading.en : reading.zh) + '</div>';
  }

  /* A rule's approval procedure: the bodies the text names (none is made up) and the step. */
  function procedureHtml(p) {
    if (!p) { return ''; }
    var bodies = [[t('siting_organizer'), p.organizer_zh], [t('siting_reviewer'), p.reviewer_zh],
                  [t('siting_decider'), p.decider_zh]].filter(function (x) { return x[1]; })
      .map(function (x) { return O.esc(x[0]) + '：' + O.esc(x[1]) + '；'; }).join('');
    return '<div class="om-procedure"><b>' + O.esc(t('siting_procedure')) + '</b>：' + bodies +
      O.esc(p.document_zh) + ' <span class="om-muted">' + O.esc(p.en) + '</span></div>';
  }

  var STATUS = {not_met: t('siting_condition_not_met'), met: t('siting_condition_met'),
                to_confirm: t('siting_condition_to_confirm')};

  function pathHtml(path) {
    if (!path) { return '<p>' + O.esc(t('siting_no_path')) + '</p>'; }
    var rows = [];
    if (path.exempt) { rows.push('<li><b>' + O.esc(t('siting_exempt')) + '</b></li>'); }
    else if (path.required === false) {
      rows.push('<li><b>' + O.esc(t('siting_no_justification')) + '</b></li>');
    }
    [[t('siting_organizer'), path.organizer_zh], [t('siting_reviewer'), path.reviewer_zh],
     [t('siting_decider'), path.decider_zh], [t('siting_document'), path.document_zh]]
      .forEach(function (pair) {
        if (pair[1]) { rows.push('<li>' + O.esc(pair[0]) + '：' + O.esc(pair[1]) + '</li>'); }
      });
    return '<ul>' + rows.join('') + '</ul><p class="om-muted">' + O.esc(path.en) + '</p>' +
      readingHtml(path.interpretation) +
      '<p class="om-cite">' + O.esc(cite(path.citation)) + '</p>';
  }

  /* A citation: the document by its title (the profile's), section, seed file and lines. */
  function cite(c) {
    if (!c) { return ''; }
    var profile = (O.config.profiles || []).filter(function (p) {
      return result && p.id === result.profile;
    })[0];
    var title = (profile && profile.documents[c.document]) || c.document;
    return title + ' ' + c.section + ' (' + c.seed.split('_')[0] + ':' + c.lines + ')';
  }

  function show(res) {
    result = res;
    document.getElementById('siting-result').hidden = false;
    var verdict = document.getElementById('siting-verdict');
    verdict.className = 'om-verdict om-verdict-' + res.verdict;
    verdict.dataset.verdict = res.verdict;
    verdict.textContent = t('siting_verdict_is', {verdict: O.label('verdict', res.verdict)});
    var history = new URLSearchParams({run: res.id});
    if (res.project && res.project.project_code) { history.set('project', res.project.project_code); }
    if (O.config.lang === 'en') { history.set('lang', 'en'); }
    document.getElementById('siting-history').href = '/history?' + history.toString();
    var activity = (activityNames[res.profile] || {})[res.activity] || res.activity_zh;
    document.getElementById('siting-area').textContent =
      t('siting_footprint_area_is', {area: O.areaText(res.footprint_area.area_m2)}) + ' · ' +
      res.activity + ' ' + activity;
    document.getElementById('siting-path').innerHTML = pathHtml(res.approval_path);
    var tbody = document.querySelector('#siting-overlaps tbody');
    tbody.innerHTML = res.overlaps.map(function (o) {
      return '<tr data-layer="' + O.esc(o.layer) + '"><td><span class="om-swatch" style="--c:' +
        O.esc(O.colorFor(o.layer, {zone: o.zone})) + '"></span> ' +
        O.esc(layerTitle(o.layer, o.layer_zh)) + '</td><td>' + O.esc(zoneText(o.layer, o.zone)) +
        '</td><td class="num">' + O.num(o.area_m2, 0) + '</td><td class="num">' +
        O.num(o.area_mu, 2) + '</td><td class="num">' + O.num(o.area_ha, 4) +
        '</td><td class="num">' + O.num(o.share * 100, 1) + '%</td></tr>';
    }).join('') || '<tr><td colspan="6">—</td></tr>';
    document.getElementById('siting-rules').innerHTML = res.rules.map(function (r) {
      var conditions = (r.conditions || []).map(function (c) {
        var status = c.status || 'to_confirm';
        return '<li data-condition="' + O.esc(c.id) + '" data-status="' + O.esc(status) + '">' +
          '<span class="om-status-' + O.esc(status) + '">[' + O.esc(STATUS[status]) + ']</span> ' +
          O.esc(O.config.lang === 'en' ? c.en : c.zh) + readingHtml(c.interpretation) + '</li>';
      }).join('');
      return '<li data-rule="' + O.esc(r.rule_id) + '"><b>' + O.esc(O.label('verdict', r.verdict)) +
        '</b> · ' + O.esc(O.config.lang === 'en' ? r.summary_en : r.text_zh) +
        '<div class="om-cite">' + O.esc(cite(r.citation)) + '</div>' +
        (conditions ? '<div>' + O.esc(t('siting_conditions')) + '：<ul>' + conditions +
                      '</ul></div>' : '') + procedureHtml(r.procedure) +
        readingHtml(r.interpretation) + '</li>';
    }).join('');
    var warnings = res.warnings || [];
    document.getElementById('siting-warnings-wrap').hidden = !warnings.length;
    document.getElementById('siting-warnings').innerHTML = warnings.map(function (w) {
      return '<li>' + O.esc(O.config.lang === 'en' ? w.message_en : w.message_zh) + '</li>';
    }).join('');

    if (pieces) { map.removeLayer(pieces); }
    if (!map.getPane('om-pieces')) { map.createPane('om-pieces').style.zIndex = '540'; }
    pieces = L.geoJSON(res.overlap_geojson, {
      pane: 'om-pieces',
      style: function (f) {
        var p = f.properties;
        if (p.layer === 'footprint') { return {color: '#1f78b4', weight: 2, fill: false, dashArray: '4 3'}; }
        var color = O.colorFor(p.layer, {zone: p.zone});
        return {color: '#000', weight: 1.5, fillColor: color, fillOpacity: 0.75};
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (p.layer === 'footprint') { return; }
        layer.bindTooltip(layerTitle(p.layer, p.layer_zh) + ' ' + zoneText(p.layer, p.zone) +
                          ' · ' + O.areaText(p.area_m2));
      }
    }).addTo(map);
    map.fitBounds(pieces.getBounds(), {maxZoom: 16, padding: [30, 30]});
    document.body.dataset.verdict = res.verdict;
  }

  document.getElementById('siting-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var fc = drawn.toGeoJSON();
    if (!fc.features.length) { O.status('siting-status', t('siting_need_footprint'), 'error'); return; }
    var width = parseFloat(document.getElementById('siting-line-width').value);
    var body = {
      geometry: fc, crs: 'CRS84', activity: activitySel.value, profile: profileSel.value,
      new_construction_land: document.getElementById('siting-new-land').checked,
      temporary: document.getElementById('siting-temporary').checked,
      construction: document.getElementById('siting-construction').checked
    };
    var linear = document.getElementById('siting-linear').value;
    if (linear) { body.linear = linear === 'true'; }
    if (width > 0) { body.line_width_m = width; }
    [['project_name', 'siting-project-name'], ['project_code', 'siting-project-code'],
     ['applicant', 'siting-applicant'], ['purpose', 'siting-purpose']].forEach(function (pair) {
      var value = document.getElementById(pair[1]).value.trim();
      if (value) { body[pair[0]] = value; }
    });
    var button = document.getElementById('siting-run');
    button.disabled = true;
    O.status('siting-status', t('siting_running'));
    O.postJSON('/api/v1/analysis/siting', body).then(function (res) {
      O.status('siting-status', '');
      show(res);
    }).catch(function (err) {
      // A missing key or role is explained by the problem details, in the page's language.
      O.status('siting-status', t('error') + ': ' + err.message, 'error');
    }).then(function () { button.disabled = false; });
  });

  function report(kind) {
    if (!result) { return; }
    O.download(result.links['report_' + kind], 'siting-' + result.id + '.' + kind)
      .catch(function (err) { O.status('siting-status', t('error') + ': ' + err.message, 'error'); });
  }
  document.getElementById('siting-pdf').addEventListener('click', function () { report('pdf'); });
  document.getElementById('siting-html').addEventListener('click', function () { report('html'); });
}());
