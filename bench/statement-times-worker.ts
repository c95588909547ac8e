/** bench/statement-times.ts's `herald worker` (SPLIT=1): started from the API's environment (argv). */
import { loadConfig } from '../src/config/config.ts';
import { startHerald } from '../src/server/start.ts';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const herald = await startHerald(loadConfig({}, env), { api: false, worker: true }, { drainMs: 500 });
process.send?.('started');
process.once('message', async () => {
  await herald.stop();
  process.exit(0);
});
