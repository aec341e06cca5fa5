import { describe, expect, it } from 'vitest';
import { baseUrlOf, curlSnippet, javascriptSnippet, pythonSnippet, shellQuote, snippets } from './snippets';

const chat = { origin: 'http://127.0.0.1:8000/', model: 'tiny', kind: 'chat' as const };
const embedding = { origin: 'http://127.0.0.1:8000', model: 'bert.v2', kind: 'embedding' as const };

describe('snippets', () => {
  it('point every client at <origin>/v1 with the deployment as the model', () => {
    expect(baseUrlOf('http://127.0.0.1:8000/')).toBe('http://127.0.0.1:8000/v1');
    for (const s of snippets(chat)) {
      expect(s.code).toContain('http://127.0.0.1:8000/v1');
      expect(s.code).toContain('tiny');
      // The key is read from the environment, never pasted into the code.
      expect(s.code).toContain('AIDOS_API_KEY');
    }
    expect(snippets(chat).map((s) => s.language)).toEqual(['curl', 'python', 'javascript']);
  });

  it('curl streams a chat completion with a body that is valid JSON once the shell unquotes it', () => {
    const code = curlSnippet(chat);
    expect(code).toContain('curl http://127.0.0.1:8000/v1/chat/completions \\');
    expect(code).toContain('-H "Authorization: Bearer $AIDOS_API_KEY"');
    expect(code).toContain('-N');
    const quoted = /-d '([\s\S]*)'$/.exec(code)?.[1] ?? '';
    expect(JSON.parse(quoted.replace(/'\\''/g, "'"))).toEqual({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hello! Who are you?' }],
      stream: true,
    });
  });

  it('the embedding snippets call the embeddings endpoint', () => {
    expect(curlSnippet(embedding)).toContain('/v1/embeddings');
    expect(curlSnippet(embedding)).not.toContain('-N');
    expect(pythonSnippet(embedding)).toContain('client.embeddings.create(model="bert.v2"');
    expect(javascriptSnippet(embedding)).toContain('client.embeddings.create({ model: "bert.v2"');
  });

  it('Python uses the openai package with a streamed loop', () => {
    const code = pythonSnippet(chat);
    expect(code).toContain('from openai import OpenAI');
    expect(code).toContain('client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=os.environ["AIDOS_API_KEY"])');
    expect(code).toContain('stream=True');
  });

  it('JavaScript uses the openai npm package with for await', () => {
    const code = javascriptSnippet(chat);
    expect(code.startsWith('import OpenAI from "openai";')).toBe(true);
    expect(code).toContain('apiKey: process.env.AIDOS_API_KEY');
    expect(code).toContain('for await (const chunk of stream)');
  });
});

describe('shellQuote', () => {
  it('leaves plain words and quotes the rest, single quotes included', () => {
    expect(shellQuote('http://h:1/v1/x')).toBe('http://h:1/v1/x');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('ONNX snippets', () => {
  it("call v2 infer with a request shaped like the model's first input", () => {
    const target = {
      origin: 'http://127.0.0.1:8000',
      model: 'digits',
      kind: 'tensor' as const,
      input: { name: 'x', datatype: 'FP32', shape: [-1, 4] },
    };
    const curl = curlSnippet(target);
    expect(curl).toContain('curl http://127.0.0.1:8000/v2/models/digits/infer \\');
    const body = /-d '(.*)'$/.exec(curl)?.[1] ?? '';
    expect(JSON.parse(body)).toEqual({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
    expect(pythonSnippet(target)).toContain('import requests');
    expect(javascriptSnippet(target)).toContain('await fetch("http://127.0.0.1:8000/v2/models/digits/infer"');
    expect(snippets(target).map((s) => s.label)).toEqual(['curl', 'Python (requests)', 'JavaScript (fetch)']);
  });

  it('send as many values as the shape holds, written as code beyond a few', () => {
    const image = { origin: 'http://h', model: 'cnn', kind: 'tensor' as const };
    const small = { ...image, input: { name: 'x', datatype: 'FP32', shape: [-1, 1, 8, 8] } };
    expect(pythonSnippet(small)).toContain('"data":[0] * 64}');
    expect(javascriptSnippet(small)).toContain('"data":new Array(64).fill(0)}');
    expect(JSON.parse(/-d '(.*)'$/.exec(curlSnippet(small))?.[1] ?? '').inputs[0].data).toHaveLength(64);
    // 150,528 zeros are not written out: python3 writes curl's body.
    const large = { ...image, input: { name: 'x', datatype: 'FP32', shape: [1, 3, 224, 224] } };
    expect(curlSnippet(large)).toMatch(
      /^python3 -c 'import json; print\(json\.dumps\(.*"data":\[0\] \* 150528}\]}\)\)' \|\ncurl /,
    );
    expect(curlSnippet(large)).toMatch(/ {2}-d @-$/);
  });

  it("send JSON rows to predict for a tabular model, with the model's columns once known", () => {
    const code = pythonSnippet({ origin: 'http://h', model: 'iris', kind: 'tabular' });
    expect(code).toContain('"http://h/api/v1/deployments/iris/predict"');
    expect(code).toContain('json={"rows":');
    expect(code).toContain('["predictions"]');
    const known = curlSnippet({
      origin: 'http://h',
      model: 'iris',
      kind: 'tabular',
      columns: ['petal_length', 'kind'],
    });
    expect(JSON.parse(/-d '(.*)'$/.exec(known)?.[1] ?? '')).toEqual({ rows: [{ petal_length: 0, kind: 0 }] });
  });
});
