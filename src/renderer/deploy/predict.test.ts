import { describe, expect, it } from 'vitest';
import { columnsOf, parseRows, predictionCells, tensorSummary, tensorTemplate } from './predict';

describe('parseRows', () => {
  it('reads CSV with a header, numbers as numbers and empty cells as null', () => {
    expect(parseRows('sepal_length,species,flag\n5.1,"setosa, maybe",true\n4.9,,false\n')).toEqual({
      rows: [
        { sepal_length: 5.1, species: 'setosa, maybe', flag: true },
        { sepal_length: 4.9, species: null, flag: false },
      ],
    });
    expect(parseRows('a;b\n1;2')).toEqual({ rows: [{ a: 1, b: 2 }] });
    expect(parseRows('a\tb\n1\tx')).toEqual({ rows: [{ a: 1, b: 'x' }] });
  });

  it('reads JSON rows, one object too', () => {
    expect(parseRows('[{"a": 1}, {"a": 2}]')).toEqual({ rows: [{ a: 1 }, { a: 2 }] });
    expect(parseRows('{"a": 1}')).toEqual({ rows: [{ a: 1 }] });
  });

  it('says what is wrong', () => {
    expect(parseRows('')).toHaveProperty('error');
    expect(parseRows('a,b\n1')).toEqual({ error: 'Row 1 has 1 cells; the header names 2 columns.' });
    expect(parseRows('[1, 2]')).toEqual({ error: 'Each row must be an object of column values.' });
    expect(parseRows('[{"a": ')).toHaveProperty('error');
  });

  it('lists the columns in the order they appear', () => {
    expect(
      columnsOf([
        { a: 1, b: 2 },
        { c: 3, a: 4 },
      ]),
    ).toEqual(['a', 'b', 'c']);
  });
});

describe('tensorTemplate', () => {
  it('fills each input with zeros, a variable dimension taken as 1', () => {
    const body = JSON.parse(tensorTemplate([{ name: 'x', datatype: 'FP32', shape: [-1, 4] }])) as unknown;
    expect(body).toEqual({ inputs: { x: { shape: [1, 4], data: [0, 0, 0, 0] } } });
  });
});

describe('answers', () => {
  it('shows a classifier label with its probability, a regressor its value', () => {
    expect(predictionCells({ label: 'setosa', probabilities: { setosa: 0.9, versicolor: 0.1 } })).toEqual({
      prediction: 'setosa',
      confidence: 0.9,
    });
    expect(predictionCells({ value: 3.14159265 })).toEqual({ prediction: '3.14159', confidence: null });
  });

  it('sums up a tensor: its first values and its largest', () => {
    expect(tensorSummary([0.5, 2, 1], 2)).toEqual({ head: '0.5, 2, …', argmax: 1 });
  });
});
