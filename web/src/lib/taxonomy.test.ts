import { describe, expect, it } from "vitest";
import { classOptionLabel, flattenHierarchy } from "./taxonomy";

const hierarchy = {
  class: "Time-domain Source",
  subclasses: [
    {
      class: "Nonstellar",
      subclasses: [
        {
          class: "Galactic Nuclei",
          subclasses: [{ class: "Tidal Disruption Event", "other names": ["TDE"] }],
        },
      ],
    },
    {
      class: "Stellar variable",
      subclasses: [{ class: "Cataclysmic" }, { class: "Galactic Nuclei" }],
    },
    { tags: ["no class"] },
    "junk",
  ],
};

describe("flattenHierarchy", () => {
  it("lists every class depth first with its depth and path", () => {
    const classes = flattenHierarchy(hierarchy);
    expect(classes.map((c) => [c.name, c.depth])).toEqual([
      ["Time-domain Source", 0],
      ["Nonstellar", 1],
      ["Galactic Nuclei", 2],
      ["Tidal Disruption Event", 3],
      ["Stellar variable", 1],
      ["Cataclysmic", 2],
    ]);
    expect(classes[3].path).toEqual([
      "Time-domain Source",
      "Nonstellar",
      "Galactic Nuclei",
      "Tidal Disruption Event",
    ]);
    expect(classes[3].aliases).toEqual(["TDE"]);
  });

  it("gives nothing for what is not a hierarchy", () => {
    expect(flattenHierarchy(undefined)).toEqual([]);
    expect(flattenHierarchy({ subclasses: [] })).toEqual([]);
    expect(flattenHierarchy([{ class: "x" }])).toEqual([]);
  });

  it("indents an option by depth and shows aliases", () => {
    const [, , , tde] = flattenHierarchy(hierarchy);
    expect(classOptionLabel(tde)).toBe("\u00a0".repeat(6) + "Tidal Disruption Event (TDE)");
  });
});
