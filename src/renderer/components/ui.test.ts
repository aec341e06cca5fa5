import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Spinner } from './ui';

/** The classes of the element a component renders. */
const classesOf = (markup: string) => (/class="([^"]*)"/.exec(markup)?.[1] ?? '').split(' ');

describe('Spinner', () => {
  // Two Tailwind classes for one property are settled by the stylesheet's order, not by the order written: a
  // small spinner with size-4 beside size-3 rendered at size 4.
  it('has one size and one set of ring colours, whichever variant', () => {
    for (const props of [{}, { small: true }, { inverted: true }, { small: true, inverted: true, className: 'ml-2' }]) {
      const classes = classesOf(renderToStaticMarkup(createElement(Spinner, props)));
      expect(
        classes.filter((c) => c.startsWith('size-')),
        JSON.stringify(props),
      ).toEqual(['small' in props ? 'size-3' : 'size-4']);
      const ring = classes.filter((c) => /^border-(zinc|white)/.test(c));
      expect(ring, JSON.stringify(props)).toEqual('inverted' in props ? ['border-white/40'] : ['border-zinc-300']);
    }
  });
});
