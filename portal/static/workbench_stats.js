/* Statistics by region (issue 23): any readable layer, classed by any of its text fields,
 * summed per district, township or village by GET /api/v1/layers/{id}/stats (ellipsoidal
 * areas of the parts inside each region, computed in the database; the survey's official
 * class area where the layer has one). A table with totals and a stacked bar chart (Chart.js
 * from npm, loaded when first needed).
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var t = O.t;
  var CHART_JS = '/static/vendor/chartjs/chart.umd.min.js';
  var PALETTE = ['#1f78b4', '#33a02c', '#e31a1c', '#ff7f00', '#6a3d9a', '#b15928', '#a6cee3',
                 '#b2df8a', '#fb9a99', '#fdbf6f', '#cab2d6', '#ffff99'];

  function chartLib() {
    if (window.Chart) { return Promise.resolve(window.Chart); }
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = CHART_JS;
      s.onload = function () { resolve(window.Chart); };
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function readable() {
    return Object.keys(O.config.layers || {}).filter(function (id) {
      return O.layerStatus(id) === 'ok';
    });
  }

  function start(panel) {
    panel.classList.add('om-wb-table-panel');
    var levels = (O.config.layers.admin_divisions.coded || {}).level || {};
    panel.innerHTML = '<div class="om-wb-title"></div><div class="om-wb-row">' +
      '<select id="om-stats-layer"></select><select id="om-stats-field"></select>' +
      '<select id="om-stats-level"></select><button type="button" id="om-stats-run"></button>' +
      '</div><p id="om-stats-status" class="om-status"></p>' +
      '<div class="om-wb-stats"><div class="om-wb-table-wrap"><table class="om-table" ' +
      'id="om-stats-table"><thead></thead><tbody></tbody><tfoot></tfoot></table></div>' +
      '<div class="om-wb-stats-chart"><canvas id="om-stats-chart"></canvas></div></div>';
    var $ = function (id) { return panel.querySelector('#' + id); };
    panel.querySelector('.om-wb-title').textContent = t('wb_stats');
    $('om-stats-run').textContent = t('wb_stats_run');
    $('om-stats-layer').innerHTML = readable().map(function (id) {
      return '<option value="' + O.esc(id) + '">' + O.esc(O.config.layers[id].title) + '</option>';
    }).join('');
    $('om-stats-level').innerHTML = ['district', 'township', 'village'].map(function (l) {
      return '<option value="' + l + '"' + (l === 'township' ? ' selected' : '') + '>' +
        O.esc(levels[l] || l) + '</option>';
    }).join('');
    var chart = null;

    function fillFields() {
      var c = O.config.layers[$('om-stats-layer').value];
      var fields = c.fields.filter(function (f) { return f.type === 'text'; });
      $('om-stats-field').innerHTML = '<option value="">' + O.esc(t('wb_stats_no_class')) +
        '</option>' + fields.map(function (f) {
          return '<option value="' + O.esc(f.name) + '"' + (f.name === c.field ? ' selected' : '') +
            '>' + O.esc(f.title) + '</option>';
        }).join('');
    }

    function run() {
      var id = $('om-stats-layer').value;
      var field = $('om-stats-field').value;
      var c = O.config.layers[id];
      var codes = (c.coded || {})[field] || {};
      document.body.dataset.stats = 'loading';
      O.status($('om-stats-status'), t('loading'));
      var url = '/api/v1/layers/' + encodeURIComponent(id) + '/stats?by=' +
        $('om-stats-level').value + (field ? '&field=' + encodeURIComponent(field) : '');
      return O.json(url).then(function (rows) {
        var official = rows.some(function (r) { return r.official_area_m2 != null; });
        var name = function (v) { return v == null ? '' : (codes[v] != null ? codes[v] : v); };
        $('om-stats-table').querySelector('thead').innerHTML = '<tr><th>' +
          O.esc(t('wb_stats_region')) + '</th><th>' + O.esc(t('wb_stats_class')) + '</th><th>' +
          O.esc(t('wb_stats_count')) + '</th><th>' + O.esc(t('wb_table_area_m2')) + '</th><th>' +
          O.esc(t('wb_table_area_mu')) + '</th><th>' + O.esc(t('wb_table_area_ha')) + '</th>' +
          (official ? '<th>' + O.esc(t('wb_stats_official')) + '</th>' : '') + '</tr>';
        var sum = {count: 0, m2: 0, off: 0};
        $('om-stats-table').querySelector('tbody').innerHTML = rows.map(function (r) {
          sum.count += r.count; sum.m2 += r.area_m2; sum.off += r.official_area_m2 || 0;
          return '<tr data-region="' + O.esc(r.region_code) + '" data-value="' +
            O.esc(r.value == null ? '' : r.value) + '" data-m2="' + r.area_m2 + '"><td>' +
            O.esc(r.region_name) + '</td><td>' + O.esc(name(r.value)) + '</td><td class="num">' +
            r.count + '</td><td class="num">' + O.num(r.area_m2, 2) + '</td><td class="num">' +
            O.num(r.area_mu, 2) + '</td><td class="num">' + O.num(r.area_ha, 4) + '</td>' +
            (official ? '<td class="num">' + O.num(r.official_area_m2, 2) + '</td>' : '') +
            '</tr>';
        }).join('') || '<tr><td colspan="7" class="om-muted">' + O.esc(t('wb_table_none')) +
          '</td></tr>';
        $('om-stats-table').querySelector('tfoot').innerHTML = '<tr><th>' +
          O.esc(t('wb_stats_total')) + '</th><td></td><td class="num">' + sum.count +
          '</td><td class="num">' + O.num(sum.m2, 2) + '</td><td class="num">' +
          O.num(sum.m2 * 15 / 10000, 2) + '</td><td class="num">' + O.num(sum.m2 / 10000, 4) +
          '</td>' + (official ? '<td class="num">' + O.num(sum.off, 2) + '</td>' : '') + '</tr>';
        O.status($('om-stats-status'), '');
        return chartLib().then(function (Chart) {
          var regions = [], classes = [];
          rows.forEach(function (r) {
            if (regions.indexOf(r.region_name) < 0) { regions.push(r.region_name); }
            if (classes.indexOf(r.value) < 0) { classes.push(r.value); }
          });
          if (chart) { chart.destroy(); }
          chart = new Chart($('om-stats-chart'), {
            type: 'bar',
            data: {labels: regions, datasets: classes.map(function (v, i) {
              return {label: name(v) || t('wb_stats_no_class'),
                      backgroundColor: PALETTE[i % PALETTE.length],
                      data: regions.map(function (g) {
                        var hit = rows.filter(function (r) {
                          return r.region_name === g && r.value === v;
                        })[0];
                        return hit ? +(hit.area_mu).toFixed(2) : 0;
                      })};
            })},
            options: {responsive: true, maintainAspectRatio: false, animation: false,
                      scales: {x: {stacked: true}, y: {stacked: true, title: {
                        display: true, text: O.label('unit', 'mu')}}},
                      plugins: {legend: {position: 'bottom'}}}
          });
          document.body.dataset.stats = 'done';
        });
      }).catch(function (err) {
        O.status($('om-stats-status'), t('error') + ': ' + err.message, 'error');
        document.body.dataset.stats = 'error';
      });
    }

    $('om-stats-layer').addEventListener('change', fillFields);
    $('om-stats-run').addEventListener('click', run);
    fillFields();
    return {clicks: false, stop: function () {
      if (chart) { chart.destroy(); }
      panel.classList.remove('om-wb-table-panel');
    }};
  }

  W.addTool('stats', '∑', t('wb_stats'), start);
}());
