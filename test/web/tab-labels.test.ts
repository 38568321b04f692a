/** Tab labels: short unless two tabs would look alike across namespaces (issue 8 item 13). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tabLabels } from '../../src/web/tab-labels.js';

const t = (namespace: string, pod: string, container: string) => ({ namespace, pod, container });

test('tab labels are pod/container, with the namespace only where two would look alike', () => {
  assert.deepEqual(tabLabels([]), []);
  assert.deepEqual(tabLabels([t('default', 'shell', 'main'), t('default', 'multi', 'app')]), ['shell/main', 'multi/app']);
  // Two shells in one container are the same target: they look alike, and may.
  assert.deepEqual(tabLabels([t('default', 'shell', 'main'), t('default', 'shell', 'main')]), ['shell/main', 'shell/main']);
  assert.deepEqual(
    tabLabels([t('default', 'shell', 'main'), t('team-b', 'shell', 'main'), t('team-b', 'shell', 'other'), t('default', 'shell', 'main')]),
    ['default/shell/main', 'team-b/shell/main', 'shell/other', 'default/shell/main'],
  );
});
