// A taxonomy's hierarchy (tdtax: {class, subclasses: [...], other names?, tags?}) as a flat list.

export type TaxonomyClass = {
  /** The class name, as a classification gives it. */
  name: string;
  /** 0 for the root, 1 for its subclasses, ... */
  depth: number;
  /** The names from the root down to this class. */
  path: string[];
  /** Aliases ("other names"), for search and tooltips. */
  aliases: string[];
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/**
 * Every class of the hierarchy, depth first in the taxonomy's own order (parents before their
 * subclasses), each once: a class name repeated elsewhere in the tree keeps its first place.
 * Anything that is not a {class} node is skipped.
 */
export function flattenHierarchy(hierarchy: unknown): TaxonomyClass[] {
  const classes: TaxonomyClass[] = [];
  const seen = new Set<string>();
  const visit = (node: unknown, path: string[]) => {
    if (!isRecord(node) || typeof node.class !== "string" || !node.class.trim()) return;
    const name = node.class;
    const here = [...path, name];
    if (!seen.has(name)) {
      seen.add(name);
      classes.push({ name, depth: path.length, path: here, aliases: strings(node["other names"]) });
    }
    if (Array.isArray(node.subclasses)) node.subclasses.forEach((child) => visit(child, here));
  };
  visit(hierarchy, []);
  return classes;
}

/** A class as an <option>'s text: indented by its depth, aliases in brackets. */
export function classOptionLabel(entry: TaxonomyClass): string {
  const indent = "\u00a0\u00a0".repeat(entry.depth);
  return entry.aliases.length
    ? `${indent}${entry.name} (${entry.aliases.join(", ")})`
    : `${indent}${entry.name}`;
}
