/**
 * A first-in-first-out queue read from a moving head: `shift()` is O(1). `Array.prototype.shift`
 * moves the rest of the array on every call once it is long — V8 trims the front in place only for
 * small arrays outside its large-object space — and an endpoint's waiting line reaches tens of
 * thousands of deliveries in a burst (src/delivery/endpoint-slots.ts). Read items are dropped when
 * the head has passed half the array, so memory stays within twice what is queued.
 *
 * @example const q = new Fifo<number>(); q.push(1); q.shift() // 1
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The first item, taken off; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let it be collected
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Every item, first to last. */
  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }
}
