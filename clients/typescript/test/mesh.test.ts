// These tests call a running mesh through its gateway over gRPC-web.
// tests/integration/test_clients.py runs them in `make test` against the shared test mesh,
// with SKYMESH_* describing a scene it made: a group whose filter passed a few alerts
// (candidates), and a bundled alert to look for.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";

import { ApiError, Skymesh } from "../src/index.js";

const env = process.env;
const gateway = env.SKYMESH_GATEWAY;
const skip = gateway
  ? false
  : "SKYMESH_GATEWAY is not set: tests/integration/test_clients.py runs these against the mesh";
const scene = {
  gateway: `http://${gateway}`,
  username: env.SKYMESH_USERNAME ?? "",
  password: env.SKYMESH_PASSWORD ?? "",
  groupId: Number(env.SKYMESH_GROUP_ID),
  filterId: Number(env.SKYMESH_FILTER_ID),
  candid: BigInt(env.SKYMESH_CANDID ?? "0"),
  objectId: env.SKYMESH_OBJECT_ID ?? "",
  ra: Number(env.SKYMESH_RA),
  dec: Number(env.SKYMESH_DEC),
  candidates: (env.SKYMESH_CANDIDATES ?? "").split(","),
};

async function loggedIn(): Promise<Skymesh> {
  const client = new Skymesh(scene.gateway);
  await client.login(scene.username, scene.password);
  return client;
}

function code(error: unknown): Code | undefined {
  return error instanceof ConnectError ? error.code : undefined;
}

describe("the mesh over gRPC-web", { skip }, () => {
  test("a wrong password is refused", async () => {
    const client = new Skymesh(scene.gateway);
    await assert.rejects(client.login(scene.username, `${scene.password}-wrong`), (error) => {
      assert.equal(code(error), Code.Unauthenticated);
      return true;
    });
    assert.equal(client.token, "");
  });

  test("a call without a token is refused", async () => {
    const client = new Skymesh(scene.gateway);
    await assert.rejects(client.count("ZTF_alerts"), (error) => {
      assert.equal(code(error), Code.Unauthenticated);
      return true;
    });
  });

  test("find keeps candids exact", async () => {
    const client = await loggedIn();
    const documents = await client.find(
      "ZTF_alerts",
      { candid: scene.candid },
      { _id: 0, candid: 1, objectId: 1 },
    );
    assert.equal(documents.length, 1);
    assert.equal(documents[0].candid, scene.candid);
    assert.equal(documents[0].objectId, scene.objectId);
  });

  test("an invalid query is refused with its reason", async () => {
    const client = await loggedIn();
    await assert.rejects(client.find("ZTF_alerts", { $where: "1" }, undefined, 1), (error) => {
      assert.ok(error instanceof ApiError || code(error) === Code.InvalidArgument, String(error));
      return true;
    });
  });

  test("a cone search finds the alert at its position", async () => {
    const client = await loggedIn();
    const answer = await client.coneSearch(
      [
        { name: "here", ra: scene.ra, dec: scene.dec },
        { name: "empty", ra: scene.ra, dec: -scene.dec },
      ],
      1,
      ["ZTF_alerts"],
      {},
      { objectId: 1 },
    );
    const objects = answer.ZTF_alerts.here.map((d) => d.objectId);
    assert.ok(objects.includes(scene.objectId), `no ${scene.objectId} in ${objects}`);
    assert.deepEqual(answer.ZTF_alerts.empty, []);
  });

  test("create and test a filter", async () => {
    const client = await loggedIn();
    const version = {
      groupId: scene.groupId,
      filterId: scene.filterId,
      catalog: "ZTF_alerts",
      permissions: [1, 2, 3],
    };
    const fid = await client.createFilter({
      ...version,
      pipeline: [{ $match: { objectId: scene.objectId } }, { $project: { objectId: 1, candid: 1 } }],
    });
    assert.ok(fid);
    const test = await client.testFilter(scene.filterId, [scene.objectId]);
    const want = await client.count("ZTF_alerts", { objectId: scene.objectId });
    assert.equal(test.passed.length, want);
    assert.ok(test.passed.every((alert) => alert.objectId === scene.objectId));
    await assert.rejects(client.createFilter({ ...version, pipeline: [{ $out: "stolen" }] }));
  });

  test("list the group's candidates", async () => {
    const client = await loggedIn();
    const page = await client.listCandidates([scene.groupId], 1, 100);
    assert.equal(page.totalMatches, scene.candidates.length);
    const ids = page.candidates.map((c) => String(c.id)).sort();
    assert.deepEqual(ids, [...scene.candidates].sort());
  });
});
