/* One-Map workbench (issue 23): what every map gets on top of its page's own script.
 *
 * - The one layer panel (base maps and overlays, portal/controls.py) can be collapsed to its
 *   icon and expanded again; on a narrow screen (a tablet at 820 px) it starts collapsed, so
 *   it no longer covers 40% of the map.
 * - Opacity per layer: a slider under each layer that is on, acting on the layer's pane
 *   (GeoJSON and vector tiles alike).
 * - Who am I: the key holder's name and role from GET /api/v1/me, beside the key box.
 * - A tool bar (top left) that the tool scripts (workbench_measure.js, workbench_goto.js)
 *   add their buttons to; one tool is active at a time, and while one takes map clicks the
 *   identify popup is off.
 */
(function () {
  'use strict';
  var O = window.OneMap;
  var map = O && O.map();
  if (!map) { return; }
  var t = O.t;
  var NARROW = '(max-width: 900px)';

  // ---- the layer panel: collapse and expand -------------------------------------------------
  var control = map.omLayerControl || null;

  function panelState(expanded) {
    document.body.dataset.layerPanel = expanded ? 'expanded' : 'collapsed';
  }

  function initPanel() {
    if (!control || !control._container) { return; }
    var box = control._container;
    var toggle = box.querySelector('.leaflet-control-layers-toggle');
    if (!toggle) {  // an always-open panel has no icon: give it one to expand from
      toggle = L.DomUtil.create('a', 'leaflet-control-layers-toggle', box);
      toggle.href = '#';
      box.insertBefore(toggle, box.firstChild);
    }
    toggle.title = t('wb_layers');
    toggle.setAttribute('role', 'button');
    toggle.setAttribute('aria-label', t('wb_layers'));
    L.DomEvent.on(toggle, 'click', function (ev) {
      L.DomEvent.preventDefault(ev);
      control._expand();
      panelState(true);
    });
    var close = L.DomUtil.create('button', 'om-wb-collapse', box);
    close.type = 'button';
    close.title = t('wb_collapse');
    close.setAttribute('aria-label', t('wb_collapse'));
    close.textContent = '×';
    box.insertBefore(close, control._form);
    L.DomEvent.on(close, 'click', function (ev) {
      L.DomEvent.stop(ev);
      control._collapse();
      panelState(false);
    });
    if (window.matchMedia && window.matchMedia(NARROW).matches) {
      control._collapse();
    }
    panelState(box.classList.contains('leaflet-control-layers-expanded'));
    // A hover-collapsed panel (the smaller pages) opens and closes by itself: follow it.
    L.DomEvent.on(box, 'mouseover mouseout', function () {
      panelState(box.classList.contains('leaflet-control-layers-expanded'));
    });
  }

  // ---- opacity per layer --------------------------------------------------------------------
  var opacity = {};   // layer id -> 0..1

  function applyOpacity(id) {
    var pane = map.getPane('om-' + id);
    if (pane) { pane.style.opacity = String(opacity[id] == null ? 1 : opacity[id]); }
  }

  function layerTitle(id) {
    var c = (O.config.layers || {})[id] || (O.config.popups || {})[id];
    return c ? c.title : id;
  }

  function addSliders() {
    if (!control || !control._form) { return; }
    var bases = control._baseLayersList;
    if (bases && bases.children.length && !bases.querySelector('.om-wb-base-title')) {
      var head = document.createElement('span');
      head.className = 'leaflet-control-layers-group-name om-wb-base-title';
      head.textContent = t('wb_basemaps');
      bases.insertBefore(head, bases.firstChild);
    }
    control._form.querySelectorAll('label').forEach(function (label) {
      var tag = label.querySelector('.om-layer[data-layer]');
      if (!tag) { return; }
      var id = tag.dataset.layer;
      var next = label.nextElementSibling;
      if (next && next.classList.contains('om-opacity')) { return; }
      var slider = document.createElement('input');
      slider.type = 'range';
      slider.min = '0';
      slider.max = '100';
      slider.step = '5';
      slider.className = 'om-opacity';
      slider.dataset.layer = id;
      slider.value = String(Math.round((opacity[id] == null ? 1 : opacity[id]) * 100));
      slider.title = t('wb_opacity', {layer: layerTitle(id)});
      slider.setAttribute('aria-label', slider.title);
      slider.addEventListener('input', function () {
        opacity[id] = Number(slider.value) / 100;
        applyOpacity(id);
      });
      label.insertAdjacentElement('afterend', slider);
    });
  }

  function initOpacity() {
    if (!control) { return; }
    var update = control._update;
    control._update = function () {  // the control rebuilds its list on every layer change
      update.apply(this, arguments);
      addSliders();
    };
    addSliders();
    map.on('om:layerloaded', function (ev) { applyOpacity(ev.id); });
  }

  function setOpacity(id, value) {
    opacity[id] = value;
    applyOpacity(id);
    var slider = document.querySelector('.om-opacity[data-layer="' + id + '"]');
    if (slider) { slider.value = String(Math.round(value * 100)); }
  }

  // ---- who am I -----------------------------------------------------------------------------
  function initWhoAmI() {
    var status = document.getElementById('om-key-status');
    if (!status) { return; }
    var who = document.getElementById('om-whoami');
    if (!who) {
      who = document.createElement('span');
      who.id = 'om-whoami';
      who.className = 'om-whoami';
      status.insertAdjacentElement('afterend', who);
    }
    if (!O.apiKey()) { return; }
    O.json('/api/v1/me').then(function (me) {
      if (O.keyRefused() || me.anonymous) { return; }
      who.textContent = t('wb_whoami', {role: me.role_label, name: me.name});
      who.dataset.role = me.role;
      status.hidden = true;  // the name and role say more than "key set"
    }).catch(function () { /* a refused key: the key status says so */ });
  }

  // ---- the tool bar -------------------------------------------------------------------------
  var bar = null;
  var panel = null;
  var active = null;   // {name, stop}

  function toolbar() {
    if (bar) { return bar; }
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'om-wb-bar leaflet-bar leaflet-control');
      div.setAttribute('role', 'toolbar');
      div.setAttribute('aria-label', t('wb_tools'));
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    bar = ctl.getContainer();
    panel = L.DomUtil.create('div', 'om-wb-panel', map.getContainer());
    panel.hidden = true;
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    return bar;
  }

  function stopActive() {
    if (!active) { return; }
    var was = active;
    active = null;
    O.setToolActive(false);
    if (was.stop) { was.stop(); }
    bar.querySelectorAll('button').forEach(function (b) { b.classList.remove('om-active'); });
    panel.hidden = true;
    panel.innerHTML = '';
  }

  /* A tool: a button in the bar; start(panel) fills the panel and returns {stop, clicks}.
   * A second press of the active tool's button stops it. */
  function addTool(name, text, title, start) {
    var b = L.DomUtil.create('button', 'om-wb-tool', toolbar());
    b.type = 'button';
    b.dataset.tool = name;
    b.textContent = text;
    b.title = title;
    b.setAttribute('aria-label', title);
    b.addEventListener('click', function () {
      var same = active && active.name === name;
      stopActive();
      if (same) { return; }
      panel.hidden = false;
      var run = start(panel) || {};
      active = {name: name, stop: run.stop};
      O.setToolActive(!!run.clicks);
      b.classList.add('om-active');
      document.body.dataset.tool = name;
    });
    return b;
  }

  initPanel();
  initOpacity();
  initWhoAmI();
  O.workbench = {map: map, control: control, addTool: addTool, stop: stopActive,
                 setOpacity: setOpacity, opacity: function (id) {
                   return opacity[id] == null ? 1 : opacity[id];
                 }};
}());
