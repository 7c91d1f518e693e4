/**
 * The renders of one key (a conversation) in the order they began: each may
 * read its model at once, but sends nothing before the ones before it ended,
 * so a finishing answer's final edit goes before the next answer's first post.
 */
export class RenderOrder {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * A place in `key`'s line: `after` settles when every earlier render of the
   * key ended (RenderOptions.after), `done` ends this one. Call `done` always.
   */
  enter(key: string): { after: Promise<void> | undefined; done: () => void } {
    const after = this.tails.get(key);
    let end!: () => void;
    const mine = new Promise<void>((resolve) => {
      end = resolve;
    });
    const tail = after ? after.then(() => mine) : mine;
    this.tails.set(key, tail);
    const done = () => {
      end();
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    };
    return { after, done };
  }
}
