import type { DeadLetter } from "./queue.ts";

/** A bounded ring of dead letters for the drivers without a store of their own. */
export class DeadLetterRing {
  private readonly items: DeadLetter[] = [];

  constructor(private readonly limit: number) {}

  add(letter: DeadLetter): void {
    if (this.limit <= 0) return;
    this.items.push(letter);
    if (this.items.length > this.limit) this.items.shift();
  }

  recent(limit: number): DeadLetter[] {
    return this.items.slice(-limit).reverse();
  }
}
