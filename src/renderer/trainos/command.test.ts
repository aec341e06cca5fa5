import { describe, expect, test } from 'vitest';
import { AppError } from '#shared/errors';
import { fieldErrorsOf, parseEnvLines, quoteArgument, splitCommand } from './command';

describe('splitCommand', () => {
  test('splits a simple command at blanks, however many', () => {
    expect(splitCommand('  python3   train.py\t--lr 0.01 ')).toEqual({
      argv: ['python3', 'train.py', '--lr', '0.01'],
    });
  });

  test('keeps a quoted string with spaces as one argument', () => {
    expect(splitCommand(`node -e "console.log('step ' + 1)" 'two words'`)).toEqual({
      argv: ['node', '-e', "console.log('step ' + 1)", 'two words'],
    });
  });

  test('joins quoted and unquoted parts of one word, and keeps an empty quoted argument', () => {
    expect(splitCommand(`--name="a b"c '' ""`)).toEqual({ argv: ['--name=a bc', '', ''] });
  });

  test('reads backslash escapes like a shell: any character outside quotes, only \\ " $ ` inside double quotes', () => {
    expect(splitCommand(String.raw`a\ b "x\"y\\z\n" 'c\d'`)).toEqual({ argv: ['a b', 'x"y\\z\\n', 'c\\d'] });
  });

  test('expands nothing: variables, globs and pipes are plain text', () => {
    expect(splitCommand('echo $HOME *.py | wc')).toEqual({ argv: ['echo', '$HOME', '*.py', '|', 'wc'] });
  });

  test('joins lines continued with a backslash, and splits at other line breaks', () => {
    expect(splitCommand('python3 train.py \\\n  --epochs 3\n--seed 1')).toEqual({
      argv: ['python3', 'train.py', '--epochs', '3', '--seed', '1'],
    });
  });

  test('says what is wrong with an unclosed quote, a trailing backslash or nothing at all', () => {
    expect(splitCommand(`echo 'oops`)).toEqual({ error: "a single quote (') is not closed" });
    expect(splitCommand('echo "oops')).toEqual({ error: 'a double quote (") is not closed' });
    expect(splitCommand('echo \\')).toEqual({ error: 'the command ends with a backslash' });
    expect(splitCommand('   ')).toEqual({ error: 'the command is empty' });
  });

  test('splits what quoteArgument writes back into the same argv', () => {
    const argv = ['/usr/bin/node', '-e', "console.log('it''s')", 'a b', '', '--lr=0.01'];
    expect(splitCommand(argv.map(quoteArgument).join(' '))).toEqual({ argv });
  });
});

describe('parseEnvLines', () => {
  test('reads KEY=VALUE lines, skipping blank lines and comments; the value keeps its = and spaces', () => {
    expect(parseEnvLines('A=1\n\n# a comment\nB = x=y \r\nEMPTY=')).toEqual({
      env: { A: '1', B: ' x=y ', EMPTY: '' },
    });
  });

  test('names the line of a missing =, a bad name or a name set twice', () => {
    expect(parseEnvLines('A=1\nB')).toEqual({ error: "line 2: 'B' has no '=' (write KEY=VALUE)" });
    expect(parseEnvLines('1A=x')).toEqual({ error: "line 1: '1A' is not an environment variable name" });
    expect(parseEnvLines('A=1\nA=2')).toEqual({ error: 'line 2: A is set twice' });
  });
});

describe('fieldErrorsOf', () => {
  test("puts the service's own check on its field, without repeating the field's name", () => {
    const error = AppError.invalid('workingDir', "must be an absolute path (got 'data')");
    expect(fieldErrorsOf(error)).toEqual([{ field: 'workingDir', message: "must be an absolute path (got 'data')" }]);
  });

  test("puts the request schema's issues on their fields, resources and argv items included", () => {
    const error = new AppError('INVALID_ARGUMENT', 'body.resources.gpus: too big', {
      issues: [
        { field: 'body.resources.gpus', message: 'too big' },
        { field: 'body.command.1', message: 'too small' },
        { field: 'body.env.1A', message: 'must be an environment variable name' },
        { field: 'body', message: 'odd' },
      ],
    });
    expect(fieldErrorsOf(error)).toEqual([
      { field: 'gpus', message: 'too big' },
      { field: 'command', message: 'too small' },
      { field: 'env', message: 'must be an environment variable name' },
      { field: null, message: 'odd' },
    ]);
  });

  test('names no field for other errors', () => {
    expect(fieldErrorsOf(new AppError('INVALID_ARGUMENT', 'something'))).toEqual([
      { field: null, message: 'something' },
    ]);
    expect(fieldErrorsOf(new AppError('INTERNAL', 'boom'))).toEqual([]);
  });
});
