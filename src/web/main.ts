/** Entry point of the terminal page (bundled by scripts/build-web.js into app.js). */
import { App } from './app.js';
import { installTestHook } from './test-hook.js';
import { RecordingsView } from './recordings-view.js';
import { SessionsPanel } from './sessions-panel.js';

const app = new App(document, window);
installTestHook(window, app);
app.start();
new RecordingsView(document);
new SessionsPanel(document, { isOpenHere: (id) => app.hasSession(id), attach: (item) => app.attachSession(item) });
