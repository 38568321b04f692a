/** OSC 7 parsing: the upload dialog's default directory comes from it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cwdFromOsc7 } from '../../src/web/osc7.js';

test('OSC 7 gives an absolute, decoded path; anything else is ignored', () => {
  assert.equal(cwdFromOsc7('file://shell/tmp/x'), '/tmp/x');
  assert.equal(cwdFromOsc7('file:///root'), '/root');
  assert.equal(cwdFromOsc7('file://h/a%20b/%C3%A9'), '/a b/é');
  for (const bad of ['', '/tmp', 'file://host', 'file://h/%E0%A4%A', 'file://h/a%00b', 'http://h/x', `file://h/${'a'.repeat(5000)}`]) assert.equal(cwdFromOsc7(bad), null, bad);
});
