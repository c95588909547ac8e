/**
 * `node --import ./test/support/module-log.mjs …` appends the URL of every module the process
 * resolves to the file named by MODULE_LOG: tests use it to see what a CLI command loads (issue 17:
 * a client command must not load the server). Plain JavaScript: it runs before tsx could.
 */
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, result.url + '\\n');
      return result;
    }
  `)}`,
);
