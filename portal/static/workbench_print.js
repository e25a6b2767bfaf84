/* Print the map (issue 23): the 打印 tool posts the current view (the map's bounds in
 * CGCS2000 degrees), the layers that are on and readable (top first, as the layer panel
 * stacks them), a title, the paper (A4/A3), orientation and format to POST /api/v1/print,
 * and downloads the PDF or PNG it answers. The file is drawn on the server through the siting
 * report's map path (gis/reports/print_map.py): legend in the page's language, scale bar,
 * north arrow, graticule. The request carries the key, so a print shows what the viewer shows.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var W = O && O.workbench;
  if (!W) { return; }
  var map = W.map;
  var t = O.t;

  function visibleLayers() {
    var groups = O.config.groups || {};
    return Object.keys(O.config.layers || {}).filter(function (id) {
      var group = window[groups[id]];
      return O.layerStatus(id) === 'ok' && group && map.hasLayer(group);
    }).sort(function (a, b) {
      return (O.config.layers[b].z || 0) - (O.config.layers[a].z || 0);
    });
  }

  function select(id, label, options) {
    return '<label class="om-wb-field"><span>' + O.esc(label) + '</span><select id="' + id +
      '">' + options.map(function (o) {
        return '<option value="' + O.esc(o[0]) + '">' + O.esc(o[1]) + '</option>';
      }).join('') + '</select></label>';
  }

  function save(blob, name) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }

  function start(panel) {
    panel.innerHTML = '<div class="om-wb-title"></div>' +
      '<form id="om-print-form" class="om-wb-form" novalidate>' +
      '<label class="om-wb-field"><span>' + O.esc(t('wb_print_title')) + '</span>' +
      '<input id="om-print-title" maxlength="200" autocomplete="off"></label>' +
      select('om-print-paper', t('wb_print_paper'), [['A4', 'A4'], ['A3', 'A3']]) +
      select('om-print-orientation', t('wb_print_orientation'),
             [['portrait', t('wb_print_portrait')], ['landscape', t('wb_print_landscape')]]) +
      select('om-print-format', t('wb_print_format'), [['pdf', 'PDF'], ['png', 'PNG']]) +
      '<button type="submit"></button><p id="om-print-status" class="om-status"></p></form>';
    panel.querySelector('.om-wb-title').textContent = t('wb_print');
    panel.querySelector('#om-print-title').value = t('wb_print_default_title');
    panel.querySelector('button[type=submit]').textContent = t('wb_print_button');
    var form = panel.querySelector('#om-print-form');
    var status = panel.querySelector('#om-print-status');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var layers = visibleLayers();
      if (!layers.length) {
        O.status(status, t('wb_print_no_layers'), 'error');
        return;
      }
      var b = map.getBounds();
      var body = {
        bbox: [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()),
               Math.min(180, b.getEast()), Math.min(90, b.getNorth())],
        layers: layers,
        title: panel.querySelector('#om-print-title').value.trim(),
        paper: panel.querySelector('#om-print-paper').value,
        orientation: panel.querySelector('#om-print-orientation').value,
        format: panel.querySelector('#om-print-format').value
      };
      var button = form.querySelector('button[type=submit]');
      button.disabled = true;
      O.status(status, t('wb_print_busy'));
      document.body.dataset.print = 'busy';
      O.api('/api/v1/print', {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify(body)}).then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (p) {
            throw new Error(p.detail || p.title || String(response.status));
          });
        }
        var cd = response.headers.get('Content-Disposition') || '';
        var match = /filename="?([^";]+)"?/.exec(cd);
        var name = match ? match[1] : 'onemap.' + body.format;
        return response.blob().then(function (blob) {
          save(blob, name);
          O.status(status, t('wb_print_done', {name: name}), 'ok');
          document.body.dataset.print = 'done';
        });
      }).catch(function (err) {
        O.status(status, t('error') + ': ' + err.message, 'error');
        document.body.dataset.print = 'error';
      }).then(function () { button.disabled = false; });
    });
    return {clicks: false};
  }

  /* A drawn printer: the print symbol (U+2399) is missing from common fonts and showed as an
   * empty box in Chromium on Debian. */
  var tool = W.addTool('print', '', t('wb_print'), start);
  tool.innerHTML = '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" ' +
    'fill="none" stroke="currentColor" stroke-width="1.4"><path d="M4.5 6V1.5h7V6"/>' +
    '<rect x="1.5" y="6" width="13" height="6" rx="1"/><path d="M4.5 10h7v4.5h-7z" ' +
    'fill="#fff"/></svg>';
}());
