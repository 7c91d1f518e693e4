import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { FeedbackVote } from "../../src/feedback/index.js";
import { requireApiKey } from "./http.js";

export interface FeedbackRouteOptions {
  /** WEB_API_KEY: like every API route, the export needs it when it is set. */
  apiKey: string | undefined;
  /** Every vote kept (FeedbackStore.votes). */
  votes: () => AsyncIterable<FeedbackVote>;
}

/**
 * GET /feedback: every 👍/👎 vote on the bot's answers as JSON lines (one
 * vote per person per answer message, its latest value), oldest first:
 * `{"platform","conversation_id","message_id","user_id","value","at"}`.
 */
export function registerFeedbackRoute(app: FastifyInstance, options: FeedbackRouteOptions): void {
  void app.register(async (scope) => {
    scope.addHook("onRequest", requireApiKey(options.apiKey));
    scope.get("/feedback", async (_request, reply) => {
      const lines = async function* () {
        for await (const v of options.votes()) {
          yield `${JSON.stringify({
            platform: v.platform,
            conversation_id: v.conversationId,
            message_id: v.messageId,
            user_id: v.userId,
            value: v.value,
            at: new Date(v.at).toISOString(),
          })}\n`;
        }
      };
      return reply.type("application/x-ndjson; charset=utf-8").send(Readable.from(lines()));
    });
  });
}
