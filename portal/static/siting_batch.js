/* The siting page's batch check: every parcel of an uploaded file (a coordinate file with
 * several parcels, a Shapefile of many footprints) checked as one background job
 * (POST /api/v1/jobs, kind siting.batch), its progress polled, the spreadsheet downloaded
 * (GET /api/v1/jobs/{id}/result.xlsx). The activity and declarations are the form's. */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var JOBS = '/api/v1/jobs';
  var button = document.getElementById('siting-batch');
  var xlsx = document.getElementById('siting-batch-xlsx');
  var footprints = null;
  var job = null;

  /* Called by siting.js with each uploaded file's features. */
  function offer(fc) {
    footprints = (fc.features || []).filter(function (f) {
      return f.geometry && (f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon');
    });
    button.hidden = footprints.length < 2;
    button.textContent = t('siting_batch_run', {n: footprints.length});
    xlsx.hidden = true;
    O.status('siting-batch-status', '');
  }

  function idField() {
    var all = footprints.every(function (f) { return f.properties && f.properties.parcel_no != null; });
    return all ? 'parcel_no' : null;
  }

  function poll() {
    return O.json(JOBS + '/' + job.id).then(function (j) {
      job = j;
      document.body.dataset.batch = j.status;
      if (j.status === 'succeeded') {
        O.status('siting-batch-status', t('siting_batch_done', {n: j.result.count}), 'ok');
        xlsx.hidden = false;
        button.disabled = false;
        return;
      }
      if (j.status === 'failed' || j.status === 'cancelled') {
        O.status('siting-batch-status', t('error') + ': ' + (j.error ? j.error.message : j.status), 'error');
        button.disabled = false;
        return;
      }
      O.status('siting-batch-status', t('siting_batch_progress', {done: j.progress.done,
                                                                  total: j.progress.total || '…'}));
      window.setTimeout(poll, 700);
    }).catch(function (err) {
      O.status('siting-batch-status', t('error') + ': ' + err.message, 'error');
      button.disabled = false;
    });
  }

  button.addEventListener('click', function () {
    if (!footprints || footprints.length < 2) { return; }
    var params = {
      footprints: {type: 'FeatureCollection', features: footprints.map(function (f) {
        return {type: 'Feature', geometry: f.geometry, properties: f.properties || {}};
      })},
      activity: document.getElementById('siting-activity').value,
      profile: document.getElementById('siting-profile').value, crs: 'CRS84',
      new_construction_land: document.getElementById('siting-new-land').checked,
      temporary: document.getElementById('siting-temporary').checked,
      construction: document.getElementById('siting-construction').checked
    };
    var linear = document.getElementById('siting-linear').value;
    if (linear) { params.linear = linear === 'true'; }
    if (idField()) { params.id_field = idField(); }
    button.disabled = true;
    xlsx.hidden = true;
    document.body.dataset.batch = 'queued';
    O.postJSON(JOBS, {kind: 'siting.batch', params: params}).then(function (j) {
      job = j;
      return poll();
    }).catch(function (err) {
      O.status('siting-batch-status', t('error') + ': ' + err.message, 'error');
      button.disabled = false;
    });
  });

  xlsx.addEventListener('click', function () {
    if (!job) { return; }
    O.download(JOBS + '/' + job.id + '/result.xlsx', 'siting-batch-' + job.id + '.xlsx')
      .catch(function (err) { O.status('siting-batch-status', t('error') + ': ' + err.message, 'error'); });
  });

  window.OneMapSitingBatch = {offer: offer};
}());
