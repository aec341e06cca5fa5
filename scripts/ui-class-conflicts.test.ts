import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The utility classes that the components of src/renderer/components/ui.tsx set themselves, by prefix: a caller's
 * `className` holding another class for the same property does not override it. Tailwind settles two classes for
 * one property by the stylesheet's order, not by the order written (a "small" spinner with size-3 beside its own
 * size-4 rendered at size 4), so size and colour go through props (`size`, `variant`, `small`, `inverted`), and
 * `className` only places.
 */
const OWN_CLASSES: Record<string, RegExp> = {
  Button: /^(?:dark:|hover:)*(?:h-|px-|py-|text-|bg-|border|rounded|shadow|font-)/,
  Spinner: /^(?:dark:)*(?:size-|border)/,
  Card: /^(?:dark:)*(?:rounded|border|bg-|shadow)/,
  ProgressBar: /^(?:dark:)*(?:h-|w-|rounded|bg-|overflow)/,
  Muted: /^(?:dark:)*text-(?:zinc|red|gray|slate|white|black|indigo)/,
};

/** What a form field's classes (`inputClass`, `inputClasses(...)`) set: size, box and colours. */
const FIELD_CLASSES =
  /^(?:dark:)*(?:h-|w-|px-|rounded|border|bg-|shadow|resize-|text-(?:\[|xs$|sm$|base$|lg$|[a-z]+-\d))/;

const RENDERER = path.resolve(import.meta.dirname, '../src/renderer');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.tsx') ? [full] : [];
  });
}

/** The string literals of a className value: "a b", {'a b'}, {cx('a', cond && 'b')}, {`a ${b}`}'s fixed parts. */
function literalClasses(node: ts.Node): string[] {
  if (
    ts.isStringLiteral(node) ||
    ts.isNoSubstitutionTemplateLiteral(node) ||
    ts.isTemplateHead(node) ||
    ts.isTemplateMiddle(node) ||
    ts.isTemplateTail(node)
  ) {
    return node.text.split(/\s+/);
  }
  if (ts.isTemplateExpression(node)) {
    return [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].flatMap((t) => t.split(/\s+/));
  }
  const found: string[] = [];
  node.forEachChild((child) => found.push(...literalClasses(child)));
  return found;
}

describe("ui.tsx's components and their callers' classes", () => {
  it('no caller gives a component or a form field a class for a property it sets itself', () => {
    const conflicts: string[] = [];
    for (const file of sourceFiles(RENDERER)) {
      const source = ts.createSourceFile(
        file,
        readFileSync(file, 'utf8'),
        ts.ScriptTarget.Latest,
        true,
        ts.ScriptKind.TSX,
      );
      const at = (node: ts.Node) =>
        `${path.relative(RENDERER, file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
      const isField = (node: ts.Node) =>
        (ts.isIdentifier(node) && node.text === 'inputClass') ||
        (ts.isCallExpression(node) && node.expression.getText(source) === 'inputClasses');
      const visit = (node: ts.Node): void => {
        // A field's classes with more after them: cx(inputClass, '…') or `${inputClass} …`.
        const parts: ts.Node[] =
          ts.isCallExpression(node) && node.expression.getText(source) === 'cx' ? [...node.arguments] : [];
        if (ts.isTemplateExpression(node))
          parts.push(node.head, ...node.templateSpans.flatMap((s) => [s.expression, s.literal]));
        if (parts.some(isField)) {
          const bad = parts
            .filter((part) => !isField(part))
            .flatMap(literalClasses)
            .filter((c) => FIELD_CLASSES.test(c));
          if (bad.length) conflicts.push(`${at(node)} ${bad.join(' ')} (pass inputClasses options)`);
        }
        if (ts.isJsxOpeningElement(node) || ts.isJsxSelfClosingElement(node)) {
          const own = OWN_CLASSES[node.tagName.getText(source)];
          for (const attribute of node.attributes.properties) {
            if (!own || !ts.isJsxAttribute(attribute) || attribute.name.getText(source) !== 'className') continue;
            const value = attribute.initializer;
            if (!value) continue;
            const bad = literalClasses(value).filter((c) => own.test(c));
            if (bad.length) conflicts.push(`${at(node)} ${bad.join(' ')}`);
          }
        }
        node.forEachChild(visit);
      };
      visit(source);
    }
    expect(conflicts).toEqual([]);
  });
});
