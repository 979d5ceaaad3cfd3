// Logs in to a skymesh gateway over gRPC-web and shows the archive and the portal: how many
// alerts there are, the newest few, what lies around the newest, and the caller's candidates.
//
//   SKYMESH_GATEWAY=http://127.0.0.1:8080 SKYMESH_ADMIN_PASSWORD=... npm run example

import { type Document, Skymesh } from "../src/index.js";

const gateway = process.env.SKYMESH_GATEWAY ?? "http://127.0.0.1:8080";
const user = process.env.SKYMESH_USER ?? "admin";
const password = process.env.SKYMESH_ADMIN_PASSWORD ?? "";
const catalog = process.env.SKYMESH_CATALOG ?? "ZTF_alerts";

const client = new Skymesh(gateway);
await client.login(user, password);
console.log(`${catalog}: ${await client.count(catalog)} alerts`);

const newest = await client.query<Document[]>(
  "find",
  {
    catalog,
    filter: {},
    projection: { _id: 0, candid: 1, objectId: 1, "candidate.ra": 1, "candidate.dec": 1, "candidate.jd": 1 },
  },
  { sort: [["candidate.jd", -1]], limit: 3 },
);
for (const alert of newest) {
  const candidate = alert.candidate as { jd: number };
  console.log(`  ${alert.objectId} ${alert.candid} jd ${candidate.jd}`);
}
if (newest.length > 0) {
  const { ra, dec } = newest[0].candidate as { ra: number; dec: number };
  const around = await client.coneSearch([{ name: "newest", ra, dec }], 10, [catalog], {}, { objectId: 1 });
  console.log(`within 10" of (${ra.toFixed(5)}, ${dec.toFixed(5)}): ${around[catalog].newest.length} alerts`);
}
const page = await client.listCandidates([], 1, 10);
console.log(`candidates: ${page.totalMatches} in all; first page: ${page.candidates.map((c) => c.id).join(" ")}`);
