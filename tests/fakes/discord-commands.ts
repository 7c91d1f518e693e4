import type { RestAnswer, Wire } from "./discord-interactions.js";
import { snowflake } from "./discord-world.js";

/** The application commands of the fake Discord: GET and PUT, globally or in one guild. */
export class FakeCommands {
  /** Registered application commands: "global" or a guild id -> the list. */
  readonly lists = new Map<string, Wire[]>();

  constructor(private readonly applicationId: string) {}

  set(scope: string, list: Wire[]): void {
    this.lists.set(
      scope,
      list.map((c) => this.payload(c, scope)),
    );
  }

  get(applicationId: string, guildId: string | undefined): RestAnswer {
    if (applicationId !== this.applicationId) return [404, { message: "Unknown Application", code: 10002 }];
    return [200, this.lists.get(guildId ?? "global") ?? []];
  }

  put(applicationId: string, guildId: string | undefined, body: Wire): RestAnswer {
    if (applicationId !== this.applicationId) return [404, { message: "Unknown Application", code: 10002 }];
    this.set(guildId ?? "global", body ?? []);
    return [200, this.lists.get(guildId ?? "global")];
  }

  /** A command as Discord stores it: ids, version and defaults filled in. */
  private payload(c: Wire, scope: string): Record<string, unknown> {
    return {
      id: c.id ?? snowflake(),
      application_id: this.applicationId,
      version: snowflake(),
      type: c.type ?? 1,
      name: c.name,
      description: c.description ?? "",
      default_member_permissions: c.default_member_permissions ?? null,
      nsfw: c.nsfw ?? false,
      ...(scope === "global"
        ? { dm_permission: true, contexts: c.contexts ?? null, integration_types: c.integration_types ?? [0] }
        : { guild_id: scope }),
      ...(c.options?.length && { options: c.options }),
    };
  }
}
