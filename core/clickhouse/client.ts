// The only file that knows the ClickHouse HTTP client (conventions §3). Every statement is an
// `Sql` built by ./sql.ts; every query gets a query_id and a server-side max_execution_time
// (abort only cancels the client side: clickhouse-18.md "Silent traps").
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors.ts';
import { isSql, type Sql } from './sql.ts';

export interface ClickHouseOptions {
  url: string;
  username?: string;
  password?: string;
  /** Optional hook that sees every statement sent (fuzz tests check them against sql.ts rules). */
  onStatement?: (text: string) => void;
  log?: Logger;
  maxOpenConnections?: number;
}

export interface QueryOptions {
  /** Server-side limit, seconds (default 30). */
  maxExecutionTime?: number;
  queryId?: string;
}

export interface ClickHouse {
  query<T = Record<string, unknown>>(statement: Sql, options?: QueryOptions): Promise<T[]>;
  /** Streams rows in chunks (for restores of large tables). */
  stream<T = Record<string, unknown>>(statement: Sql, onRows: (rows: T[]) => void, options?: QueryOptions): Promise<void>;
  command(statement: Sql, options?: QueryOptions): Promise<void>;
  /** JSONEachRow insert of full rows (every column sent: omitted fields would get zero values on 18.16). */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** ClickHouse error code from a message (18.16 errors carry no `.code`): `Code: 60. DB::Exception…`. */
export function clickhouseErrorCode(err: unknown): number | undefined {
  const m = /Code: (\d+)/.exec(err instanceof Error ? err.message : String(err));
  return m ? Number(m[1]) : undefined;
}

/** True for failures a retry can fix (network, server down, timeouts), false for bad SQL/data. */
export function isRetriable(err: unknown): boolean {
  const code = clickhouseErrorCode(err);
  if (code !== undefined) return [159, 164, 202, 203, 209, 210, 241, 252, 425].includes(code);
  return true; // no ClickHouse code: connection refused, reset, timeout
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export function createClickHouse(o: ClickHouseOptions): ClickHouse {
  const client: ClickHouseClient = createClient({
    url: o.url,
    username: o.username ?? 'default',
    password: o.password ?? '',
    request_timeout: 60_000,
    max_open_connections: o.maxOpenConnections ?? 10,
    compression: { request: false, response: false },
    keep_alive: { enabled: true },
  });

  function check(statement: Sql): string {
    if (!isSql(statement)) throw new AppError('VIRAL_ERR_SQL_VALUE', 'statement is not an Sql fragment');
    o.onStatement?.(statement.text);
    return statement.text;
  }
  // max_query_size: long string literals (up to sql.ts MAX_STRING_LENGTH, escaped) must parse.
  const settings = (opt?: QueryOptions) => ({ max_execution_time: opt?.maxExecutionTime ?? 30, max_query_size: '4194304' });

  return {
    async query<T>(statement: Sql, opt?: QueryOptions): Promise<T[]> {
      const rs = await client.query({
        query: check(statement),
        format: 'JSONEachRow',
        query_id: opt?.queryId ?? randomUUID(),
        clickhouse_settings: settings(opt),
      });
      return (await rs.json()) as T[];
    },
    async stream<T>(statement: Sql, onRows: (rows: T[]) => void, opt?: QueryOptions): Promise<void> {
      const rs = await client.query({
        query: check(statement),
        format: 'JSONEachRow',
        query_id: opt?.queryId ?? randomUUID(),
        clickhouse_settings: settings({ maxExecutionTime: opt?.maxExecutionTime ?? 600 }),
      });
      for await (const chunk of rs.stream()) {
        onRows((chunk as { json: () => T }[]).map((r) => r.json()));
      }
    },
    async command(statement: Sql, opt?: QueryOptions): Promise<void> {
      await client.command({ query: check(statement), query_id: opt?.queryId ?? randomUUID(), clickhouse_settings: settings(opt) });
    },
    async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
      if (!TABLE.test(table)) throw new AppError('VIRAL_ERR_SQL_VALUE', `invalid table name ${table}`);
      if (rows.length === 0) return;
      o.onStatement?.(`INSERT INTO ${table} FORMAT JSONEachRow`);
      await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
    },
    async ping(): Promise<boolean> {
      try {
        const r = await client.ping();
        return r.success;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
