import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { Resvg } from '@resvg/resvg-js';
import type { CoverageStatus, MapEdge, MapNode } from '../routes/spbe/schemas.js';

/**
 * The integration map drawn by Graphviz (`dot`, the WebAssembly build from npm, so no system
 * package is needed) and rasterised to PNG by resvg. `dot` ranks nodes and never lets two
 * node boxes overlap; edges run left to right from owner to consumer.
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
  const what = edge.apis.length <= 2 ? edge.apis.join(', ') : `${edge.apis.length} ${edge.kind === 'topic' ? 'topics' : 'APIs'}`;
  return `${what}\n${calls(edge.calls)}`;
}

/** The map in Graphviz DOT. Edge width grows with the log of its calls (1 to 6 points). */
export function integrationMapDot(map: { nodes: MapNode[]; edges: MapEdge[] }, title = ''): string {
  const maxCalls = Math.max(1, ...map.edges.map((e) => e.calls));
  const width = (n: number) => (1 + (5 * Math.log10(1 + n)) / Math.log10(1 + maxCalls)).toFixed(2);
  const lines = [
    'digraph spl {',
    `  graph [rankdir=LR, nodesep=0.3, ranksep=1.4, fontname="Helvetica", fontsize=14, labelloc=t, label=${quote(title)}];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.15,0.06", color="#555555"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#3b6ea5", fontcolor="#333333", arrowsize=0.7];',
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
    lines.push(
      `  ${quote(e.from)} -> ${quote(e.to)} [label=${quote(edgeLabel(e))}, penwidth=${width(e.calls)}${style ? `, ${style}` : ''}];`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}

let graphviz: Promise<Graphviz> | undefined;

/** The map of `map` as SVG, PNG or DOT. */
export async function renderIntegrationMap(
  map: { nodes: MapNode[]; edges: MapEdge[] },
  format: MapFormat,
  title = '',
): Promise<Buffer> {
  const dot = integrationMapDot(map, title);
  if (format === 'dot') return Buffer.from(dot);
  graphviz ??= Graphviz.load();
  let svg: string;
  try {
    svg = (await graphviz).dot(dot, 'svg');
  } catch (err) {
    throw new Error('the integration map could not be laid out', { cause: err });
  }
  if (format === 'svg') return Buffer.from(svg);
  return renderSvgToPng(svg);
}

/** Rasterises an SVG at 1.5× (white background, the system's fonts). */
export function renderSvgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 1.5 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
