import { describe, expect, it } from 'vitest';
import { Listeners, countRefusal } from '../../src/node/listeners.ts';

describe('Listeners', () => {
  it('notifies each subscriber until it unsubscribes', () => {
    const ls = new Listeners();
    const calls: string[] = [];
    const offA = ls.subscribe(() => calls.push('a'));
    ls.subscribe(() => calls.push('b'));
    ls.notify();
    offA();
    ls.notify();
    expect(calls).toEqual(['a', 'b', 'b']);
  });
});

describe('countRefusal', () => {
  it('counts by reason in the given record', () => {
    const refused: Record<string, number> = {};
    countRefusal(refused, 'x');
    countRefusal(refused, 'x');
    countRefusal(refused, 'y');
    expect(refused).toEqual({ x: 2, y: 1 });
  });
});
