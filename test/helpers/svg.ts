// An SVG file's text nodes, read with a real XML parser (fast-xml-parser): what a figure shows in
// words (titles, axis titles, legend entries, tick labels), in document order, trimmed.
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { expect } from 'vitest';

function texts(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string' || typeof node === 'number') out.push(String(node).trim());
  else if (Array.isArray(node)) for (const n of node) texts(n, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) if (!k.startsWith('@_')) texts(v, out);
  return out;
}

export function svgTexts(path: string): string[] {
  const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path, 'utf8'));
  expect(doc.svg, `${path} has an <svg> root`).toBeDefined();
  return texts(doc.svg);
}
