import { describe, expect, it } from "vitest";
import {
  activeVersion,
  autosavePatch,
  checkPipeline,
  checkTestWindow,
  describeStream,
  diffLines,
  newVersionBody,
  objectLookupQuery,
  parseObjectIds,
  parseTimeBound,
  readAutosave,
  readFilterDoc,
  readNewestJd,
  readObjectLookup,
  readTestReply,
  type TimeBound,
} from "./filters";

// GET /api/filters/1 on the demo mesh, as the API answers it.
const DEMO = {
  fv: [
    {
      fid: "ti46x6",
      created_at: { $date: "2026-12-03T07:32:07.477Z" },
      pipeline:
        '[{"$match": {"candidate.drb": {"$gt": 0.5}}}, {"$project": {"annotations": {"drb": "$candidate.drb"}}}]',
    },
    { fid: "8ykz4v", created_at: { $date: { $numberLong: "1796300000000" } }, pipeline: "[]" },
  ],
  permissions: [1],
  filter_id: 1,
  catalog: "ZTF_alerts",
  group_id: 4,
  active_fid: "ti46x6",
  _id: { $oid: "6b111af7f6ee5b2fe08af0dd" },
  stream_id: 1,
  auto_followup: {},
  id: 1,
  autosave: { comment: "autosaved by the demo filter real-bright", active: true },
  name: "real-bright",
  update_annotations: false,
  active: true,
};

describe("readFilterDoc", () => {
  it("reads the versions, the active one and the settings", () => {
    const filter = readFilterDoc(DEMO);
    expect(filter).toMatchObject({
      id: 1,
      name: "real-bright",
      group_id: 4,
      stream_id: 1,
      catalog: "ZTF_alerts",
      permissions: [1],
      active: true,
      active_fid: "ti46x6",
      update_annotations: false,
      autosave: {
        active: true,
        comment: "autosaved by the demo filter real-bright",
        ignore_group_ids: [],
      },
    });
    expect(filter.versions.map((version) => [version.fid, version.created_at])).toEqual([
      ["ti46x6", "2026-12-03T07:32:07.477Z"],
      ["8ykz4v", new Date(1796300000000).toISOString()],
    ]);
    expect(activeVersion(filter)?.fid).toBe("ti46x6");
  });

  it("reads a filter that never had a version", () => {
    const filter = readFilterDoc({ stream_id: 1, group_id: 5, id: 3, name: "scratch" });
    expect(filter).toMatchObject({
      id: 3,
      name: "scratch",
      versions: [],
      active: false,
      active_fid: null,
    });
    expect(activeVersion(filter)).toBeUndefined();
  });
});

describe("autosave", () => {
  it("reads a bool or Kowalski's object", () => {
    expect(readAutosave(false)).toEqual({
      active: false,
      comment: "",
      ignore_group_ids: [],
      raw: false,
    });
    expect(readAutosave(true).active).toBe(true);
    expect(readAutosave({ active: true, ignore_group_ids: [4.0, 5] }).ignore_group_ids).toEqual([
      4, 5,
    ]);
  });

  it("patches keep the keys the page does not edit", () => {
    const current = readAutosave({
      active: true,
      comment: "old",
      pipeline: [{ $match: {} }],
      saver_id: 7,
    });
    expect(autosavePatch(current, { active: false })).toEqual({
      active: false,
      comment: "old",
      pipeline: [{ $match: {} }],
      saver_id: 7,
    });
    expect(autosavePatch(current, { comment: "  ", ignore_group_ids: [4] })).toEqual({
      active: true,
      pipeline: [{ $match: {} }],
      saver_id: 7,
      ignore_group_ids: [4],
    });
    expect(autosavePatch(readAutosave(false), { active: true })).toEqual({ active: true });
  });
});

describe("checkPipeline", () => {
  it("accepts JSON and counts the stages", () => {
    expect(checkPipeline('[{"$match": {}}, {"$project": {"a": 1}}]')).toEqual({
      ok: true,
      stages: 2,
    });
  });

  it("says where the text is not JSON", () => {
    expect(checkPipeline('[\n  {"$match": {"a": 1}},\n]')).toEqual({
      ok: false,
      line: 3,
      column: 1,
      offset: 26,
      message: "Line 3, column 1: Trailing comma before ']': remove the last ','.",
    });
  });

  it("leaves what a pipeline may contain to the server", () => {
    expect(checkPipeline('[{"$bogus": {}}]').ok).toBe(true);
    expect(checkPipeline("{}").ok).toBe(true);
  });
});

it("newVersionBody splices the pipeline in as typed", () => {
  const body = newVersionBody(3, ' [{"$match": {"candid": 1127174604415015005}}]\n');
  expect(body).toBe('{"filter_id": 3, "pipeline": [{"$match": {"candid": 1127174604415015005}}]}');
});

describe("the test form", () => {
  it("splits object ids", () => {
    expect(parseObjectIds("ZTF20aajcdad, ZTF17aaaaaas\nZTF20aajcdad  WNTR24awavn")).toEqual([
      "ZTF20aajcdad",
      "ZTF17aaaaaas",
      "WNTR24awavn",
    ]);
    expect(parseObjectIds("  ")).toEqual([]);
  });

  it("reads Julian dates and UTC dates", () => {
    expect(parseTimeBound("")).toBeUndefined();
    expect(parseTimeBound("2458882.5")).toEqual({ value: 2458882.5, jd: 2458882.5 });
    expect(parseTimeBound("2020-02-04")).toEqual({ value: "2020-02-04T00:00:00", jd: 2458883.5 });
    expect(parseTimeBound("2020-02-04 12:00")).toEqual({
      value: "2020-02-04T12:00:00",
      jd: 2458884,
    });
    expect(parseTimeBound("2020-02-04T06:00:00.5Z")).toMatchObject({
      value: "2020-02-04T06:00:00",
    });
    expect(parseTimeBound("58882.5")).toHaveProperty("error");
    expect(parseTimeBound("yesterday")).toHaveProperty("error");
  });

  it("checks the window as Kowalski would", () => {
    const at = (jd: number): TimeBound => ({ value: jd, jd });
    expect(checkTestWindow([], at(2458882), at(2458883))).toBeUndefined();
    expect(checkTestWindow([], at(2458882), at(2458883.5))).toMatch(/at most one day/);
    expect(checkTestWindow([], at(2458882), undefined)).toMatch(/time window/);
    expect(checkTestWindow(["ZTF20aajcdad"], undefined, undefined)).toBeUndefined();
    expect(checkTestWindow(["ZTF20aajcdad"], at(2458882), at(2458870))).toMatch(/after its start/);
    expect(checkTestWindow(new Array(1001).fill("x"), undefined, undefined)).toMatch(/1000/);
  });
});

describe("readTestReply", () => {
  it("keeps candids exact and finds the object and annotations", () => {
    const text =
      '{"status": "success", "message": "filter test successful; the filter failed on 1 alert(s)", "data": [' +
      '{"_id": 1127495406315015005, "objectId": "ZTF20aajcdad", "annotations": {"x": 1.0}, "score": 2},' +
      '{"_id": 3608898, "annotations": {"magpsf": 16.3}}], "errors": {"filter_id": 3, "fid": "cw3lq5", ' +
      '"alerts_evaluated": 11, "count": 1, "examples": [{"candid": 1127107111615015007, "message": "can\'t $divide by zero"}]}}';
    const reply = readTestReply(text);
    expect(reply.passes).toEqual([
      {
        candid: "1127495406315015005",
        objectId: "ZTF20aajcdad",
        annotations: { x: 1 },
        other: { score: 2 },
      },
      { candid: "3608898", objectId: undefined, annotations: { magpsf: 16.3 }, other: {} },
    ]);
    expect(reply.errors).toEqual({
      filter_id: 3,
      fid: "cw3lq5",
      alerts_evaluated: 11,
      count: 1,
      examples: [{ candid: "1127107111615015007", message: "can't $divide by zero" }],
    });
    expect(reply.message).toMatch(/failed on 1 alert/);
  });

  it("reads an answer without an errors block", () => {
    expect(readTestReply('{"status": "success", "message": "ok", "data": []}')).toEqual({
      message: "ok",
      passes: [],
      errors: undefined,
    });
  });
});

describe("archive look-ups", () => {
  it("asks for candids as written and maps them to objects (ZTF's objectId, WINTER's objectid)", () => {
    expect(objectLookupQuery("ZTF_alerts", ["1127495406315015005", "bad"])).toContain(
      '"filter": {"candid": {"$in": [1127495406315015005]}}',
    );
    const found = readObjectLookup(
      '{"data": [{"objectId": "ZTF20aajcdad", "candid": 1127495406315015005}, {"objectid": "WNTR24awavn", "candid": 3608898}]}',
    );
    expect([...found]).toEqual([
      ["1127495406315015005", "ZTF20aajcdad"],
      ["3608898", "WNTR24awavn"],
    ]);
    expect(readNewestJd('{"data": [{"candidate": {"jd": 2460229.9338542}}]}')).toBe(
      2460229.9338542,
    );
    expect(readNewestJd('{"data": []}')).toBeUndefined();
  });
});

it("diffLines shows what changed", () => {
  expect(diffLines("a\nb\nc", "a\nc\nd")).toEqual([
    { kind: "same", text: "a" },
    { kind: "removed", text: "b" },
    { kind: "same", text: "c" },
    { kind: "added", text: "d" },
  ]);
  expect(diffLines("x", "x")).toEqual([{ kind: "same", text: "x" }]);
});

it("describeStream says what a stream reads", () => {
  expect(describeStream({ collection: "ZTF_alerts", selector: [1, 2] })).toBe(
    "ZTF_alerts, programids 1, 2",
  );
  expect(describeStream({ collection: "WNTR_alerts", selector: [1] })).toBe(
    "WNTR_alerts, programid 1",
  );
  expect(describeStream(null)).toBe("");
});
