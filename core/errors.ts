// Errors carry a code and say whether a retry can help (conventions §8).
export const ERRORS = {
  VIRAL_ERR_KAFKA_UNAVAILABLE: { status: 503, retriable: true, message: 'Kafka is unavailable; nothing was accepted' },
  VIRAL_ERR_CLICKHOUSE_UNAVAILABLE: { status: 503, retriable: true, message: 'ClickHouse is unavailable' },
  VIRAL_ERR_SQL_VALUE: { status: 400, retriable: false, message: 'invalid value for SQL' },
  VIRAL_ERR_BAD_PARAMETER: { status: 400, retriable: false, message: 'invalid parameter' },
  VIRAL_ERR_NOT_FOUND: { status: 404, retriable: false, message: 'not found' },
} as const;
export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retriable = ERRORS[code].retriable;
  }
}
