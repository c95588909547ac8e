/**
 * The `herald` command line: run the service (`serve`, `api`, `worker`), apply migrations, and talk
 * to a running Herald over its API (docs/cli.md). The commands are listed in program.ts.
 */
import { buildProgram } from './program.ts';

const program = await buildProgram(process.argv.slice(2));
await program.parseAsync(process.argv);
