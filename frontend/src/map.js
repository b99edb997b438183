// The community map in the browser: sigma.js (WebGL) over a graphology graph.
//
// The server lays the map out and scores it; this file only draws it, filters it and answers
// clicks. It reads compact parallel arrays (see convenor/graph/selectors.py map_payload) so that
// 50,000 nodes and 200,000 lines load and draw in a couple of seconds.
import Graph from "graphology";
import Sigma from "sigma";
import { EdgeLineProgram, EdgeRectangleProgram, NodePointProgram } from "sigma/rendering";

const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
];
const OTHER = "#b0b0b0";
const LINE_COLOURS = {
  connection: "#9ca3af",
  participation: "#bfdbfe",
  influence: "#f59e0b",
  prospecting: "#ef4444",
  channel: "#10b981",
};
const KIND_COLOURS = { member: "#2563eb", org: "#111827", space: "#7c3aed", event: "#db2777", group: "#059669", conduit: "#d97706" };
const FADED = "#e5e7eb";

function $(root, sel) {
  return root.querySelector(sel);
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function dayToDate(d) {
  return new Date(d * 86400000).toISOString().slice(0, 10);
}

function dateToDay(s) {
  const t = Date.parse(s + "T00:00:00Z");
  return Number.isNaN(t) ? null : Math.floor(t / 86400000);
}

// Categories for the colouring mode, largest first; the first PALETTE.length get a colour.
function categories(data, mode) {
  const n = data.nodes.label.length;
  const value = new Array(n);
  const names = {};
  for (let i = 0; i < n; i++) {
    const kind = data.kinds[data.nodes.kind[i]];
    let v;
    if (mode === "community") v = data.nodes.community[i];
    else if (mode === "org") v = data.nodes.org[i] >= 0 ? data.nodes.org[i] : -1;
    else if (mode === "kind") v = kind;
    else v = kind === "member" ? data.roles[data.nodes.role[i]] || "" : kind;
    value[i] = v;
  }
  const counts = new Map();
  for (const v of value) counts.set(v, (counts.get(v) || 0) + 1);
  const order = [...counts.entries()].filter(([v]) => v !== -1 && v !== "" && v !== null).sort((a, b) => b[1] - a[1]);
  const colour = new Map();
  order.slice(0, PALETTE.length).forEach(([v], i) => colour.set(v, mode === "kind" ? KIND_COLOURS[v] || PALETTE[i] : PALETTE[i]));
  for (const [v] of order) {
    if (mode === "community") names[v] = data.communityNames[v] ? `around ${data.communityNames[v]}` : `community ${v}`;
    else if (mode === "org") names[v] = data.orgs[v];
    else names[v] = String(v);
  }
  return { value, colour, order, names };
}

// Drawing programs chosen for the software renderer that headless browsers and many office
// machines use: nodes as points (one vertex each, the disc drawn by the fragment shader) and,
// on large maps, lines one pixel wide (one line primitive each) rather than rectangles as thick
// as their weight (two triangles each). At 50,000 nodes and 200,000 lines that made a frame
// about ten times cheaper. Small maps, and a highlighted neighbourhood, keep thick lines.
const PROGRAMS = {
  nodeProgramClasses: { circle: NodePointProgram },
  edgeProgramClasses: { line: EdgeLineProgram, thick: EdgeRectangleProgram },
};

function start(root) {
  const stage = $(root, "[data-map-stage]");
  const status = $(root, "[data-map-status]");
  // Times in milliseconds since the navigation started (performance.now()'s origin), so the
  // benchmark can split its seconds to interactive into the page's own phases.
  const phases = { script: Math.round(performance.now()) };
  status.textContent = "Loading the map…";
  fetch(root.dataset.src, { credentials: "same-origin" })
    .then((r) => {
      if (!r.ok) throw new Error(`the map could not be loaded (${r.status})`);
      phases.response = Math.round(performance.now());
      const binary = (r.headers.get("Content-Type") || "").startsWith("application/octet-stream");
      return binary ? r.arrayBuffer().then(decode) : r.json();
    })
    .then((data) => {
      phases.parsed = Math.round(performance.now());
      draw(root, stage, status, data, phases);
    })
    .catch((err) => {
      status.textContent = `Sorry: ${err.message}.`;
      root.dataset.ready = "error";
    });
}

// The binary map data (convenor/web/views_map.py map_binary): a JSON header, then columns
// taken as typed arrays over the downloaded bytes (little-endian, as every browser's platform).
const MAGIC = "CVMAP1\0\0";
const COLUMN_TYPES = { f8: Float64Array, f4: Float32Array, i4: Int32Array };

function decode(buffer) {
  const bytes = new Uint8Array(buffer);
  if (buffer.byteLength < 12 || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error("the map's data is not in the expected format");
  }
  const length = new DataView(buffer).getUint32(8, true);
  const data = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  let offset = 12 + length;
  const take = (count, [name, type]) => {
    const Type = COLUMN_TYPES[type];
    const column = new Type(buffer, offset, count);
    offset += count * Type.BYTES_PER_ELEMENT;
    return [name, column];
  };
  for (const col of data.columns.nodes) {
    const [name, column] = take(data.n, col);
    data.nodes[name] = column;
  }
  data.lines = {};
  for (const col of data.columns.lines) {
    const [name, column] = take(data.e, col);
    data.lines[name] = column;
  }
  if (offset !== buffer.byteLength) throw new Error("the map's data is incomplete");
  return data;
}

// Wait until the GPU (or the software renderer) has finished what was sent to the context:
// reading one pixel back blocks until then.
function finished(renderer) {
  const px = new Uint8Array(4);
  for (const canvas of Object.values(renderer.getCanvases())) {
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  }
}

function draw(root, stage, status, data, phases) {
  const n = data.nodes.label.length;
  const e = data.lines.s.length;
  if (n === 0) {
    status.textContent = "Nothing to show here yet.";
    root.dataset.ready = "empty";
    return;
  }
  const nodes = data.nodes;
  const lines = data.lines;
  const thin = e > 20000;
  // The first colouring is worked out before the graph is built, so each node gets its colour
  // as it is added rather than through 50,000 attribute updates afterwards.
  const initial = categories(data, "community");
  const graph = new Graph({ multi: true, type: "mixed", allowSelfLoops: false });
  let top = 0;
  for (let i = 0; i < n; i++) top = Math.max(top, nodes.pr[i]);
  let topDeg = 1;
  for (let i = 0; i < n; i++) topDeg = Math.max(topDeg, nodes.deg[i]);
  const member = data.kinds.indexOf("member");
  const org = data.kinds.indexOf("org");
  // Ego maps: the centre in the middle and its neighbours around it, grouped by community,
  // since the global layout would bunch them into one corner.
  let xs = nodes.x;
  let ys = nodes.y;
  if (root.hasAttribute("data-radial") && data.focus !== null && data.focus !== undefined) {
    xs = new Array(n).fill(0);
    ys = new Array(n).fill(0);
    const others = [];
    for (let i = 0; i < n; i++) if (i !== data.focus) others.push(i);
    others.sort((a, b) => nodes.community[a] - nodes.community[b] || nodes.pr[b] - nodes.pr[a]);
    others.forEach((i, k) => {
      const angle = (2 * Math.PI * k) / others.length;
      const r = 100 * (k % 2 ? 1 : 0.8);
      xs[i] = r * Math.cos(angle);
      ys[i] = -r * Math.sin(angle);
    });
  }
  // Graphology keys are strings: each node's is made once and reused for its lines (rather than
  // 400,000 numbers turned into strings), and the attributes carry every field sigma fills in
  // with a default, so its copies all have one shape. Both spare the garbage collector, which
  // took about a fifth of the page's processor time at 200,000 lines.
  const keys = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = nodes.kind[i];
    const score = kind === member || kind === org ? (top > 0 ? nodes.pr[i] / top : 0) : nodes.deg[i] / topDeg;
    const key = String(i);
    keys[i] = key;
    graph.addNode(key, {
      x: xs[i],
      y: -ys[i],
      size: 1.5 + 9 * Math.sqrt(score),
      label: nodes.label[i],
      color: initial.colour.get(initial.value[i]) || OTHER,
      type: "circle",
      hidden: false,
      forceLabel: false,
      highlighted: false,
      zIndex: 0,
    });
  }
  const directed = data.lineKinds.map((k) => data.directedKinds.includes(k));
  const lineColour = data.lineKinds.map((k) => LINE_COLOURS[k] || OTHER);
  const edgeType = thin ? "line" : "thick";
  for (let j = 0; j < e; j++) {
    const k = lines.k[j];
    const attrs = {
      size: Math.min(0.5 + Math.log1p(lines.w[j]) * 0.4, 3),
      color: lineColour[k],
      label: "",
      type: edgeType,
      hidden: false,
      forceLabel: false,
      zIndex: 0,
    };
    if (directed[k]) graph.addDirectedEdgeWithKey(String(j), keys[lines.s[j]], keys[lines.t[j]], attrs);
    else graph.addUndirectedEdgeWithKey(String(j), keys[lines.s[j]], keys[lines.t[j]], attrs);
  }
  phases.graph = Math.round(performance.now());

  const state = {
    colourMode: "community",
    cats: initial,
    kinds: new Set(data.lineKinds),
    role: "",
    org: "",
    from: null,
    to: null,
    focus: null,
    neighbours: null,
  };
  // Whether any filter or highlight is on: when none is, the reducers hand sigma its own copy
  // of the attributes untouched, which keeps the first drawing and every full redraw cheap.
  let active = false;
  function noteActive() {
    active = state.neighbours !== null || state.role !== "" || state.org !== "" || state.from !== null ||
      state.to !== null || state.kinds.size < data.lineKinds.length;
  }

  function recolour() {
    state.cats = categories(data, state.colourMode);
    const cats = state.cats;
    // One bulk update: sigma redraws the nodes once rather than once per node.
    const paint = (key, attrs) => {
      attrs.color = cats.colour.get(cats.value[key]) || OTHER;
      return attrs;
    };
    graph.updateEachNodeAttributes(paint, { attributes: ["color"] });
    if (focusGraph !== null) focusGraph.updateEachNodeAttributes(paint, { attributes: ["color"] });
    legend();
  }

  const memberKind = data.kinds.indexOf("member");
  function nodeShown(i) {
    if (state.role && !(nodes.kind[i] === memberKind && data.roles[nodes.role[i]] === state.role)) return false;
    if (state.org !== "" && nodes.org[i] !== Number(state.org)) return false;
    return true;
  }

  function edgeShown(j) {
    if (!state.kinds.has(data.lineKinds[lines.k[j]])) return false;
    if (state.from !== null && lines.l[j] >= 0 && lines.l[j] < state.from) return false;
    if (state.to !== null && lines.f[j] >= 0 && lines.f[j] > state.to) return false;
    return true;
  }

  // The renderer comes after the graph: its WebGL contexts wait on the GPU process, which
  // right after leaving another large map is still tearing that one down (seconds, in the
  // software renderer); building the graph first overlaps the two.
  // sigma looks up both ends of each line it puts in its buffers through graphology, making an
  // array per line; every graph drawn here keys line j by its position in the data, whose
  // columns have its ends already. (sigma 3.0.2's addEdgeToProgram, less that look-up.)
  class MapSigma extends Sigma {
    addEdgeToProgram(edge, fingerprint, position) {
      const data = this.edgeDataCache[edge];
      const program = this.edgePrograms[data.type];
      if (!program) throw new Error(`Sigma: could not find a suitable program for edge type "${data.type}"!`);
      const j = Number(edge);
      program.process(fingerprint, position, this.nodeDataCache[keys[lines.s[j]]], this.nodeDataCache[keys[lines.t[j]]], data);
      this.edgeProgramIndex[edge] = position;
    }
  }
  const renderer = new MapSigma(graph, stage, {
    ...PROGRAMS,
    hideEdgesOnMove: thin,
    labelRenderedSizeThreshold: n > 5000 ? 9 : 5,
    defaultEdgeType: thin ? "line" : "thick",
    zIndex: true,
    minCameraRatio: 0.02,
    maxCameraRatio: 4,
    // sigma passes a copy of the attributes, so the reducers may change and return it.
    nodeReducer: (key, res) => {
      if (!active) return res;
      const i = Number(key);
      if (!nodeShown(i)) {
        res.hidden = true;
        return res;
      }
      if (state.neighbours) {
        if (i === state.focus) {
          res.highlighted = true;
          res.zIndex = 2;
          res.forceLabel = true;
        } else if (state.neighbours.has(i)) {
          res.zIndex = 1;
          res.forceLabel = state.neighbours.size < 40;
        } else {
          // No label at all (rather than an empty one) keeps the faded nodes out of sigma's
          // label grid, a good part of redrawing a highlighted neighbourhood.
          res.color = FADED;
          res.label = null;
          res.zIndex = 0;
        }
      }
      return res;
    },
    edgeReducer: (key, res) => {
      if (!active) return res;
      const j = Number(key);
      const s = lines.s[j];
      const t = lines.t[j];
      if (!edgeShown(j) || !nodeShown(s) || !nodeShown(t)) {
        res.hidden = true;
        return res;
      }
      if (state.neighbours && s !== state.focus && t !== state.focus) res.hidden = true;
      return res;
    },
  });
  phases.sigma = Math.round(performance.now());

  function refresh() {
    noteActive();
    renderer.refresh();
  }

  // A highlighted neighbourhood is drawn from a graph of every node but only the lines at the
  // focus (drawn as thick as their weight): redrawing it costs a fraction of hiding 200,000
  // lines one by one through the reducer. The full graph stays the one searched and described.
  // That graph's nodes are copied once (while the first frame is being drawn, see below) and
  // only its lines change from one highlight to the next.
  let focusGraph = null;
  function focusBase() {
    if (focusGraph === null) {
      focusGraph = new Graph({ multi: true, type: "mixed", allowSelfLoops: false });
      graph.forEachNode((key, attrs) => focusGraph.addNode(key, { ...attrs }));
    }
    return focusGraph;
  }
  function neighbourhood(i) {
    const g = focusBase();
    if (g.size > 0) g.clearEdges(); // which goes through every node, even with no lines
    graph.forEachEdge(keys[i], (key, attrs, s, t, sa, ta, undirected) => {
      if (undirected) g.addUndirectedEdgeWithKey(key, s, t, { ...attrs, type: "thick" });
      else g.addDirectedEdgeWithKey(key, s, t, { ...attrs, type: "thick" });
    });
    return g;
  }
  function show(g) {
    if (renderer.getGraph() !== g) renderer.setGraph(g);
    else renderer.refresh();
  }

  function focus(i, move) {
    if (i === null) {
      state.focus = null;
      state.neighbours = null;
      details(null);
      noteActive();
      show(graph);
      return;
    }
    // The first highlight after the map is shown is timed too (`phases`, for the benchmark).
    const timed = root.dataset.ready === "yes" && phases.highlighted === undefined;
    if (timed) phases.focus = Math.round(performance.now());
    state.focus = i;
    state.neighbours = new Set(graph.neighbors(String(i)).map(Number));
    details(i);
    noteActive();
    // Every graph drawn here has the same nodes, so the position is the same in each. On a
    // large map the camera jumps, before the redraw, so that one frame shows both: each frame
    // of a glide redraws every node, which a software renderer does a few times a second.
    const pos = move ? renderer.getNodeDisplayData(i) : null;
    const to = pos ? { x: pos.x, y: pos.y, ratio: 0.25 } : null;
    if (to && thin) renderer.getCamera().setState(to);
    show(neighbourhood(i));
    if (to && !thin) renderer.getCamera().animate(to, { duration: 400 });
    root.dataset.focus = String(i);
    if (timed) {
      phases.highlighted = Math.round(performance.now());
      root.dataset.phases = JSON.stringify(phases);
    }
  }

  // The details panel.
  const panel = $(root, "[data-map-details]");
  function details(i) {
    if (!panel) return;
    panel.replaceChildren();
    if (i === null) {
      panel.append(el("p", { class: "muted" }, "Click a node to see who or what it is."));
      return;
    }
    const kind = data.kinds[nodes.kind[i]];
    panel.append(el("h3", {}, nodes.label[i]));
    const dl = el("dl", { class: "map-facts" });
    const add = (k, v) => {
      dl.append(el("dt", {}, k), el("dd", {}, v));
    };
    add("Kind", data.kindNames[kind] || kind);
    if (kind === "member" && data.roles[nodes.role[i]]) add("Role", data.roles[nodes.role[i]]);
    if (nodes.org[i] >= 0) add("Organisation", data.orgs[nodes.org[i]]);
    if (nodes.community[i] >= 0) add("Community", state.cats && state.colourMode === "community" ? state.cats.names[nodes.community[i]] || String(nodes.community[i]) : String(nodes.community[i]));
    add("Influence (PageRank)", nodes.pr[i].toFixed(5));
    add("Brokerage", nodes.br[i].toFixed(3));
    add("Lines", String(graph.degree(i)));
    panel.append(dl);
    const url = data.links[kind] ? data.links[kind].replace("{id}", String(nodes.ref[i])) : null;
    if (url) panel.append(el("a", { href: url, class: "button" }, "Open the page"));
    const list = el("ul", { class: "map-neighbours" });
    const around = graph.neighbors(i).map(Number).sort((a, b) => nodes.pr[b] - nodes.pr[a]);
    for (const k of around.slice(0, 15)) {
      const li = el("li");
      const a = el("a", { href: "#", "data-node": String(k) }, nodes.label[k]);
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        focus(k, true);
      });
      li.append(a);
      list.append(li);
    }
    if (around.length) {
      panel.append(el("h4", {}, `Nearby (${around.length})`));
      panel.append(list);
    }
  }

  // The legend.
  const legendBox = $(root, "[data-map-legend]");
  function legend() {
    if (!legendBox) return;
    legendBox.replaceChildren();
    const ul = el("ul", { class: "map-legend" });
    for (const [v] of state.cats.order.slice(0, PALETTE.length)) {
      const li = el("li");
      const sw = el("span", { class: "swatch" });
      sw.style.background = state.cats.colour.get(v);
      li.append(sw, document.createTextNode(" " + (state.cats.names[v] || v)));
      ul.append(li);
    }
    if (state.cats.order.length > PALETTE.length) ul.append(el("li", { class: "muted" }, `and ${state.cats.order.length - PALETTE.length} more in grey`));
    legendBox.append(el("h4", {}, "Colours"), ul);
    const lines = el("ul", { class: "map-legend" });
    for (const k of data.lineKinds) {
      const li = el("li");
      const sw = el("span", { class: "swatch line" });
      sw.style.background = LINE_COLOURS[k];
      li.append(sw, document.createTextNode(" " + (data.lineKindNames[k] || k)));
      lines.append(li);
    }
    legendBox.append(el("h4", {}, "Lines"), lines);
  }

  // Controls (present on the full map; the ego maps have fewer).
  const colourSel = $(root, "[data-map-colour]");
  if (colourSel) colourSel.addEventListener("change", () => {
    state.colourMode = colourSel.value;
    recolour();
    refresh();
  });
  root.querySelectorAll("[data-map-kind]").forEach((box) => {
    box.addEventListener("change", () => {
      if (box.checked) state.kinds.add(box.value);
      else state.kinds.delete(box.value);
      refresh();
    });
  });
  const roleSel = $(root, "[data-map-role]");
  if (roleSel) {
    for (const r of data.roles) if (r) roleSel.append(el("option", { value: r }, r));
    roleSel.addEventListener("change", () => {
      state.role = roleSel.value;
      refresh();
    });
  }
  const orgSel = $(root, "[data-map-org]");
  if (orgSel) {
    const order = data.orgs.map((name, i) => [name, i]).sort((a, b) => a[0].localeCompare(b[0]));
    for (const [name, i] of order) orgSel.append(el("option", { value: String(i) }, name));
    orgSel.addEventListener("change", () => {
      state.org = orgSel.value;
      refresh();
    });
  }
  const fromIn = $(root, "[data-map-from]");
  const toIn = $(root, "[data-map-to]");
  if (fromIn && toIn && data.window) {
    fromIn.min = toIn.min = dayToDate(data.window[0]);
    fromIn.max = toIn.max = dayToDate(data.window[1]);
    const onDates = () => {
      state.from = fromIn.value ? dateToDay(fromIn.value) : null;
      state.to = toIn.value ? dateToDay(toIn.value) : null;
      refresh();
    };
    fromIn.addEventListener("change", onDates);
    toIn.addEventListener("change", onDates);
  }

  // Names in lower case, for the search.
  let lower = null;
  function searchIndex() {
    if (lower === null) lower = nodes.label.map((s) => s.toLowerCase());
    return lower;
  }

  // Search: the first matches by name; choosing one highlights its neighbourhood.
  const search = $(root, "[data-map-search]");
  const results = $(root, "[data-map-results]");
  if (search && results) {
    const run = () => {
      const lower = searchIndex();
      const q = search.value.trim().toLowerCase();
      results.replaceChildren();
      if (q.length < 2) return;
      const found = [];
      for (let i = 0; i < n && found.length < 200; i++) if (lower[i].includes(q)) found.push(i);
      found.sort((a, b) => nodes.pr[b] - nodes.pr[a]);
      if (!found.length) results.append(el("li", { class: "muted" }, "No one by that name on the map."));
      for (const i of found.slice(0, 8)) {
        const li = el("li");
        const b = el("button", { type: "button", class: "link", "data-node": String(i) }, nodes.label[i]);
        b.addEventListener("click", () => {
          focus(i, true);
          results.replaceChildren();
        });
        li.append(b);
        results.append(li);
      }
    };
    search.addEventListener("input", run);
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        const first = results.querySelector("button");
        if (first) first.click();
      }
    });
  }
  const clear = $(root, "[data-map-clear]");
  if (clear) clear.addEventListener("click", () => focus(null, false));

  renderer.on("clickNode", ({ node }) => focus(Number(node), false));
  renderer.on("clickStage", () => focus(null, false));

  legend();
  if (data.focus !== null && data.focus !== undefined) focus(data.focus, false);
  else details(null);
  status.textContent = `${n.toLocaleString()} nodes, ${e.toLocaleString()} lines.`;
  // A page that is left frees its WebGL contexts and buffers at once: left to the garbage
  // collector, tearing down a 200,000-line map held up the next page for many seconds.
  window.addEventListener("pagehide", () => {
    renderer.kill();
    graph.clear();
    if (focusGraph !== null) focusGraph.clear();
    delete window.convenorMap;
  }, { once: true });
  window.addEventListener("pageshow", (ev) => {
    if (ev.persisted) location.reload();
  });
  // `drawn()`: a promise kept once what was last drawn has been rasterised and shown.
  const drawn = () => {
    finished(renderer);
    return new Promise((resolve) => requestAnimationFrame(() => resolve()));
  };
  window.convenorMap = { renderer, graph, focus, drawn };
  // While the first frame is drawn (by the GPU process, or its software renderer on another
  // core), get ready for the first search and highlight; then wait for the frame.
  for (const canvas of Object.values(renderer.getCanvases())) {
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (gl) gl.flush();
  }
  if (search) searchIndex();
  if (thin) focusBase();
  phases.prepared = Math.round(performance.now());
  // Ready once the first frame, nodes and lines, has been drawn (waited for) and then shown.
  finished(renderer);
  phases.drawn = Math.round(performance.now());
  requestAnimationFrame(() => {
    phases.shown = Math.round(performance.now());
    root.dataset.phases = JSON.stringify(phases);
    root.dataset.ms = String(phases.shown);
    root.dataset.nodes = String(n);
    root.dataset.lines = String(e);
    root.dataset.ready = "yes";
    window.convenorMap.readyMs = phases.shown;
  });
}

document.querySelectorAll("[data-map]").forEach(start);
