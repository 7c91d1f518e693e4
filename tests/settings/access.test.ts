import { describe, expect, it } from "vitest";
import type { AccessConfig } from "../../src/config/index.js";
import { Access } from "../../src/settings/index.js";

const none: AccessConfig = {
  allowUsers: [],
  blockUsers: [],
  allowChannels: [],
  blockChannels: [],
  allowRoles: [],
  dms: true,
};
const channel = { platform: "discord", workspace: "G1", channel: "C1" };
const dm = { platform: "discord", workspace: "dm", channel: "D1", isDm: true };
const alice = { id: "U1", name: "Alice" };

describe("who may use the bot", () => {
  it("everyone, everywhere, without lists", () => {
    expect(new Access(none, []).check(channel, alice)).toBeUndefined();
    expect(new Access(none, []).check(dm, alice)).toBeUndefined();
  });

  it("allow lists let in only who and where they name; a role counts as being listed", () => {
    const access = new Access({ ...none, allowUsers: ["U2"], allowRoles: ["R1"], allowChannels: ["C1"] }, []);
    expect(access.check(channel, alice)?.reason).toBe("not_allowed_user");
    expect(access.check(channel, { ...alice, roles: ["R1"] })).toBeUndefined();
    expect(access.check(channel, { id: "U2", name: "Bob" })).toBeUndefined();
    expect(access.check({ ...channel, channel: "C2" }, { id: "U2", name: "Bob" })?.reason).toBe(
      "not_allowed_channel",
    );
  });

  it("block lists win over allow lists; operator admins are always let in", () => {
    const access = new Access(
      { ...none, allowUsers: ["U1"], blockUsers: ["U1"], blockChannels: ["C1"], dms: false },
      ["U9"],
    );
    expect(access.check(channel, alice)?.reason).toBe("blocked_user");
    expect(access.check(channel, { id: "U3", name: "Cy" })?.reason).toBe("not_allowed_user");
    expect(new Access({ ...none, blockChannels: ["C1"] }, []).check(channel, alice)?.reason).toBe(
      "blocked_channel",
    );
    expect(new Access({ ...none, dms: false }, []).check(dm, alice)?.message).toMatch(
      /does not answer direct messages/,
    );
    expect(access.check(channel, { id: "U9", name: "Op" })).toBeUndefined();
    expect(access.mayConfigure({ id: "U9", name: "Op" })).toBe(true);
    expect(access.mayConfigure({ id: "U3", name: "Cy", isPlatformAdmin: true })).toBe(true);
    expect(access.mayConfigure(alice)).toBe(false);
  });

  it("a refused person is told once a day, not on every message", () => {
    let now = 0;
    const access = new Access({ ...none, blockUsers: ["U1"] }, [], () => now);
    const refusal = access.check(channel, alice)!;
    expect(access.shouldTell(alice, refusal)).toBe(true);
    expect(access.shouldTell(alice, refusal)).toBe(false);
    now += 23 * 3600 * 1000;
    expect(access.shouldTell(alice, refusal)).toBe(false);
    now += 2 * 3600 * 1000;
    expect(access.shouldTell(alice, refusal)).toBe(true);
  });
});
