/**
 * What the publish statements wait on while a scenario runs (docs/performance.md, "Publish
 * latency"): `pg_stat_activity` sampled every few milliseconds on a connection of its own, and of
 * the samples that caught a publish statement running, the share of each wait — `IO:WALSync` (its
 * commit's flush of the write-ahead log), `CPU` (no wait: executing), `Lock:…` (a row lock another
 * transaction holds), and so on. Publish statements are the ones that open with the tenant's
 * key-share lock (`WITH tenant AS MATERIALIZED`, src/publish/publish-statements.ts).
 */
import pg from 'pg';

export interface PublishWaits {
  /** Polls of pg_stat_activity made. */
  samples: number;
  /** Publish statements seen running, over all samples. */
  seen: number;
  /** Share of `seen` by wait (`CPU` for none), largest first, in %. */
  shares: Record<string, number>;
}

const SAMPLE_SQL = `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait
  FROM pg_stat_activity
  WHERE state = 'active' AND datname = current_database() AND pid <> pg_backend_pid()
    AND query LIKE 'WITH tenant AS MATERIALIZED%'`;

/** Starts sampling; `stop()` ends it and answers the shares. */
export async function samplePublishWaits(
  dbUrl: string,
  everyMs = 5,
): Promise<{ stop(): Promise<PublishWaits> }> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ wait: string }>(SAMPLE_SQL);
      samples++;
      for (const r of rows) counts.set(r.wait, (counts.get(r.wait) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.finally(() => client.end());
      const seen = [...counts.values()].reduce((a, b) => a + b, 0);
      const shares: Record<string, number> = {};
      for (const [wait, n] of [...counts].sort((a, b) => b[1] - a[1]))
        shares[wait] = Math.round((1000 * n) / Math.max(1, seen)) / 10;
      return { samples, seen, shares };
    },
  };
}
