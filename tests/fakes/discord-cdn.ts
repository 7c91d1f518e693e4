import type { ServerResponse } from "node:http";
import { snowflake } from "./discord-world.js";

/** An attachment object as a message carries it. */
export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

/** The fake Discord's CDN: files attached to messages, served under `/attachments/`. */
export class FakeCdn {
  private readonly files = new Map<string, { body: Buffer; contentType: string; delayMs: number }>();

  constructor(private readonly port: () => number) {}

  /** Hosts a file (answering after `delayMs`) and returns the attachment object for a message. */
  host(filename: string, content: string | Buffer, contentType?: string, delayMs = 0): FakeAttachment {
    const id = snowflake();
    const body = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    this.files.set(`${id}/${filename}`, {
      body,
      contentType: contentType ?? "application/octet-stream",
      delayMs,
    });
    const url = `http://127.0.0.1:${this.port()}/attachments/${id}/${filename}`;
    return {
      id,
      filename,
      size: body.length,
      url,
      proxy_url: url,
      ...(contentType && { content_type: contentType }),
    };
  }

  async serve(pathname: string, res: ServerResponse): Promise<void> {
    const file = this.files.get(decodeURIComponent(pathname.slice("/attachments/".length)));
    if (file?.delayMs) await new Promise((resolve) => setTimeout(resolve, file.delayMs));
    if (!file) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": file.contentType }).end(file.body);
  }
}
