import { describe, expect, it } from "vitest";
import { taxonomyClasses } from "./taxonomy";

describe("taxonomyClasses", () => {
  it("lists a tree's classes depth first with their depth", () => {
    const hierarchy = {
      class: "Time-domain Source",
      subclasses: [
        { class: "Supernova", subclasses: [{ class: "Ia" }, { class: "II" }] },
        { class: "Variable", subclasses: [{ class: "II" }] },
      ],
    };
    expect(taxonomyClasses(hierarchy)).toEqual([
      { name: "Time-domain Source", depth: 0 },
      { name: "Supernova", depth: 1 },
      { name: "Ia", depth: 2 },
      { name: "II", depth: 2 },
      { name: "Variable", depth: 1 },
    ]);
  });

  it("ignores what is not a node", () => {
    expect(taxonomyClasses(null)).toEqual([]);
    expect(taxonomyClasses({ subclasses: [1, "x", { class: 3 }, { class: "ok" }] })).toEqual([
      { name: "ok", depth: 1 },
    ]);
  });
});
