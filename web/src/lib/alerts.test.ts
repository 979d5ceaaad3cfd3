import { describe, expect, it } from "vitest";
import { toPoints } from "./photometry";
import {
  alertCatalogs,
  alertRow,
  alertsSearch,
  candidQuery,
  coneObjects,
  coneQuery,
  crossMatchSummaries,
  formatAlertValue,
  fromExtendedJson,
  groupByObject,
  historyPhotometry,
  jdToIso,
  meanPosition,
  objectAlertsQuery,
  parseJsonExact,
  readAlertsState,
  recentQuery,
  rowFields,
  scoreColumns,
  separationArcsec,
  surveyOf,
  writeAlertsState,
  type Doc,
} from "./alerts";

describe("parseJsonExact", () => {
  it("keeps 64-bit candids exact and other numbers as numbers", () => {
    const parsed = parseJsonExact(
      '{"candid": 1127107111615015007, "pid": 1127107111615, "jd": 2458881.6071181, ' +
        '"neg": -9007199254740993, "e": 1.2e+17, "list": [1, 2.5, -3]}',
    ) as Doc;
    expect(parsed.candid).toBe("1127107111615015007");
    expect(parsed.pid).toBe(1127107111615);
    expect(parsed.jd).toBe(2458881.6071181);
    expect(parsed.neg).toBe("-9007199254740993");
    expect(parsed.e).toBe(1.2e17);
    expect(parsed.list).toEqual([1, 2.5, -3]);
  });

  it("leaves digits inside strings alone, escaped quotes included", () => {
    const parsed = parseJsonExact(
      '{"a": "id 1127107111615015007 \\" 99999999999999999", "b": [true, null]}',
    ) as Doc;
    expect(parsed.a).toBe('id 1127107111615015007 " 99999999999999999');
    expect(parsed.b).toEqual([true, null]);
  });

  it("throws on broken JSON", () => {
    expect(() => parseJsonExact('{"a": }')).toThrow(SyntaxError);
  });

  it("unwraps Extended JSON", () => {
    expect(
      fromExtendedJson({
        id: { $oid: "6b11626c69e6c1e6f931fdea" },
        long: { $numberLong: "2475433850015015000" },
        small: { $numberLong: "42" },
        nan: { $numberDouble: "NaN" },
        date: { $date: "2026-12-03T07:32:11Z" },
        ms: { $date: { $numberLong: "0" } },
        cutout: { $binary: { base64: "AAAA", subType: "00" } },
      }),
    ).toEqual({
      id: "6b11626c69e6c1e6f931fdea",
      long: "2475433850015015000",
      small: 42,
      nan: NaN,
      date: "2026-12-03T07:32:11Z",
      ms: "1970-01-01T00:00:00.000Z",
      cutout: null,
    });
  });
});

describe("catalogs and queries", () => {
  it("lists only the alert collections", () => {
    expect(
      alertCatalogs([
        "IGAPS_DR1",
        "ZTF_alerts_aux",
        "ZTF_alerts",
        "WNTR_alerts",
        "WNTR_alerts_aux",
        "filters",
      ]),
    ).toEqual(["WNTR_alerts", "ZTF_alerts"]);
    expect(alertCatalogs(null)).toEqual([]);
  });

  it("knows each survey's object-id field", () => {
    expect(surveyOf("ZTF_alerts").idField).toBe("objectId");
    expect(surveyOf("WNTR_alerts").idField).toBe("objectid");
    expect(surveyOf("LSST_alerts")).toMatchObject({ idField: "objectId", instrument: "LSST" });
  });

  it("asks for an object's alerts without cutouts or history", () => {
    const query = objectAlertsQuery("WNTR_alerts", "WNTR24awati");
    expect(query.query_type).toBe("find");
    expect(query.query.filter).toEqual({ objectid: "WNTR24awati" });
    expect(query.query.projection).toMatchObject({
      cutoutScience: 0,
      cutout_science: 0,
      prv_candidates: 0,
    });
  });

  it("sends a candid as $numberLong and a cone in arcsec", () => {
    expect(candidQuery("ZTF_alerts", "1127107111615015007").query.filter).toEqual({
      candid: { $numberLong: "1127107111615015007" },
    });
    const recent = recentQuery("WNTR_alerts");
    expect(recent.kwargs).toEqual({ sort: [["candidate.jd", -1]], limit: 50 });
    expect(recent.query.projection).toMatchObject({
      objectid: 1,
      candid: 1,
      "candidate.magpsf": 1,
    });
    const cone = coneQuery("ZTF_alerts", { ra: 71.6, dec: -10.2 }, 5);
    expect(cone.query.object_coordinates).toEqual({
      radec: { target: [71.6, -10.2] },
      cone_search_radius: 5,
      cone_search_unit: "arcsec",
    });
  });
});

const ztfAlert = (
  candid: string,
  jd: number,
  fid: number,
  magpsf: number,
  extra: Doc = {},
): Doc => ({
  objectId: "ZTF19abzrhgq",
  candid,
  candidate: {
    jd,
    fid,
    magpsf,
    sigmapsf: 0.1,
    diffmaglim: 20.5,
    isdiffpos: "t",
    ra: 71.6577756,
    dec: -10.2263957,
    programid: 1,
    drb: 0.99,
    drbversion: "d6_m7",
    ...extra,
  },
  classifications: { braai: 0.98, braai_version: "d6_m9", acai_h: 0.14, acai_h_version: "d1" },
  coordinates: { radec_str: ["04:46:37.8661", "-10:13:35.025"], l: 207.8765722, b: -32.3229275 },
});

describe("alert rows", () => {
  it("reads the fields a table shows", () => {
    const row = alertRow(ztfAlert("1127107111615015007", 2458881.6071181, 2, 18.2), "ZTF_alerts");
    expect(row).toMatchObject({
      candid: "1127107111615015007",
      objectId: "ZTF19abzrhgq",
      filter: "ztfr",
      magpsf: 18.2,
      sigmapsf: 0.1,
      positive: true,
      programid: 1,
      galLon: 207.8765722,
      galLat: -32.3229275,
    });
    expect(row.mjd).toBeCloseTo(58881.1071181, 7);
    expect(row.scores).toEqual([
      { name: "drb", value: 0.99, version: "d6_m7" },
      { name: "braai", value: 0.98, version: "d6_m9" },
      { name: "acai_h", value: 0.14, version: "d1" },
    ]);
  });

  it("marks negative subtractions and unknown filters", () => {
    const row = alertRow(ztfAlert("1", 2458881.5, 7, 19, { isdiffpos: "f" }), "ZTF_alerts");
    expect(row.positive).toBe(false);
    expect(row.filter).toBe("fid 7");
  });

  it("orders score columns drb, braai, then the rest", () => {
    const rows = [alertRow(ztfAlert("1", 2458881.5, 1, 19), "ZTF_alerts")];
    rows[0].scores.push({ name: "acai_b", value: 0.1 });
    expect(scoreColumns(rows)).toEqual(["drb", "braai", "acai_b", "acai_h"]);
  });

  it("shows alert fields at their precision", () => {
    expect(formatAlertValue(2460229.9338542)).toBe("2460229.9338542");
    expect(formatAlertValue(0.5249999761581421)).toBe("0.525");
    expect(formatAlertValue(1.109391450881958e-5)).toBe("0.0000110939");
    expect(formatAlertValue(-999)).toBe("-999");
    expect(formatAlertValue("2475433850315015009")).toBe("2475433850315015009");
    expect(formatAlertValue(false)).toBe("false");
    expect(formatAlertValue(null)).toBe("—");
    expect(formatAlertValue(NaN)).toBe("NaN");
  });

  it("converts JD to UTC", () => {
    expect(jdToIso(2440587.5)).toBe("1970-01-01T00:00:00");
    expect(jdToIso(2458881.6071181)).toBe("2020-02-02T02:34:15");
  });
});

describe("historyPhotometry", () => {
  const alerts = [
    ztfAlert("11", 2458880.5, 1, 18.5),
    ztfAlert("12", 2458881.5, 2, 18.2),
    ztfAlert("13", 2458882.5, 2, 18.9, { isdiffpos: "f" }),
  ];
  const aux: Doc = {
    _id: "ZTF19abzrhgq",
    prv_candidates: [
      { jd: 2458870.5, fid: 1, diffmaglim: 19.9 }, // non-detection
      { jd: 2458880.5, fid: 1, magpsf: 18.5, sigmapsf: 0.2, diffmaglim: 20.5, isdiffpos: "t" }, // = alert 11
      { jd: 2458875.5, fid: 2, magpsf: 19.0, sigmapsf: 0.1, diffmaglim: 20.1, isdiffpos: "t" },
      { jd: 2458876.5, fid: 2, magpsf: 19.1, sigmapsf: 0.1, isdiffpos: "t" }, // a detection without a limit
      { jd: 2458876.7, fid: 2, magpsf: 19.2, sigmapsf: 0.1, isdiffpos: "f" }, // negative, no limit: nothing to plot
      { jd: 2458876.9, fid: 2, diffmaglim: 0 }, // no usable limit
      { jd: 2458877.5, fid: 9, diffmaglim: 20 }, // not a filter of the survey
    ],
    fp_hists: [
      {
        jd: 2458879.5,
        fid: 1,
        procstatus: "0",
        mag: 18.7,
        magerr: 0.05,
        snr: 20,
        limmag5sig: 20.8,
      },
      { jd: 2458879.6, fid: 1, procstatus: "0", snr: 1.2, mag: 21, limmag5sig: 20.6 },
      { jd: 2458879.7, fid: 1, procstatus: "61", diffmaglim: 20 },
    ],
  };

  it("maps alerts and their history to Photometry rows, once each, by time", () => {
    const rows = historyPhotometry(alerts, aux, "ZTF_alerts");
    expect(rows.map((row) => row.mjd)).toEqual([58870, 58875, 58876, 58880, 58881, 58882]);
    expect(rows[0]).toMatchObject({
      filter: "ztfg",
      mag: null,
      limiting_mag: 19.9,
      origin: "alert history",
    });
    expect(rows[2]).toMatchObject({ filter: "ztfr", mag: 19.1, limiting_mag: null });
    expect(rows[3]).toMatchObject({
      filter: "ztfg",
      mag: 18.5,
      magerr: 0.1,
      origin: "alert",
      instrument_name: "ZTF",
    });
    // A negative subtraction has no magnitude: it plots as its limit.
    expect(rows[5]).toMatchObject({ mag: null, limiting_mag: 20.5 });
  });

  it("adds forced photometry when asked: > 3 sigma a detection, else its 5 sigma limit", () => {
    const rows = historyPhotometry(alerts, aux, "ZTF_alerts", { forced: true });
    const forced = rows.filter((row) => row.origin === "forced photometry");
    expect(forced).toHaveLength(2);
    expect(forced[0]).toMatchObject({ mag: 18.7, magerr: 0.05, limiting_mag: 20.8 });
    expect(forced[1]).toMatchObject({ mag: null, limiting_mag: 20.6 });
  });

  it("gives LightCurve its detections and limits", () => {
    const points = toPoints(historyPhotometry(alerts, aux, "ZTF_alerts"));
    expect(points.filter((p) => p.mag !== undefined)).toHaveLength(4);
    expect(points.filter((p) => p.mag === undefined)).toHaveLength(2);
  });

  it("names WINTER's filters, plots its limitless history and works without an aux document", () => {
    const winter: Doc = {
      objectid: "WNTR24awati",
      candid: 3608694,
      candidate: {
        jd: 2460381.031487338,
        fid: 2,
        magpsf: 13.35,
        sigmapsf: 0.03,
        diffmaglim: 17.69,
        isdiffpos: true,
      },
    };
    const rows = historyPhotometry([winter], null, "WNTR_alerts");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ filter: "2massj", mag: 13.35, instrument_name: "WINTER" });
    const history = {
      prv_candidates: [
        { jd: 2460380.0425021877, fid: 2, magpsf: 17.47, sigmapsf: 0.06, isdiffpos: true },
      ],
    };
    expect(historyPhotometry([winter], history, "WNTR_alerts").map((row) => row.mag)).toEqual([
      17.47, 13.35,
    ]);
  });

  it("reads LSST's diaSource, its bands, its history and its forced photometry in nJy", () => {
    // As the broker archives them: jd, magpsf, sigmapsf and isdiffpos derived from the flux.
    const lsst: Doc = {
      objectId: "171000000000000000",
      candid: 170000000000000002,
      diaSource: { jd: 2461000.5, band: "r", magpsf: 21.2, sigmapsf: 0.05, isdiffpos: "t" },
    };
    const row = alertRow(lsst, "LSST_alerts");
    expect(row).toMatchObject({ objectId: "171000000000000000", filter: "lsstr", magpsf: 21.2 });
    const aux = {
      prvDiaSources: [{ jd: 2460998.5, band: "g", magpsf: 21.9, sigmapsf: 0.1, isdiffpos: "t" }],
      prvDiaForcedSources: [
        { jd: 2460997.5, band: "i", psfFlux: 1000, psfFluxErr: 50 },
        { jd: 2460996.5, band: "z", psfFlux: 100, psfFluxErr: 50 },
      ],
    };
    const rows = historyPhotometry([lsst], aux, "LSST_alerts", { forced: true });
    expect(rows.map((r) => r.filter)).toEqual(["lsstz", "lssti", "lsstg", "lsstr"]);
    expect(rows.every((r) => r.instrument_name === "LSST")).toBe(true);
    // 1000 nJy at 20 sigma: 31.4 - 2.5 log10(1000) = 23.9 AB; 100 nJy at 2 sigma: a limit.
    expect(rows[1].mag).toBeCloseTo(23.9, 6);
    expect(rows[0]).toMatchObject({ mag: null });
    expect(rows[0].limiting_mag).toBeCloseTo(31.4 - 2.5 * Math.log10(250), 6);
    expect(objectAlertsQuery("LSST_alerts", "171").kwargs).toEqual({
      sort: [["diaSource.jd", 1]],
      limit: 1000,
    });
    expect(recentQuery("LSST_alerts").query.projection).toMatchObject({
      "diaSource.band": 1,
      "diaSource.magpsf": 1,
    });
  });
});

describe("positions, cones and cross-matches", () => {
  it("measures separations", () => {
    expect(separationArcsec(10, 20, 10, 20)).toBe(0);
    expect(separationArcsec(10, 0, 10, 1)).toBeCloseTo(3600, 6);
    expect(separationArcsec(359.9999, 0, 0.0001, 0)).toBeCloseTo(0.72, 6);
  });

  it("averages positions across 0h", () => {
    const position = meanPosition([
      { ra: 359.9, dec: 10 },
      { ra: 0.1, dec: 10 },
    ]);
    expect(position?.ra === undefined ? NaN : Math.min(position.ra, 360 - position.ra)).toBeCloseTo(
      0,
      9,
    );
    expect(position?.dec).toBeCloseTo(10, 4);
    expect(meanPosition([])).toBeUndefined();
  });

  it("groups a cone's alerts by object, nearest first", () => {
    const near = (candid: string, jd: number) => ({
      objectId: "ZTFnear",
      candid,
      candidate: { jd, fid: 1, ra: 47.1081, dec: 8.0839 },
    });
    const data = {
      ZTF_alerts: {
        target: [
          near("1", 2460229.9),
          {
            objectId: "ZTFfar",
            candid: "3",
            candidate: { jd: 2460229.8, fid: 2, ra: 47.11, dec: 8.09 },
          },
          near("2", 2460230.1),
        ],
      },
    };
    const objects = coneObjects(data, "ZTF_alerts", { ra: 47.1081, dec: 8.0839 });
    expect(objects.map((o) => o.objectId)).toEqual(["ZTFnear", "ZTFfar"]);
    expect(objects[0].alerts).toBe(2);
    expect(objects[0].latest.candid).toBe("2");
    expect(objects[0].separation).toBeCloseTo(0, 6);
    expect(coneObjects({}, "ZTF_alerts", { ra: 0, dec: 0 })).toEqual([]);
    // Without a centre: newest first.
    expect(groupByObject(data.ZTF_alerts.target, "ZTF_alerts").map((o) => o.objectId)).toEqual([
      "ZTFnear",
      "ZTFfar",
    ]);
    expect(groupByObject(null, "ZTF_alerts")).toEqual([]);
  });

  it("summarises cross-matches per catalog, nearest rows first", () => {
    const object = { ra: 100, dec: 10 };
    const summaries = crossMatchSummaries(
      {
        ZTF_sources_DR5: [
          { _id: "a", objra: 100 + 1.5 / 3600, objdec: 10, nepochs: 20 },
          { _id: "b", objra: 100, objdec: 10 + 0.5 / 3600, nepochs: 3 },
        ],
        CLU: [
          {
            name: "G1",
            coordinates: { distance_arcsec: 12.3, radec_geojson: { coordinates: [-80, 10] } },
          },
        ],
        IGAPS_DR1: [],
      },
      object,
      1,
    );
    expect(summaries.map((s) => [s.catalog, s.count])).toEqual([
      ["CLU", 1],
      ["IGAPS_DR1", 0],
      ["ZTF_sources_DR5", 2],
    ]);
    expect(summaries[0].nearest[0].distance).toBe(12.3);
    expect(summaries[2].nearest).toHaveLength(1);
    expect(summaries[2].nearest[0].row._id).toBe("b");
    expect(summaries[2].nearest[0].distance).toBeCloseTo(0.5, 6);
    expect(crossMatchSummaries(undefined, object)).toEqual([]);
  });

  it("shows a catalog row's plain fields", () => {
    expect(
      rowFields({ _id: "x", name: "J1", RA: 1, coordinates: {}, hmjd: [1, 2], flag: true }),
    ).toEqual([
      ["name", "J1"],
      ["RA", 1],
      ["flag", true],
    ]);
  });
});

describe("alerts search", () => {
  const state = (patch: Partial<ReturnType<typeof readAlertsState>>) => ({
    ...readAlertsState(new URLSearchParams()),
    ...patch,
  });

  it("defaults to ZTF alerts and no search", () => {
    expect(readAlertsState(new URLSearchParams())).toEqual({
      catalog: "ZTF_alerts",
      id: "",
      ra: "",
      dec: "",
      radius: "5",
    });
    expect(alertsSearch(state({})).search).toEqual({ kind: "none" });
  });

  it("tells an object id from a candid", () => {
    expect(alertsSearch(state({ id: " ZTF20aajcdad " })).search).toEqual({
      kind: "object",
      catalog: "ZTF_alerts",
      objectId: "ZTF20aajcdad",
    });
    expect(alertsSearch(state({ id: "1127107111615015007" })).search).toMatchObject({
      kind: "candid",
      candid: "1127107111615015007",
    });
    expect(alertsSearch(state({ id: "ZTF 20" })).errors.id).toMatch(/Not an object id/);
  });

  it("parses a cone, or says what is wrong", () => {
    const cone = alertsSearch(state({ ra: "04:46:37.87", dec: "-10:13:35", radius: "10" })).search;
    expect(cone).toMatchObject({ kind: "cone", radius: 10 });
    const bad = alertsSearch(state({ ra: "04:46:37.87", dec: "-100", radius: "0" }));
    expect(bad.search.kind).toBe("none");
    expect(bad.errors.dec).toMatch(/between -90/);
    expect(bad.errors.radius).toMatch(/more than 0/);
    expect(alertsSearch(state({ id: "ZTF1", ra: "10", dec: "10" })).errors.form).toMatch(
      /not both/,
    );
  });

  it("writes the search to the URL", () => {
    expect(writeAlertsState(state({ id: "ZTF20aajcdad" })).toString()).toBe(
      "catalog=ZTF_alerts&id=ZTF20aajcdad",
    );
    expect(
      writeAlertsState(
        state({ catalog: "WNTR_alerts", ra: "262.575", dec: "7.264", radius: "3" }),
      ).toString(),
    ).toBe("catalog=WNTR_alerts&ra=262.575&dec=7.264&radius=3");
  });
});
