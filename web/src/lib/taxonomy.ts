// A taxonomy's hierarchy ({class, subclasses: [...]}, tdtax's shape) as a list of its classes.

type Node = { class?: unknown; subclasses?: unknown };

export type TaxonomyClass = { name: string; depth: number };

/** Every class of the hierarchy, depth first (a parent before its children), each once. */
export function taxonomyClasses(hierarchy: unknown): TaxonomyClass[] {
  const found: TaxonomyClass[] = [];
  const seen = new Set<string>();
  const visit = (node: unknown, depth: number) => {
    if (!node || typeof node !== "object") return;
    const { class: name, subclasses } = node as Node;
    if (typeof name === "string" && !seen.has(name)) {
      seen.add(name);
      found.push({ name, depth });
    }
    if (Array.isArray(subclasses)) subclasses.forEach((child) => visit(child, depth + 1));
  };
  visit(hierarchy, 0);
  return found;
}
