/**
 * Starts the podterm CLI from the same build output as the bench (dist/, .build/NAME/, ...), so the
 * bench never runs a stale or foreign build. It is the bench's bin/podterm.js: argv and env go
 * straight to the composition root.
 */
import { main } from '../src/cli/main.js';

await main(process.argv.slice(2), process.env);
