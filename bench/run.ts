/** `npm run bench -- NAME [options]`: the bench's composition root (reads argv, nothing else does). */
import { benchMain } from './cli.js';

process.exitCode = await benchMain(process.argv.slice(2));
