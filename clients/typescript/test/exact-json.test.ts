import assert from "node:assert/strict";
import { test } from "node:test";

import { parseExact, stringifyExact } from "../src/exact-json.js";

test("integers above 2^53 keep every digit", () => {
  const text = '{"candid": 1127107111615015007, "jd": 2460230.6151157, "n": [3, -9007199254740993]}';
  const value = parseExact(text) as { candid: bigint; jd: number; n: [number, bigint] };
  assert.equal(value.candid, 1127107111615015007n);
  assert.equal(value.jd, 2460230.6151157);
  assert.deepEqual(value.n, [3, -9007199254740993n]);
  assert.equal(stringifyExact(value), '{"candid":1127107111615015007,"jd":2460230.6151157,"n":[3,-9007199254740993]}');
});

test("numbers inside strings are left alone", () => {
  const text = '{"s": "1127107111615015007, \\"99999999999999999\\"", "x": 1}';
  assert.deepEqual(parseExact(text), { s: '1127107111615015007, "99999999999999999"', x: 1 });
});
