/* The attribute table (issue 23): any layer the key may read, filtered by a query builder
 * that writes CQL2 text (shown, and sent as the OGC items `filter`), paged, a row click
 * zooms to the feature, and the whole selection (every page) exports as xlsx or GeoPackage
 * through /api/v1/layers/{id}/selection.{xlsx,gpkg}, which reads the same query.
 * The columns are the export's: feature id, the catalogue fields (coded values by their
 * labels), the area in m², 亩 and ha.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var map = W.map;
  var t = O.t;
  var PAGE = 20;
  var M2_PER_MU = 10000 / 15;
  var OPS = [['=', '='], ['<>', '≠'], ['<', '<'], ['<=', '≤'], ['>', '>'], ['>=', '≥'],
             ['like', t('wb_op_contains')]];

  function readable() {
    return Object.keys(O.config.layers || {}).filter(function (id) {
      return O.layerStatus(id) === 'ok';
    });
  }

  function quote(value) { return "'" + String(value).replace(/'/g, "''") + "'"; }

  /* One condition as CQL2 text, or null when it is incomplete. */
  function condition(c, fields, coded) {
    var field = fields.filter(function (f) { return f.name === c.field; })[0];
    if (!field || c.value === '') { return null; }
    if (c.op === 'like') { return c.field + ' LIKE ' + quote('%' + c.value + '%'); }
    var numeric = field.type === 'int' || field.type === 'float' || field.name === 'area_m2';
    if (numeric) {
      var n = Number(c.value);
      if (!isFinite(n)) { throw new Error(t('wb_goto_bad_number', {field: field.title})); }
      return c.field + ' ' + c.op + ' ' + String(n);
    }
    var codes = coded[c.field] || {};
    var value = c.value;
    Object.keys(codes).forEach(function (code) { if (codes[code] === c.value) { value = code; } });
    return c.field + ' ' + c.op + ' ' + quote(value);
  }

  function cql(conditions, join, fields, coded) {
    var parts = conditions.map(function (c) { return condition(c, fields, coded); })
      .filter(Boolean);
    return parts.join(join === 'or' ? ' OR ' : ' AND ');
  }

  function cellText(c, field, value) {
    if (value == null || value === '') { return ''; }
    var codes = c.coded && c.coded[field.name];
    if (codes && codes[value] != null) { return codes[value]; }
    if (typeof value === 'boolean') { return O.label('boolean', value); }
    return String(value);
  }

  function start(panel) {
    panel.classList.add('om-wb-table-panel');
    var ids = readable();
    panel.innerHTML = '<div class="om-wb-title"></div><div class="om-wb-row">' +
      '<select id="om-table-layer"></select><select id="om-table-join">' +
      '<option value="and"></option><option value="or"></option></select>' +
      '<button type="button" id="om-table-add"></button></div>' +
      '<div id="om-table-conditions"></div>' +
      '<div class="om-wb-row"><code id="om-table-cql" class="om-wb-cql"></code>' +
      '<button type="button" id="om-table-run"></button></div>' +
      '<div class="om-wb-row"><span id="om-table-range" class="om-muted"></span>' +
      '<button type="button" id="om-table-prev">‹</button>' +
      '<button type="button" id="om-table-next">›</button>' +
      '<button type="button" id="om-table-xlsx"></button>' +
      '<button type="button" id="om-table-gpkg"></button></div>' +
      '<p id="om-table-status" class="om-status"></p>' +
      '<div class="om-wb-table-wrap"><table class="om-table om-clickable" id="om-table">' +
      '<thead></thead><tbody></tbody></table></div>';
    var $ = function (id) { return panel.querySelector('#' + id); };
    panel.querySelector('.om-wb-title').textContent = t('wb_table');
    $('om-table-layer').innerHTML = ids.map(function (id) {
      return '<option value="' + O.esc(id) + '">' + O.esc(O.config.layers[id].title) +
        '</option>';
    }).join('');
    $('om-table-join').options[0].textContent = t('wb_table_and');
    $('om-table-join').options[1].textContent = t('wb_table_or');
    $('om-table-add').textContent = t('wb_table_add_condition');
    $('om-table-run').textContent = t('wb_table_query');
    $('om-table-xlsx').textContent = t('wb_table_export_xlsx');
    $('om-table-gpkg').textContent = t('wb_table_export_gpkg');
    var st = {layer: ids[0], conditions: [], offset: 0, total: 0, filter: '', features: []};

    function layerCfg() { return O.config.layers[st.layer]; }

    function fields() {
      return [{name: 'id', title: t('wb_table_id'), type: 'int'}].concat(layerCfg().fields)
        .concat([{name: 'area_m2', title: O.label('unit', 'm2'), type: 'float'}]);
    }

    function drawConditions() {
      var fs = fields();
      $('om-table-conditions').innerHTML = st.conditions.map(function (c, i) {
        var codes = (layerCfg().coded || {})[c.field];
        var value = codes
          ? '<select data-i="' + i + '" data-k="value"><option value=""></option>' +
            Object.keys(codes).map(function (code) {
              return '<option' + (codes[code] === c.value ? ' selected' : '') + '>' +
                O.esc(codes[code]) + '</option>';
            }).join('') + '</select>'
          : '<input data-i="' + i + '" data-k="value" value="' + O.esc(c.value) + '">';
        return '<div class="om-wb-row om-wb-cond" data-i="' + i + '"><select data-i="' + i +
          '" data-k="field">' + fs.map(function (f) {
            return '<option value="' + O.esc(f.name) + '"' + (f.name === c.field ? ' selected' : '') +
              '>' + O.esc(f.title) + '</option>';
          }).join('') + '</select><select data-i="' + i + '" data-k="op">' +
          OPS.map(function (o) {
            return '<option value="' + o[0] + '"' + (o[0] === c.op ? ' selected' : '') + '>' +
              O.esc(o[1]) + '</option>';
          }).join('') + '</select>' + value + '<button type="button" data-remove="' + i +
          '" aria-label="×">×</button></div>';
      }).join('');
      showCql();
    }

    function showCql() {
      try {
        st.filter = cql(st.conditions, $('om-table-join').value, fields(),
                        layerCfg().coded || {});
        $('om-table-cql').textContent = st.filter || t('wb_table_all');
        return true;
      } catch (err) {
        O.status($('om-table-status'), err.message, 'error');
        return false;
      }
    }

    function params(extra) {
      var q = extra || '';
      if (st.filter) {
        q += '&filter=' + encodeURIComponent(st.filter) + '&filter-lang=cql2-text';
      }
      return q;
    }

    var asked = 0;  // answers to an older question (another layer, page or filter) are dropped

    function load() {
      var c = layerCfg();
      var mine = ++asked;
      document.body.dataset.table = 'loading';
      O.status($('om-table-status'), t('loading'));
      return O.json('/ogc/collections/' + encodeURIComponent(st.layer) + '/items?' +
                    params('limit=' + PAGE + '&offset=' + st.offset + '&sortby=id'))
        .then(function (fc) {
          if (mine !== asked) { return; }
          st.features = fc.features || [];
          st.total = fc.numberMatched != null ? fc.numberMatched : st.features.length;
          var fs = fields().slice(0, -1);
          $('om-table').querySelector('thead').innerHTML = '<tr>' + fs.map(function (f) {
            return '<th>' + O.esc(f.title) + '</th>';
          }).join('') + '<th>' + O.esc(t('wb_table_area_m2')) + '</th><th>' +
            O.esc(t('wb_table_area_mu')) + '</th><th>' + O.esc(t('wb_table_area_ha')) +
            '</th></tr>';
          $('om-table').querySelector('tbody').innerHTML = st.features.map(function (f, i) {
            var p = f.properties || {};
            var m2 = p.area_m2;
            return '<tr data-row="' + i + '" data-id="' + O.esc(f.id) + '"><td>' + O.esc(f.id) +
              '</td>' + c.fields.map(function (field) {
                return '<td>' + O.esc(cellText(c, field, p[field.name])) + '</td>';
              }).join('') + '<td class="num">' + O.num(m2, 2) + '</td><td class="num">' +
              O.num(m2 / M2_PER_MU, 2) + '</td><td class="num">' + O.num(m2 / 10000, 4) +
              '</td></tr>';
          }).join('') || '<tr><td colspan="99" class="om-muted">' + O.esc(t('wb_table_none')) +
            '</td></tr>';
          var to = st.offset + st.features.length;
          $('om-table-range').textContent = t('wb_table_range', {
            from: st.features.length ? st.offset + 1 : 0, to: to, total: st.total});
          $('om-table-prev').disabled = st.offset === 0;
          $('om-table-next').disabled = to >= st.total;
          O.status($('om-table-status'), '');
          document.body.dataset.table = st.layer + ':' + st.offset + ':' + st.total;
        }).catch(function (err) {
          if (mine !== asked) { return; }
          O.status($('om-table-status'), t('error') + ': ' + err.message, 'error');
          document.body.dataset.table = 'error';
        });
    }

    $('om-table-layer').addEventListener('change', function () {
      st.layer = this.value;
      st.conditions = [];
      st.offset = 0;
      drawConditions();
      load();
    });
    $('om-table-join').addEventListener('change', showCql);
    $('om-table-add').addEventListener('click', function () {
      st.conditions.push({field: layerCfg().fields[0].name, op: '=', value: ''});
      drawConditions();
    });
    $('om-table-conditions').addEventListener('change', function (ev) {
      var i = ev.target.dataset.i;
      if (i == null) { return; }
      st.conditions[Number(i)][ev.target.dataset.k] = ev.target.value;
      if (ev.target.dataset.k === 'field') {
        st.conditions[Number(i)].value = '';
        drawConditions();
      } else { showCql(); }
    });
    $('om-table-conditions').addEventListener('input', function (ev) {
      var i = ev.target.dataset.i;
      if (i != null && ev.target.dataset.k === 'value') {
        st.conditions[Number(i)].value = ev.target.value;
        showCql();
      }
    });
    $('om-table-conditions').addEventListener('click', function (ev) {
      var r = ev.target.dataset.remove;
      if (r != null) { st.conditions.splice(Number(r), 1); drawConditions(); }
    });
    $('om-table-run').addEventListener('click', function () {
      if (showCql()) { st.offset = 0; load(); }
    });
    $('om-table-prev').addEventListener('click', function () {
      st.offset = Math.max(0, st.offset - PAGE); load();
    });
    $('om-table-next').addEventListener('click', function () { st.offset += PAGE; load(); });
    $('om-table').querySelector('tbody').addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr[data-row]');
      if (!tr) { return; }
      var f = st.features[Number(tr.dataset.row)];
      panel.querySelectorAll('tr.om-selected').forEach(function (r) {
        r.classList.remove('om-selected');
      });
      tr.classList.add('om-selected');
      // fit the feature into the part of the map the drawer leaves free
      var shape = O.showHighlight(map, [f], false);
      map.fitBounds(shape.getBounds(), {maxZoom: 16, paddingTopLeft: [30, 30],
                                        paddingBottomRight: [30, panel.offsetHeight + 30]});
    });
    ['xlsx', 'gpkg'].forEach(function (fmt) {
      $('om-table-' + fmt).addEventListener('click', function () {
        O.download('/api/v1/layers/' + encodeURIComponent(st.layer) + '/selection.' + fmt +
                   '?' + params('sortby=id'), st.layer + '-selection.' + fmt)
          .catch(function (err) {
            O.status($('om-table-status'), t('error') + ': ' + err.message, 'error');
          });
      });
    });
    drawConditions();
    if (st.layer) { load(); }
    return {clicks: false, stop: function () {
      panel.classList.remove('om-wb-table-panel');
      O.clearHighlight(map);
    }};
  }

  W.addTool('table', '▦', t('wb_table'), start);
  W.cql = cql;
}());
