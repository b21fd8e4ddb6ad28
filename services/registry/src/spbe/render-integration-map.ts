import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { Resvg } from '@resvg/resvg-js';
import type { CoverageStatus, MapEdge, MapNode } from '../routes/spbe/schemas.js';

/**
 * The integration map drawn by Graphviz (`dot`, the WebAssembly build from npm, so no system
 * package is needed) and rasterised to PNG by resvg. Neither layout lets two node boxes
 * overlap (see LABELLED_EDGES_MAX); edges run from owner to consumer.
 */

/** Fill colour of an organisation by what it does through the hub in the period. */
const FILL: Record<CoverageStatus, string> = {
  both: '#b9e4c9',
  publishes: '#cfe2ff',
  consumes: '#ffe8b3',
  neither: '#eeeeee',
};

export type MapFormat = 'svg' | 'png' | 'dot';

/** A DOT double-quoted string (Graphviz escString: quote and backslash escaped). */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const calls = (n: number) => `${n.toLocaleString('en-US')} call${n === 1 ? '' : 's'}`;

function edgeLabel(edge: MapEdge): string {
  const what =
    edge.apis.length <= 2
      ? edge.apis.join(', ')
      : `${edge.apis.length} ${edge.kind === 'topic' ? 'topics' : 'APIs'}`;
  return `${what}\n${calls(edge.calls)}`;
}

/**
 * Above this many edges the map is laid out by `neato` (a spring model with `overlap=false`,
 * which moves nodes apart until no two overlap) without edge labels: `dot` draws a dense
 * graph of 30 organisations and 350 owner→consumer pairs 7,000 points wide in 15 s, with
 * labels nobody can read. Up to it, `dot` ranks owners left of consumers and labels each
 * edge with its APIs and calls.
 */
export const LABELLED_EDGES_MAX = 40;

/** The map in Graphviz DOT, and the layout engine to run it. Edge width grows with the log of its calls. */
export function integrationMapDot(
  map: { nodes: MapNode[]; edges: MapEdge[] },
  title = '',
): { dot: string; engine: 'dot' | 'neato' } {
  const dense = map.edges.length > LABELLED_EDGES_MAX;
  const maxCalls = Math.max(1, ...map.edges.map((e) => e.calls));
  const [minWidth, extra] = dense ? [0.4, 2.6] : [1, 5];
  const width = (n: number) => (minWidth + (extra * Math.log10(1 + n)) / Math.log10(1 + maxCalls)).toFixed(2);
  const lines = [
    'digraph spl {',
    dense
      ? `  graph [layout=neato, overlap=false, sep="+24", splines=true, start=1, fontname="Helvetica", fontsize=14, labelloc=t, label=${quote(title)}];`
      : `  graph [rankdir=LR, nodesep=0.3, ranksep=1.4, fontname="Helvetica", fontsize=14, labelloc=t, label=${quote(title)}];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.15,0.06", color="#555555"];',
    `  edge [fontname="Helvetica", fontsize=9, color="${dense ? '#3b6ea588' : '#3b6ea5'}", fontcolor="#333333", arrowsize=0.7];`,
  ];
  for (const n of map.nodes) {
    const attrs =
      n.kind === 'trusted-issuer'
        ? `shape=component, fillcolor="#e8dcf5", label=${quote(`${n.label}\n${n.id.replace(/^issuer:/, '')} (federated hub)`)}`
        : `fillcolor=${quote(FILL[n.status ?? 'neither'])}, penwidth=${n.onRoster ? 2 : 1}, label=${quote(`${n.label}\n${n.id}${n.onRoster ? ' · roster PD' : ''}`)}`;
    lines.push(`  ${quote(n.id)} [${attrs}];`);
  }
  for (const e of map.edges) {
    const style =
      e.kind === 'federation'
        ? 'style=dashed, color="#7b4fa8"'
        : e.calls === 0
          ? 'style=dotted, color="#999999"'
          : e.kind === 'topic'
            ? 'color="#2e8b57"'
            : '';
    const label = dense ? `tooltip=${quote(edgeLabel(e))}` : `label=${quote(edgeLabel(e))}`;
    lines.push(
      `  ${quote(e.from)} -> ${quote(e.to)} [${label}, penwidth=${width(e.calls)}${style ? `, ${style}` : ''}];`,
    );
  }
  lines.push('}');
  return { dot: lines.join('\n'), engine: dense ? 'neato' : 'dot' };
}

let graphviz: Promise<Graphviz> | undefined;

/** The map of `map` as SVG, PNG or DOT. */
export async function renderIntegrationMap(
  map: { nodes: MapNode[]; edges: MapEdge[] },
  format: MapFormat,
  title = '',
): Promise<Buffer> {
  const { dot, engine } = integrationMapDot(map, title);
  if (format === 'dot') return Buffer.from(dot);
  graphviz ??= Graphviz.load();
  let svg: string;
  try {
    svg = (await graphviz).layout(dot, 'svg', engine);
  } catch (err) {
    throw new Error('the integration map could not be laid out', { cause: err });
  }
  if (format === 'svg') return Buffer.from(svg);
  return renderSvgToPng(svg);
}

/** Widest PNG drawn, in pixels; a larger map is scaled down to it. */
const PNG_MAX_WIDTH = 4000;

/** Rasterises an SVG at 1.5× (at most PNG_MAX_WIDTH wide; white background, the system's fonts). */
export function renderSvgToPng(svg: string): Buffer {
  const width = Number(/viewBox="[\d.-]+ [\d.-]+ ([\d.]+)/.exec(svg)?.[1] ?? 0);
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo:
      width * 1.5 > PNG_MAX_WIDTH ? { mode: 'width', value: PNG_MAX_WIDTH } : { mode: 'zoom', value: 1.5 },
    // Graphviz measures labels with Helvetica's metrics; Liberation Sans shares them, so text
    // fits its box (DejaVu Sans, wider, is the fallback).
    font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans', sansSerifFamily: 'Liberation Sans' },
  });
  return resvg.render().asPng();
}
