/* The quota page's indicator table (issue 23): one row per county (and one for the region),
 * one column per indicator, each figure in the unit planners read it in (km² for the red
 * line, 万亩 for farmland and cultivated land, % for forest cover, × for the UDB expansion
 * ratio), with the target it is judged against under it and a mark (met / not met /
 * information only). The notes (what a regional figure covers, why a district's own UDB
 * ratio is information only) are numbered footnotes under the table, each written once.
 * The API's figures are kept as they are (value, unit code); only the display converts.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var t = O.t;
  var REGION = '640000';
  /* Indicator columns: id -> [title, display unit, factor from the API's unit, digits]. */
  var COLUMNS = [
    ['redline', t('quota_ind_redline'), O.label('unit', 'km2'), 1, 2],
    ['basic_farmland', t('quota_ind_basic_farmland'), t('quota_unit_wanmu'), 1e-4, 4],
    ['cultivated_land', t('quota_ind_cultivated_land'), t('quota_unit_wanmu'), 1e-4, 4],
    ['udb_expansion_ratio', t('quota_ind_udb_expansion_ratio'), O.label('unit', 'ratio'), 1, 2],
    ['forest_coverage', t('quota_ind_forest_coverage'), '%', 100, 2]
  ];

  function column(indicator) { return indicator.id.split(':')[0]; }

  function spec(id) { return COLUMNS.filter(function (c) { return c[0] === id; })[0]; }

  function figure(c, value, digits) {
    return O.num(value * c[3], digits == null ? c[4] : digits) + (c[2] === '%' ? '%' : '');
  }

  function mark(i) {
    if (i.information_only) {
      return '<span class="om-ind-mark om-ind-info">' + O.esc(t('quota_information_only')) +
        '</span>';
    }
    if (i.meets_target == null) { return ''; }
    return '<span class="om-ind-mark om-ind-' + (i.meets_target ? 'ok">✔ ' +
      O.esc(t('quota_meets')) : 'bad">✘ ' + O.esc(t('quota_misses'))) + '</span>';
  }

  function cell(i, notes) {
    var c = spec(column(i));
    var note = O.config.lang === 'en' ? i.note_en : i.note_zh;
    var ref = '';
    if (note) {
      if (notes.indexOf(note) < 0) { notes.push(note); }
      ref = '<sup class="om-ind-ref">' + (notes.indexOf(note) + 1) + '</sup>';
    }
    var target = i.target == null ? '' : '<div class="om-ind-target">' +
      O.esc(t('quota_target') + ' ' + (i.comparator ? O.label('comparator', i.comparator) + ' '
                                       : '') + figure(c, i.target, 2)) + '</div>';
    return '<td class="num' + (i.meets_target === false ? ' om-bad' : '') +
      '" data-indicator="' + O.esc(i.id) + '" data-information-only="' + !!i.information_only + '"' +
      ' title="' + O.esc(t('quota_value') + ' ' + figure(c, i.value) + (note ? ' · ' + note : '')) +
      '"><span class="om-ind-value">' + figure(c, i.value) + '</span>' + ref + target +
      mark(i) + '</td>';
  }

  function head() {
    return '<tr><th>' + O.esc(t('division') + ' / ' + t('quota_indicator')) + '</th>' + COLUMNS.map(function (c) {
      return '<th data-column="' + c[0] + '">' + O.esc(c[1]) + '<div class="om-ind-unit">' +
        O.esc(c[2]) + '</div></th>';
    }).join('') + '</tr>';
  }

  /* Rows: the region first (its own totals when the region is shown, else only the
   * region-wide UDB ratio every district's answer carries), then each county. */
  function render(byDivision, names, order, division) {
    var notes = [];
    var rows = order.filter(function (d) { return byDivision[d]; }).map(function (d) {
      var cells = {};
      byDivision[d].forEach(function (i) { cells[column(i)] = i; });
      return '<tr data-division="' + O.esc(d) + '"><th scope="row">' +
        O.esc(names[d] || d) + '</th>' + COLUMNS.map(function (c) {
          return cells[c[0]] ? cell(cells[c[0]], notes) : '<td class="om-muted">—</td>';
        }).join('') + '</tr>';
    });
    var table = document.getElementById('quota-indicators');
    table.querySelector('thead').innerHTML = head();
    table.querySelector('tbody').innerHTML = rows.join('');
    document.getElementById('quota-indicator-notes').innerHTML = notes.map(function (n) {
      return '<li>' + O.esc(n) + '</li>';
    }).join('');
    document.body.dataset.indicators = String(rows.length);
    document.body.dataset.indicatorsDivision = division;
  }

  var asked = 0;  // an answer for a division no longer chosen is dropped

  function load(division) {
    var mine = ++asked;
    var code = division.length >= 6 ? division : null;
    var codes = code ? [code] : ['64'].concat(O.config.divisions.map(function (d) {
      return d.code;
    }));
    var names = {};
    names[REGION] = t('quota_region_row');
    O.config.divisions.forEach(function (d) { names[d.code] = d.name; });
    return Promise.all(codes.map(function (c) {
      return O.json('/api/v1/indicators/' + c).catch(function () { return []; });
    })).then(function (lists) {
      if (mine !== asked) { return; }
      var byDivision = {};
      var seen = {};
      [].concat.apply([], lists).forEach(function (i) {
        var key = i.id + '@' + i.division;
        if (seen[key]) { return; }
        seen[key] = true;
        (byDivision[i.division] = byDivision[i.division] || []).push(i);
      });
      var order = [REGION].concat(Object.keys(byDivision).filter(function (d) {
        return d !== REGION;
      }).sort());
      render(byDivision, names, order, division);
    });
  }

  window.QuotaIndicators = {load: load, columns: COLUMNS};
}());
