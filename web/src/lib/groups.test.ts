import { describe, expect, it } from "vitest";
import { administers, resolveUser, sharedGroups, standing } from "./groups";

const directory = [
  { id: 1, username: "admin", admin: false },
  { id: 3, username: "Vera", admin: false },
];

describe("administers", () => {
  it("is the membership admin flag, or System admin", () => {
    const members = [
      { id: 3, username: "Vera", admin: true },
      { id: 4, username: "x", admin: false },
    ];
    expect(administers({ id: 3, acls: [] }, members)).toBe(true);
    expect(administers({ id: 4, acls: ["Upload data"] }, members)).toBe(false);
    expect(administers({ id: 9, acls: ["System admin"] }, [])).toBe(true);
    expect(administers({ id: 3, acls: [] }, undefined)).toBe(false);
  });
});

describe("resolveUser", () => {
  it("finds a username, case-insensitively when not exact", () => {
    expect(resolveUser(" Vera ", directory)).toEqual({ id: 3, username: "Vera" });
    expect(resolveUser("vera", directory)).toEqual({ id: 3, username: "Vera" });
  });

  it("takes a user id, known or not", () => {
    expect(resolveUser("1", directory)).toEqual({ id: 1, username: "admin" });
    expect(resolveUser("42", directory)).toEqual({ id: 42, username: undefined });
  });

  it("says what is wrong", () => {
    expect(resolveUser("", directory)).toEqual({ error: "Give a username or a user id." });
    expect(resolveUser("nobody", directory)).toEqual({ error: 'No user named "nobody".' });
  });
});

describe("standing", () => {
  const requests = [
    { id: 1, group_id: 5, status: "declined", created_at: "2026-01-01T00:00:00" },
    { id: 2, group_id: 5, status: "pending", created_at: "2026-01-02T00:00:00" },
    { id: 3, group_id: 6, status: "declined", created_at: "2026-01-02T00:00:00" },
  ];
  it("reads membership first, then the latest request", () => {
    expect(standing(4, new Set([4]), requests)).toBe("member");
    expect(standing(5, new Set([4]), requests)).toBe("pending");
    expect(standing(6, new Set([4]), requests)).toBe("declined");
    expect(standing(7, new Set([4]), requests)).toBe("none");
  });
});

it("sharedGroups leaves out single-user groups", () => {
  expect(
    sharedGroups([
      { id: 1, single_user_group: false },
      { id: 2, single_user_group: true },
    ]),
  ).toEqual([{ id: 1, single_user_group: false }]);
});
