/** Pure parts of the sandbox: channel framing, protocol choice, resize decoding, query booleans, statuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage, negotiateProtocol } from '../../src/sandbox/channel-codec.js';
import { queryBool } from '../../src/sandbox/exec-request.js';
import { ResizeDecoder } from '../../src/sandbox/resize-decoder.js';
import { execStatusJson, execStatusText, httpErrors } from '../../src/sandbox/status.js';

test('protocol negotiation takes the first supported protocol in client order', () => {
  assert.equal(negotiateProtocol(undefined), '');
  assert.equal(negotiateProtocol('v5.channel.k8s.io'), 'v5.channel.k8s.io');
  assert.equal(negotiateProtocol('v4.channel.k8s.io, v5.channel.k8s.io'), 'v4.channel.k8s.io');
  assert.equal(negotiateProtocol('v3.channel.k8s.io,base64.channel.k8s.io,v5.channel.k8s.io'), 'base64.channel.k8s.io');
  assert.equal(negotiateProtocol('v2.channel.k8s.io, v3.channel.k8s.io'), null);
  assert.equal(negotiateProtocol('x, channel.k8s.io'), 'channel.k8s.io');
});

test('binary and base64 framing round-trip', () => {
  const bin = encodeMessage('v5.channel.k8s.io', 1, Buffer.from('hi'));
  assert.deepEqual(bin, { data: Buffer.from([1, 0x68, 0x69]), binary: true });
  const b64 = encodeMessage('v4.base64.channel.k8s.io', 2, Buffer.from('hi'));
  assert.deepEqual(b64, { data: '2aGk=', binary: false });
  assert.deepEqual(encodeMessage('base64.channel.k8s.io', 1, Buffer.alloc(0)), { data: '1', binary: false });
  assert.deepEqual(decodeMessage('base64.channel.k8s.io', Buffer.from('0aGk=')), { kind: 'data', channel: 0, payload: Buffer.from('hi') });
  assert.deepEqual(decodeMessage('v4.base64.channel.k8s.io', Buffer.from('0a?')), { kind: 'invalid', reason: 'bad base64' });
  assert.deepEqual(decodeMessage('v4.channel.k8s.io', Buffer.alloc(0)), { kind: 'skip' });
});

test('v5 close signal: exactly two bytes and a known stream, else invalid; other protocols treat 255 as data', () => {
  assert.deepEqual(decodeMessage('v5.channel.k8s.io', Buffer.from([255, 0])), { kind: 'close-stream', channel: 0 });
  assert.equal(decodeMessage('v5.channel.k8s.io', Buffer.from([255])).kind, 'invalid');
  assert.equal(decodeMessage('v5.channel.k8s.io', Buffer.from([255, 0, 0])).kind, 'invalid');
  assert.equal(decodeMessage('v5.channel.k8s.io', Buffer.from([255, 5])).kind, 'invalid');
  assert.deepEqual(decodeMessage('v4.channel.k8s.io', Buffer.from([255, 0])), { kind: 'data', channel: 255, payload: Buffer.from([0]) });
});

test('resize decoder: both spellings, any order, whitespace, split objects, stop at the first error', () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.push(Buffer.from('{"Width":100,"Height":30}\n')), [{ width: 100, height: 30 }]);
  assert.deepEqual(d.push(Buffer.from('{"height":40,')), []);
  assert.deepEqual(d.push(Buffer.from('"width":120}{"WIDTH":1,"hEiGhT":2, "other":"}"} ')), [
    { width: 120, height: 40 },
    { width: 1, height: 2 },
  ]);
  // A multi-byte character split across frames is not an error.
  const u = Buffer.from('{"x":"é","width":7,"height":8}');
  assert.deepEqual(d.push(u.subarray(0, 7)), []);
  assert.deepEqual(d.push(u.subarray(7)), [{ width: 7, height: 8 }]);
  assert.deepEqual(d.push(Buffer.from('{"width":5,"height":')), []);
  assert.deepEqual(d.push(Buffer.from('-1}{"width":9,"height":9}')), []);
  assert.equal(d.failed, true);
  assert.deepEqual(d.push(Buffer.from('{"width":9,"height":9}')), []);
});

test('resize decoder rejects what Go cannot decode into uint16', () => {
  for (const bad of ['{"width":70000,"height":1}', '{"width":"80","height":24}', '{"width":80.5,"height":24}', '[1,2]', 'nope', '{bad}']) {
    const d = new ResizeDecoder();
    assert.deepEqual(d.push(Buffer.from(bad)), [], bad);
    assert.equal(d.failed, true, bad);
  }
  const d = new ResizeDecoder();
  assert.deepEqual(d.push(Buffer.from('{"width":null,"height":3,"Foo":[{"a":1}]}')), [{ width: 0, height: 3 }]);
});

test('query booleans follow apimachinery: absent/0/false(any case) false, anything else true', () => {
  const q = new URLSearchParams('a=&b=0&c=FALSE&d=False&e=1&f=no&g=true&h=0&h=1');
  assert.equal(queryBool(q, 'missing'), false);
  assert.equal(queryBool(q, 'a'), true);
  assert.equal(queryBool(q, 'b'), false);
  assert.equal(queryBool(q, 'c'), false);
  assert.equal(queryBool(q, 'd'), false);
  assert.equal(queryBool(q, 'e'), true);
  assert.equal(queryBool(q, 'f'), true);
  assert.equal(queryBool(q, 'g'), true);
  assert.equal(queryBool(q, 'h'), false);
});

test('exec statuses are byte-exact', () => {
  assert.equal(execStatusJson({ kind: 'success' }), '{"metadata":{},"status":"Success"}');
  assert.equal(
    execStatusJson({ kind: 'exit', code: 3, command: ['sh', '-c', 'exit 3'] }),
    '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
  );
  assert.equal(
    execStatusJson({ kind: 'internal', message: 'boom' }),
    '{"metadata":{},"status":"Failure","message":"Internal error occurred: boom","reason":"InternalError","details":{"causes":[{"message":"boom"}]},"code":500}',
  );
  assert.equal(execStatusText({ kind: 'success' }), '');
  assert.equal(
    httpErrors.unauthorized().body,
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
  );
  assert.equal(
    JSON.parse(httpErrors.forbidden('restricted', 'list', 'pods', undefined, undefined).body).message,
    'pods is forbidden: User "restricted" cannot list resource "pods" in API group "" at the cluster scope',
  );
});
